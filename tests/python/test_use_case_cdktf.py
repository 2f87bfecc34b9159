"""CDKTF end to end for use case 2 of the tfe_workspace_run page (examples/use-cases/queue-all-runs/cdktf/main.py):
HashiCorp's prebuilt tfe bindings (cdktf-cdktf-provider-tfe 12.5.1) synthesise the example, and both Terraform CLIs
(`terraform` on PATH and .tools/bin/terraform-1.0.3) apply and destroy it through this provider against a
tfe-emulator whose workspaces' configuration requires the `region` variable. The queue_all_runs = True workspace's
first run fails for the missing variable (the race the emulator records); the WorkspaceRun that depends on the
Variables applies.

Needs: `make tools` (cdktf, the bindings and constructs in .tools/venv, Terraform 1.0.3), node and terraform on PATH,
and `cargo build` (target/debug/terraform-provider-tfe and tfe-emulator).
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import REPO, TOKEN, Emulator

EXAMPLE = REPO / "examples" / "use-cases" / "queue-all-runs" / "cdktf" / "main.py"
STACK = "queue-all-runs"
PROVIDER_DIR = REPO / "target" / "debug"
# The version cdktf-cdktf-provider-tfe 12.5.1 pins in required_providers.
BINDINGS_PROVIDER_VERSION = "0.71.0"
OLD_TERRAFORM = REPO / ".tools" / "bin" / "terraform-1.0.3"


def clis() -> list[tuple[str, str]]:
    """Both Terraform CLIs, or a failure naming what to install."""
    missing = []
    for module in ("cdktf", "cdktf_cdktf_provider_tfe", "constructs"):
        if importlib.util.find_spec(module) is None:
            missing.append(f"Python module {module} (in {sys.executable})")
    for program in ("node", "terraform"):
        if shutil.which(program) is None:
            missing.append(f"'{program}' on PATH")
    if not OLD_TERRAFORM.is_file():
        missing.append(str(OLD_TERRAFORM))
    if missing:
        pytest.fail(
            "the CDKTF use-case test needs " + ", ".join(missing) + ": `make tools` installs the Python packages "
            "and Terraform 1.0.3; node and terraform come from the system",
            pytrace=False,
        )
    if not (PROVIDER_DIR / "terraform-provider-tfe").is_file():
        pytest.fail(f"no provider binary in {PROVIDER_DIR}: run `cargo build`", pytrace=False)
    return [("terraform (PATH)", shutil.which("terraform")), ("terraform 1.0.3", str(OLD_TERRAFORM))]


def synthesize(tmp: Path) -> Path:
    """Runs the example app in `tmp`; returns its stack directory."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TF_", "TFE_"))}
    env["JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION"] = "20"
    done = subprocess.run([sys.executable, str(EXAMPLE)], cwd=tmp, env=env, capture_output=True, text=True,
                          timeout=180)
    assert done.returncode == 0, f"cdktf synth failed:\n{done.stdout}\n{done.stderr}"
    return tmp / "cdktf.out" / "stacks" / STACK


class Terraform:
    """One CLI on the synthesised stack, against one emulator, through this provider."""

    def __init__(self, tmp: Path, emu: Emulator, binary: str, stack_dir: Path):
        self.binary, self.stack_dir = binary, stack_dir
        # dev_overrides serves plan/apply/destroy; cdktf's local backend needs `terraform init`, which insists on
        # installing every required provider even when overridden: a filesystem mirror holding the same binary
        # under the version the bindings pin satisfies it offline.
        mirror = tmp / "mirror"
        platform = "linux_amd64" if os.uname().machine == "x86_64" else "linux_arm64"
        target = mirror / "registry.terraform.io" / "hashicorp" / "tfe" / BINDINGS_PROVIDER_VERSION / platform
        target.mkdir(parents=True, exist_ok=True)
        link = target / f"terraform-provider-tfe_v{BINDINGS_PROVIDER_VERSION}"
        if not link.exists():
            link.symlink_to(PROVIDER_DIR / "terraform-provider-tfe")
        cli_config = tmp / "cdktf.tfrc"
        cli_config.write_text(
            "provider_installation {\n"
            f'  dev_overrides {{\n    "hashicorp/tfe" = "{PROVIDER_DIR}"\n  }}\n'
            f'  filesystem_mirror {{\n    path    = "{mirror}"\n    include = ["hashicorp/tfe"]\n  }}\n'
            "}\n"
        )
        env = {k: v for k, v in os.environ.items() if not k.startswith(("TF_", "TFE_"))}
        env.update(TF_CLI_CONFIG_FILE=str(cli_config), TF_IN_AUTOMATION="1", TF_INPUT="0", HOME=str(tmp),
                   CHECKPOINT_DISABLE="1", SSL_CERT_FILE=str(emu.ca_file),
                   TFE_HOSTNAME=emu.base_url.removeprefix("https://"), TFE_TOKEN=TOKEN,
                   TF_LOG_PROVIDER="DEBUG", TF_LOG_PATH=str(tmp / "provider.log"))
        self.env = env

    def __call__(self, *args: str) -> str:
        done = subprocess.run([self.binary, f"-chdir={self.stack_dir}", *args, "-no-color"], env=self.env,
                              capture_output=True, text=True, timeout=300)
        output = done.stdout + done.stderr
        assert done.returncode == 0, f"`{self.binary} {' '.join(args)}` failed:\n{output}"
        assert TOKEN not in output
        return output


def wait_for(emu: Emulator, run_id: str, status: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        current = next(r["status"] for r in emu.runs() if r["id"] == run_id)
        if current == status:
            return
        assert time.monotonic() < deadline, f"run {run_id} is {current}, wanted {status}"
        time.sleep(0.1)


def story(runs: list[dict]) -> list[str]:
    ordered = sorted(runs, key=lambda r: r["order"])
    return [f"{r['workspace']}:{'destroy' if r['is_destroy'] else 'apply'}:{r['status']}" for r in ordered]


def test_queue_all_runs_races_its_variables_and_a_workspace_run_waits_for_them_with_both_clis(tmp_path):
    for label, binary in clis():
        tmp = tmp_path / label.replace(" ", "-").replace("(", "").replace(")", "")
        tmp.mkdir()
        stack_dir = synthesize(tmp)
        config = json.loads((stack_dir / "cdk.tf.json").read_text())
        assert set(config["resource"]["tfe_variable"]) == {"eager_region", "steady_region", "steady_token"}
        run_config = config["resource"]["tfe_workspace_run"]["steady_run"]
        assert run_config["depends_on"] == ["tfe_variable.steady_region", "tfe_variable.steady_token"]
        assert run_config["apply"]["wait_for_run"] is False
        assert TOKEN not in (stack_dir / "cdk.tf.json").read_text()

        emu = Emulator(tmp, https=True)
        try:
            # Both workspaces' configuration declares `variable "region"` without a default.
            emu.admin("PUT", "/_emulator/knobs", {"plan_ms": 200, "apply_ms": 200, "required_variables": ["region"]})
            terraform = Terraform(tmp, emu, binary, stack_dir)
            terraform("init")
            terraform("apply", "-auto-approve")
            steady_run = json.loads(terraform("output", "-json"))["steady_run_id"]["value"]
            wait_for(emu, steady_run, "applied")

            runs = emu.runs()
            assert story(runs) == ["eager:apply:errored", "steady:apply:applied"], f"{label}: {runs}"
            eager = next(r for r in runs if r["workspace"] == "eager")
            steady = next(r for r in runs if r["workspace"] == "steady")
            assert eager["plan_failure"] == "No value for required variable: region", label
            assert eager["message"] == "Queued automatically"
            assert steady["id"] == steady_run and steady["plan_failure"] is None and steady["auto_apply"] is True

            terraform("destroy", "-auto-approve")
            deleted = emu.admin("GET", "/_emulator/runs/deleted")["runs"]
            assert story(deleted) == ["eager:apply:errored", "steady:apply:applied", "steady:destroy:applied"], \
                f"{label}: {deleted}"
            assert emu.runs() == [], f"{label}: both workspaces deleted"
            log = (tmp / "provider.log").read_text()
            assert "tfe_variable" in log, f"{label}: the provider's log is empty"
            assert TOKEN not in log and "not-a-real-token" not in log, \
                f"{label}: the token or a sensitive value is in the provider's log"
        finally:
            emu.stop()
