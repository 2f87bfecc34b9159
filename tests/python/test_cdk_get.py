"""CDK users who generate their own bindings: `cdktn get` (CDK Terrain, the maintained successor of CDKTF, which has
no prebuilt tfe bindings) and `cdktf get` (CDKTF 0.21) read this provider's schema from a filesystem mirror laid
out as `make install` lays it out, under both of its addresses (hashicorp/tfe and tferun/tfe); the same CLI then
synthesises tests/cdk_get/main.py, the tfe_workspace_run page's three Python examples, each once drop-in and
once side by side (six stacks a CLI); Terraform (the one on PATH) installs the providers from the mirror and
applies and destroys every stack against a tfe-emulator of its own; the emulator tells which runs were made,
how they ended, in which order, and who confirmed them.

Each CLI generates and synthesises once (about 15 s and 5 s on an idle machine); its six stacks are then
applied and destroyed at the same time, each against its own emulator, since they mostly wait on runs.

In the side-by-side stacks the organization, OAuth client and workspaces belong to the provider installed as
hashicorp/tfe: for CDKTF that is HashiCorp's prebuilt bindings (cdktf-cdktf-provider-tfe 12.5.1, pinning
hashicorp/tfe 0.71.0). The official provider cannot be fetched offline, so the mirror serves this provider's
binary under that version too; what is tested is the part a user of this provider writes: two providers in
one stack, each tfe_workspace_run naming `tferun`.

Needs `make tools` (its cdk-tools part: Node.js 22, cdktn-cli, cdktf-cli and the cdktn venv under .tools/cdk; the
CDKTF venv .tools/venv), `terraform` on PATH, and `cargo build` (target/debug/terraform-provider-tfe and
tfe-emulator).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import ssl
import subprocess
import threading
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path

import pytest
from conftest import REPO, TOKEN, Emulator

CDK_TOOLS = REPO / ".tools" / "cdk"
CDK_BIN = CDK_TOOLS / "bin"  # node, npm, cdktn, cdktf
# Each CLI's Python library: CDK Terrain's wants constructs < 10.8, so it has a venv of its own.
VENV_BINS = {"cdktn": CDK_TOOLS / "cdktn-venv" / "bin", "cdktf": REPO / ".tools" / "venv" / "bin"}
PYTHON_MODULES = {"cdktn": ("cdktn", "constructs"), "cdktf": ("cdktf", "constructs", "cdktf_cdktf_provider_tfe")}
APP = REPO / "tests" / "cdk_get" / "main.py"
PROVIDER = REPO / "target" / "debug" / "terraform-provider-tfe"
VERSION = re.search(r'^version = "(.+)"', (REPO / "Cargo.toml").read_text(), re.MULTILINE).group(1)
CONSTRAINT = f"~> {VERSION}"
# What cdktf-cdktf-provider-tfe 12.5.1 puts in required_providers for hashicorp/tfe.
PREBUILT_VERSION = "0.71.0"
MINIMUM_NODE = (22, 19)  # cdktn-cli 0.24.0's engines field

CLIS = ("cdktn", "cdktf")
INSTALLS = ("drop-in", "side-by-side")
EXAMPLES = ("multiple-workspaces", "manual-confirmation", "no-retries")
RESOURCES = {"multiple-workspaces": 6, "manual-confirmation": 4, "no-retries": 4}
# The tfe_workspace_run blocks as the page writes them: what the bindings must hand Terraform.
PAGE_RUNS = {
    "multiple-workspaces": {
        "ws_run_parent": {
            "apply": {"manual_confirm": False, "retry_attempts": 5, "retry_backoff_min": 5, "wait_for_run": True},
            "destroy": {"manual_confirm": False, "retry_attempts": 3, "retry_backoff_min": 10, "wait_for_run": True},
            "workspace_id": "${tfe_workspace.parent.id}",
        },
        "ws_run_child": {
            "apply": {"manual_confirm": False, "retry_attempts": 5, "retry_backoff_min": 5},
            "destroy": {"manual_confirm": False, "retry_attempts": 3, "retry_backoff_min": 10, "wait_for_run": True},
            "workspace_id": "${tfe_workspace.child.id}",
            "depends_on": ["tfe_workspace_run.ws_run_parent"],
        },
    },
    "manual-confirmation": {
        "ws_run_parent": {
            "apply": {"manual_confirm": True},
            "destroy": {"manual_confirm": True, "wait_for_run": True},
            "workspace_id": "${tfe_workspace.parent.id}",
        },
    },
    "no-retries": {
        "ws_run_parent": {
            "apply": {"manual_confirm": False, "retry": False},
            "destroy": {"manual_confirm": False, "retry": False, "wait_for_run": True},
            "workspace_id": "${tfe_workspace.parent.id}",
        },
    },
}
CONFIRMABLE = {"planned", "cost_estimated", "policy_checked"}


def require_tools(cli: str) -> None:
    """Fails, naming what to install, when something this test runs is missing."""
    fix = "run `make cdk-tools` (part of `make tools`)"
    node = CDK_BIN / "node"
    if not node.exists():
        pytest.fail(f"no Node.js at {node}: {fix}", pytrace=False)
    found = subprocess.run([str(node), "--version"], capture_output=True, text=True).stdout.strip()
    major_minor = tuple(int(part) for part in found.lstrip("v").split(".")[:2])
    if major_minor < MINIMUM_NODE:
        pytest.fail(f"{node} is Node.js {found}; cdktn-cli needs >= {'.'.join(map(str, MINIMUM_NODE))}: {fix}",
                    pytrace=False)
    if not (CDK_BIN / cli).exists():
        pytest.fail(f"no {cli} CLI at {CDK_BIN / cli}: {fix}", pytrace=False)
    python = VENV_BINS[cli] / "python3"
    modules = PYTHON_MODULES[cli]
    probe = "import importlib.util, sys; sys.exit(0 if all(importlib.util.find_spec(m) for m in sys.argv[1:]) else 1)"
    if not python.exists() or subprocess.run([str(python), "-c", probe, *modules]).returncode != 0:
        pytest.fail(f"the Python modules {', '.join(modules)} are not all in {python}: {fix}", pytrace=False)
    if shutil.which("terraform") is None:
        pytest.fail("no 'terraform' on PATH: the CLIs and this test run the Terraform CLI on PATH", pytrace=False)
    if not PROVIDER.is_file():
        pytest.fail(f"no provider binary at {PROVIDER}: run `cargo build`", pytrace=False)


def lay_out_mirror(mirror: Path) -> None:
    """The layout `make install` writes (the version of Cargo.toml under both addresses), plus hashicorp/tfe at
    the version the prebuilt CDKTF bindings pin, standing in for the official provider."""
    platform = "linux_amd64" if os.uname().machine == "x86_64" else "linux_arm64"
    for address, version in (("hashicorp/tfe", VERSION), ("tferun/tfe", VERSION), ("hashicorp/tfe", PREBUILT_VERSION)):
        folder = mirror / "registry.terraform.io" / address / version / platform
        folder.mkdir(parents=True)
        (folder / f"terraform-provider-tfe_v{version}").symlink_to(PROVIDER)


def cdktf_json(cli: str) -> dict:
    """The project file both CLIs read (the guide shows the same)."""
    return {
        "language": "python",
        "app": f"python3 main.py {cli}",
        "terraformProviders": [
            f"hashicorp/tfe@{CONSTRAINT}",
            {"name": "tferun", "source": "tferun/tfe", "version": CONSTRAINT},
        ],
        "codeMakerOutput": "imports",
    }


def run(command: list[str], cwd: Path, env: dict, what: str, timeout: int) -> str:
    done = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    output = done.stdout + done.stderr
    assert done.returncode == 0, f"{what} failed (exit {done.returncode}):\n{output}"
    assert TOKEN not in output
    return output


class GeneratedProject:
    """One CLI's project: bindings generated from the mirror, then the app synthesised into six stacks."""

    def __init__(self, cli: str, folder: Path, cli_config: Path):
        require_tools(cli)
        self.cli = cli
        folder.mkdir()
        (folder / "cdktf.json").write_text(json.dumps(cdktf_json(cli), indent=2))
        shutil.copy(APP, folder / "main.py")
        home = folder / "home"  # the CLIs' caches and settings, kept out of the user's home
        home.mkdir()
        env = {k: v for k, v in os.environ.items() if not k.startswith(("TF_", "TFE_"))}
        env.update(
            PATH=os.pathsep.join([str(CDK_BIN), str(VENV_BINS[cli]), env.get("PATH", "")]),
            HOME=str(home),
            TF_CLI_CONFIG_FILE=str(cli_config),
            CHECKPOINT_DISABLE="1",
            CI="1",
        )
        self.env = env

        started = time.monotonic()
        run([str(CDK_BIN / cli), "get"], folder, env, f"`{cli} get`", timeout=900)
        self.get_seconds = time.monotonic() - started
        versions = json.loads((folder / "imports" / "versions.json").read_text())
        assert versions == {
            "registry.terraform.io/hashicorp/tfe": VERSION,
            "registry.terraform.io/tferun/tfe": VERSION,
        }, f"`{cli} get` generated bindings for other providers than the mirror's: {versions}"

        started = time.monotonic()
        run([str(CDK_BIN / cli), "synth"], folder, env, f"`{cli} synth`", timeout=600)
        self.synth_seconds = time.monotonic() - started
        self.stacks = folder / "cdktf.out" / "stacks"
        expected = {f"{install}-{example}" for install in INSTALLS for example in EXAMPLES}
        assert {p.name for p in self.stacks.iterdir()} == expected
        print(f"{cli} get: {self.get_seconds:.1f} s, {cli} synth: {self.synth_seconds:.1f} s")


class CdkSession:
    """The mirror and CLI configuration shared by the tests, and each CLI's project, generated on first use."""

    def __init__(self, root: Path):
        self.root = root
        self.mirror = root / "mirror"
        lay_out_mirror(self.mirror)
        # The guide's drop-in configuration without its `direct` block: nothing is fetched from the network.
        self.cli_config = root / "mirror.tfrc"
        self.cli_config.write_text(
            "provider_installation {\n"
            f'  filesystem_mirror {{\n    path    = "{self.mirror}"\n'
            '    include = ["hashicorp/tfe", "tferun/tfe"]\n  }\n'
            "}\n"
        )
        self._projects: dict[str, GeneratedProject] = {}

    def project(self, cli: str) -> GeneratedProject:
        if cli not in self._projects:
            self._projects[cli] = GeneratedProject(cli, self.root / cli, self.cli_config)
        return self._projects[cli]


@pytest.fixture(scope="session")
def cdk_session(tmp_path_factory):
    return CdkSession(tmp_path_factory.mktemp("cdk-get"))


class Person(threading.Thread):
    """Plays the person who confirms runs in the UI: confirms, through the API, every run that waits for it."""

    def __init__(self, emu: Emulator):
        super().__init__(daemon=True)
        self.emu = emu
        self.confirmed: dict[str, tuple[float, float]] = {}  # run id -> (before, after) the request, epoch s
        self.stopping = threading.Event()
        self.error: Exception | None = None

    def run(self) -> None:
        context = ssl.create_default_context(cafile=str(self.emu.ca_file))
        try:
            while not self.stopping.wait(0.05):
                for r in self.emu.runs():
                    if r["status"] in CONFIRMABLE and r["id"] not in self.confirmed:
                        request = urllib.request.Request(
                            f"{self.emu.base_url}/api/v2/runs/{r['id']}/actions/apply", data=b"{}", method="POST",
                            headers={"authorization": f"Bearer {TOKEN}", "content-type": "application/vnd.api+json"},
                        )
                        before = time.time()
                        urllib.request.urlopen(request, context=context, timeout=10).close()
                        self.confirmed[r["id"]] = (before, time.time())
        except Exception as error:  # reported by the test, not lost in the thread
            self.error = error


def epoch(timestamp: str) -> float:
    return datetime.fromisoformat(timestamp.replace("Z", "+00:00")).timestamp()


def expected_providers(cli: str, install: str) -> dict:
    """required_providers as the bindings write it: each pins the exact version it was generated from, whatever
    the constraint in cdktf.json (so a new provider version needs a new `get`)."""
    if install == "drop-in":
        return {"tfe": {"source": "hashicorp/tfe", "version": VERSION}}
    return {
        "tfe": {"source": "hashicorp/tfe", "version": PREBUILT_VERSION if cli == "cdktf" else VERSION},
        "tferun": {"source": "tferun/tfe", "version": VERSION},
    }


def locked_providers(stack_dir: Path) -> dict[str, str]:
    lock = (stack_dir / ".terraform.lock.hcl").read_text()
    return dict(re.findall(r'provider "registry\.terraform\.io/([^"]+)" \{\s*version\s*=\s*"([^"]+)"', lock))


def apply_and_destroy(project: GeneratedProject, cli: str, install: str, example: str, tmp: Path) -> None:
    """One stack: its synthesised configuration, then init, apply and destroy against a fresh emulator, and what
    the emulator saw. Raises AssertionError naming what a user would have noticed."""
    stack_dir = project.stacks / f"{install}-{example}"
    config_text = (stack_dir / "cdk.tf.json").read_text()
    assert TOKEN not in config_text
    config = json.loads(config_text)
    providers = expected_providers(cli, install)
    assert config["terraform"]["required_providers"] == providers
    runs_config = config["resource"]["tfe_workspace_run"]
    run_provider = {"provider": "tferun"} if install == "side-by-side" else {}
    written = {name: {k: v for k, v in r.items() if k != "//"} for name, r in runs_config.items()}
    assert written == {name: {**r, **run_provider} for name, r in PAGE_RUNS[example].items()}
    for kind, resources in config["resource"].items():
        if kind != "tfe_workspace_run":
            assert all("provider" not in r for r in resources.values()), f"{kind} should use the default provider"

    tmp.mkdir()
    emu = Emulator(tmp, https=True)
    try:
        # Short phases keep the test quick; the provider still polls through every state.
        emu.admin("PUT", "/_emulator/knobs", {"plan_ms": 150, "apply_ms": 150})
        env = dict(project.env, TF_IN_AUTOMATION="1", TF_INPUT="0", SSL_CERT_FILE=str(emu.ca_file),
                   TFE_TOKEN=TOKEN, TFE_HOSTNAME=emu.base_url.removeprefix("https://"))

        def terraform(*args: str) -> str:
            return run(["terraform", *args, "-no-color"], stack_dir, env, f"`terraform {args[0]}` of {stack_dir.name}",
                       timeout=300)

        def state_ids() -> dict[str, str]:
            shown = json.loads(terraform("show", "-json"))
            resources = shown.get("values", {}).get("root_module", {}).get("resources", [])
            return {r["name"]: r["values"]["id"] for r in resources}

        terraform("init")
        wanted = {p["source"]: p["version"] for p in providers.values()}
        assert locked_providers(stack_dir) == wanted, "terraform init installed other providers from the mirror"
        person = Person(emu) if example == "manual-confirmation" else None
        if person:
            person.start()
        try:
            applied = terraform("apply", "-auto-approve")
            assert f"Apply complete! Resources: {RESOURCES[example]} added" in applied, applied
            state = state_ids()
            destroyed = terraform("destroy", "-auto-approve")
            assert f"Destroy complete! Resources: {RESOURCES[example]} destroyed" in destroyed, destroyed
            assert state_ids() == {}
        finally:
            if person:
                person.stopping.set()
                person.join(timeout=5)
        check_runs(emu, example, runs_config, state, person)
    finally:
        emu.stop()


def check_runs(emu: Emulator, example: str, runs_config: dict, state: dict, person: Person | None) -> None:
    """The runs the emulator recorded: one apply then one destroy in each workspace, both applied, in the order the
    example's dependencies give; confirmed by the person with manual_confirm, by the provider otherwise."""
    assert emu.runs() == [], "every workspace should be gone, and with it its runs"
    deleted = emu.admin("GET", "/_emulator/runs/deleted")["runs"]
    workspaces = {"ws_run_parent": "parent-ws", "ws_run_child": "child-ws"}
    by_workspace: dict[str, list[dict]] = {}
    for r in deleted:
        by_workspace.setdefault(r["workspace"], []).append(r)
    assert set(by_workspace) == {workspaces[name] for name in runs_config}, f"runs: {deleted}"
    for name in runs_config:
        runs = by_workspace[workspaces[name]]
        summary = [(r["is_destroy"], r["status"]) for r in runs]
        assert summary == [(False, "applied"), (True, "applied")], f"{workspaces[name]}: {runs}"
        assert runs[0]["id"] == state[name], f"{name}'s id in state is not its apply run"

    if example == "multiple-workspaces":
        parent_apply, parent_destroy = (r["order"] for r in by_workspace["parent-ws"])
        child_apply, child_destroy = (r["order"] for r in by_workspace["child-ws"])
        # depends_on: the child's apply is queued after the parent's, its destroy before the parent's.
        assert parent_apply < child_apply < child_destroy < parent_destroy, f"runs: {deleted}"

    requests = emu.admin("GET", "/_emulator/requests")
    provider_confirms = [
        e["path"].split("/")[-3] for e in requests["requests"]
        if e["method"] == "POST" and e["path"].endswith("/actions/apply")
        and "terraform-provider-tfe" in (e.get("user_agent") or "")
    ]
    run_ids = [r["id"] for r in deleted]
    if person is None:
        # The provider would confirm them itself, so it queues them with auto-apply: they apply by
        # themselves, with no confirm request.
        assert provider_confirms == [], "a run queued with auto-apply needs no confirm"
        assert all(r["auto_apply"] for r in deleted), f"with manual_confirm = false runs auto-apply: {deleted}"
    else:
        assert person.error is None, f"confirming through the API failed: {person.error}"
        assert not any(r["auto_apply"] for r in deleted), f"a run a person confirms never auto-applies: {deleted}"
        assert provider_confirms == [], "with manual_confirm = true the provider must not confirm runs itself"
        assert sorted(person.confirmed) == sorted(run_ids), "each run should have waited for the person"
        for r in deleted:
            stamps = r["status_timestamps"]
            before, after = person.confirmed[r["id"]]
            confirmed_at = epoch(stamps["confirmed-at"])
            # Rounded to the millisecond by the emulator: confirmed by the person's request, after the plan.
            assert before - 0.002 <= confirmed_at <= after + 0.002, f"{r['id']}: {stamps}"
            assert epoch(stamps["planned-at"]) <= confirmed_at <= epoch(stamps["applied-at"]), stamps

    counts = requests["counters"]["by_route"]
    assert counts.get("DELETE /api/v2/organizations/{org}") == 1
    assert counts.get("DELETE /api/v2/oauth-clients/{id}") == 1


@pytest.mark.parametrize("cli", CLIS)
def test_generated_bindings_apply_and_destroy_the_page_examples(cdk_session, cli, tmp_path):
    project = cdk_session.project(cli)
    stacks = [(install, example) for install in INSTALLS for example in EXAMPLES]
    with ThreadPoolExecutor(max_workers=len(stacks)) as pool:
        outcomes = {
            f"{install}-{example}": pool.submit(
                apply_and_destroy, project, cli, install, example, tmp_path / f"{install}-{example}"
            )
            for install, example in stacks
        }
    failures = []
    for stack, outcome in outcomes.items():
        error = outcome.exception()
        if error is not None:
            failures.append(f"stack {stack} ({cli}): {type(error).__name__}: {error}")
    assert not failures, "\n\n".join(failures)
