"""CDKTF end to end: HashiCorp's prebuilt tfe bindings (cdktf-cdktf-provider-tfe 12.5.1, generated from the
official provider's schema) synthesise the tfe_workspace_run page's examples; Terraform applies and destroys the
synthesised cdk.tf.json through this provider (dev_overrides) against a tfe-emulator started here; the emulator's
admin API tells which runs were created and how they ended.

Needs: `make tools` (cdktf, the bindings and constructs in .tools/venv), node and terraform on PATH, and
`cargo build` (target/debug/terraform-provider-tfe and tfe-emulator).
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import ssl
import subprocess
import sys
import threading
import urllib.request
from pathlib import Path

import pytest
from conftest import REPO, TOKEN, Emulator

APP = REPO / "tests" / "cdktf" / "app.py"
PROVIDER_DIR = REPO / "target" / "debug"
# The version cdktf-cdktf-provider-tfe 12.5.1 pins in required_providers.
BINDINGS_PROVIDER_VERSION = "0.71.0"
CONFIRMABLE = {"planned", "cost_estimated", "policy_checked"}


def require_tools() -> None:
    missing = []
    # find_spec rather than import: importing cdktf starts a node process.
    for module in ("cdktf", "cdktf_cdktf_provider_tfe", "constructs"):
        if importlib.util.find_spec(module) is None:
            missing.append(f"Python module {module} (in {sys.executable})")
    for program in ("node", "terraform"):
        if shutil.which(program) is None:
            missing.append(f"'{program}' on PATH")
    if missing:
        pytest.fail(
            "CDKTF test needs " + ", ".join(missing) + ": `make tools` installs the Python packages into .tools/venv; "
            "node and terraform come from the system",
            pytrace=False,
        )
    if not (PROVIDER_DIR / "terraform-provider-tfe").is_file():
        pytest.fail(f"no provider binary in {PROVIDER_DIR}: run `cargo build`", pytrace=False)


@pytest.fixture
def https_emulator(tmp_path):
    require_tools()
    emu = Emulator(tmp_path, https=True)
    # Short phases keep the test quick; the provider still has to poll through every state.
    emu.admin("PUT", "/_emulator/knobs", {"plan_ms": 150, "apply_ms": 150})
    yield emu
    emu.stop()


def seed(emu: Emulator, *names: str) -> list[str]:
    workspaces = [{"organization": "cdktf-org", "name": n, "vcs": True, "auto_apply": False} for n in names]
    answer = emu.admin("POST", "/_emulator/seed", {"organizations": [{"name": "cdktf-org"}], "workspaces": workspaces})
    ids = {w["name"]: w["id"] for w in answer["workspaces"]}
    return [ids[n] for n in names]


class Project:
    """A synthesised stack plus the CLI configuration and environment Terraform runs it with."""

    def __init__(self, tmp: Path, emu: Emulator, example: str, workspace_ids: list[str]):
        self.emu = emu
        hostname = emu.base_url.removeprefix("https://")
        env = {k: v for k, v in os.environ.items() if not k.startswith(("TF_", "TFE_"))}
        env["JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION"] = "20"
        synth = subprocess.run(
            [sys.executable, str(APP), str(tmp / "cdktf.out"), example, hostname, *workspace_ids],
            env=env, capture_output=True, text=True, timeout=180,
        )
        assert synth.returncode == 0, f"cdktf synth failed:\n{synth.stdout}\n{synth.stderr}"
        self.stack_dir = tmp / "cdktf.out" / "stacks" / example
        self.config = json.loads((self.stack_dir / "cdk.tf.json").read_text())
        assert TOKEN not in (self.stack_dir / "cdk.tf.json").read_text()

        # dev_overrides serves plan/apply/destroy. cdktf always writes a local backend, which only `terraform
        # init` sets up, and init insists on installing every required provider even when overridden: a
        # filesystem mirror holding the same binary under the version the bindings pin satisfies it offline.
        mirror = tmp / "mirror"
        platform = "linux_amd64" if os.uname().machine == "x86_64" else "linux_arm64"
        target = mirror / "registry.terraform.io" / "hashicorp" / "tfe" / BINDINGS_PROVIDER_VERSION / platform
        target.mkdir(parents=True)
        (target / f"terraform-provider-tfe_v{BINDINGS_PROVIDER_VERSION}").symlink_to(
            PROVIDER_DIR / "terraform-provider-tfe"
        )
        cli_config = tmp / "cdktf.tfrc"
        cli_config.write_text(
            "provider_installation {\n"
            f'  dev_overrides {{\n    "hashicorp/tfe" = "{PROVIDER_DIR}"\n  }}\n'
            f'  filesystem_mirror {{\n    path    = "{mirror}"\n    include = ["hashicorp/tfe"]\n  }}\n'
            "}\n"
        )
        env.update(TF_CLI_CONFIG_FILE=str(cli_config), TF_IN_AUTOMATION="1", TF_INPUT="0",
                   SSL_CERT_FILE=str(emu.ca_file), TFE_TOKEN=TOKEN)
        self.env = env

    def terraform(self, *args: str) -> str:
        command = ["terraform", f"-chdir={self.stack_dir}", *args, "-no-color"]
        done = subprocess.run(command, env=self.env, capture_output=True, text=True, timeout=300)
        output = done.stdout + done.stderr
        assert done.returncode == 0, f"`terraform {' '.join(args)}` failed:\n{output}"
        assert TOKEN not in output
        return output

    def state_ids(self) -> dict[str, str]:
        shown = json.loads(self.terraform("show", "-json"))
        resources = shown.get("values", {}).get("root_module", {}).get("resources", [])
        return {r["name"]: r["values"]["id"] for r in resources}

    def apply_and_destroy(self) -> dict[str, str]:
        self.terraform("init")
        self.terraform("apply", "-auto-approve")
        ids = self.state_ids()
        self.terraform("destroy", "-auto-approve")
        assert self.state_ids() == {}
        return ids


def runs_by_workspace(emu: Emulator) -> dict[str, list[dict]]:
    grouped: dict[str, list[dict]] = {}
    for run in emu.runs():
        grouped.setdefault(run["workspace_id"], []).append(run)
    return grouped


def assert_one_apply_then_one_destroy(runs: list[dict], state_id: str) -> None:
    """Exactly an apply run (the id in state) and then a destroy run, both applied."""
    summary = [(r["is_destroy"], r["status"]) for r in runs]
    assert summary == [(False, "applied"), (True, "applied")], f"runs in the workspace: {runs}"
    assert runs[0]["id"] == state_id


def test_parent_and_child_runs_from_the_prebuilt_bindings(https_emulator, tmp_path):
    emulator = https_emulator
    parent_id, child_id = seed(emulator, "parent-ws", "child-ws")
    project = Project(tmp_path, emulator, "parent_child", [parent_id, child_id])
    resources = project.config["resource"]["tfe_workspace_run"]
    assert resources["ws_run_child"]["depends_on"] == ["tfe_workspace_run.ws_run_parent"]

    state = project.apply_and_destroy()

    runs = runs_by_workspace(emulator)
    assert_one_apply_then_one_destroy(runs[parent_id], state["ws_run_parent"])
    assert_one_apply_then_one_destroy(runs[child_id], state["ws_run_child"])
    order = {run["id"]: run["order"] for run in emulator.runs()}
    parent_apply, parent_destroy = (r["id"] for r in runs[parent_id])
    child_apply, child_destroy = (r["id"] for r in runs[child_id])
    # depends_on: the child's apply is queued after the parent's, its destroy before the parent's.
    assert order[parent_apply] < order[child_apply] < order[child_destroy] < order[parent_destroy]


def test_no_retries_example_applies_and_destroys(https_emulator, tmp_path):
    emulator = https_emulator
    (workspace_id,) = seed(emulator, "solo-ws")
    project = Project(tmp_path, emulator, "no_retries", [workspace_id])
    assert project.config["resource"]["tfe_workspace_run"]["ws_run_parent"]["apply"]["retry"] is False

    state = project.apply_and_destroy()

    assert_one_apply_then_one_destroy(runs_by_workspace(emulator)[workspace_id], state["ws_run_parent"])


class Confirmer(threading.Thread):
    """Plays the person who confirms runs in the UI: confirms every confirmable run in one workspace."""

    def __init__(self, emu: Emulator, workspace_id: str):
        super().__init__(daemon=True)
        self.emu, self.workspace_id = emu, workspace_id
        self.confirmed: list[str] = []
        self.stopping = threading.Event()

    def run(self) -> None:
        context = ssl.create_default_context(cafile=str(self.emu.ca_file))
        while not self.stopping.wait(0.1):
            for run in self.emu.runs():
                if run["workspace_id"] == self.workspace_id and run["status"] in CONFIRMABLE \
                        and run["id"] not in self.confirmed:
                    request = urllib.request.Request(
                        f"{self.emu.base_url}/api/v2/runs/{run['id']}/actions/apply", data=b"{}", method="POST",
                        headers={"authorization": f"Bearer {TOKEN}", "content-type": "application/vnd.api+json"},
                    )
                    urllib.request.urlopen(request, context=context, timeout=10).close()
                    self.confirmed.append(run["id"])


def test_manual_confirm_waits_for_someone_to_confirm(https_emulator, tmp_path):
    emulator = https_emulator
    (workspace_id,) = seed(emulator, "manual-ws")
    project = Project(tmp_path, emulator, "manual", [workspace_id])
    confirmer = Confirmer(emulator, workspace_id)
    confirmer.start()
    try:
        state = project.apply_and_destroy()
    finally:
        confirmer.stopping.set()
        confirmer.join(timeout=5)

    runs = runs_by_workspace(emulator)[workspace_id]
    assert_one_apply_then_one_destroy(runs, state["ws_run_parent"])
    assert confirmer.confirmed == [r["id"] for r in runs], "each run should have waited for the person to confirm it"
    provider_confirms = [
        e for e in emulator.admin("GET", "/_emulator/requests")["requests"]
        if e["method"] == "POST" and e["path"].endswith("/actions/apply")
        and "terraform-provider-tfe" in (e.get("user_agent") or "")
    ]
    assert provider_confirms == [], "with manual_confirm = true the provider must not confirm runs itself"


def test_seed_first_example_creates_and_deletes_everything(https_emulator, tmp_path):
    emulator = https_emulator
    project = Project(tmp_path, emulator, "seed_first", [])
    resources = project.config["resource"]
    assert set(resources) == {"tfe_organization", "tfe_oauth_client", "tfe_workspace", "tfe_workspace_run"}

    project.terraform("init")
    project.terraform("apply", "-auto-approve")
    state = project.state_ids()
    assert state["test-organization"] == "my-org-name"
    assert state["test"].startswith("oc-")
    workspaces = {name: state[name] for name in ("parent", "child")}
    live = {run["workspace_id"] for run in emulator.runs()}
    assert live == set(workspaces.values()), f"one apply run per workspace expected: {emulator.runs()}"
    project.terraform("destroy", "-auto-approve")
    assert project.state_ids() == {}

    deleted = emulator.admin("GET", "/_emulator/runs/deleted")["runs"]
    for name, workspace_id in workspaces.items():
        runs = [r for r in deleted if r["workspace_id"] == workspace_id]
        assert_one_apply_then_one_destroy(runs, state[f"ws_run_{name}"])
        assert runs[0]["workspace"] == f"{name}-ws"
    assert emulator.runs() == []
    counts = emulator.admin("GET", "/_emulator/requests")["counters"]["by_route"]
    assert counts.get("DELETE /api/v2/organizations/{org}") == 1
    assert counts.get("DELETE /api/v2/oauth-clients/{id}") == 1
    # Both workspaces went through safe delete (force_delete defaults to false), not a plain DELETE.
    safe_deletes = [
        e for e in emulator.admin("GET", "/_emulator/requests")["requests"]
        if e["method"] == "POST" and e["path"].endswith("/actions/safe-delete")
    ]
    assert sorted(e["path"].split("/")[-3] for e in safe_deletes) == sorted(workspaces.values())
    assert counts.get("DELETE /api/v2/workspaces/{id}", 0) == 0
