"""Fixtures that start tfe-emulator for the pytfe conformance tests.

The emulator binary comes from TFE_EMULATOR_BIN (default: target/debug/tfe-emulator; `cargo build` makes it).
pytfe comes from the project venv that `make tools` creates (.tools/venv).
"""

from __future__ import annotations

import json
import os
import ssl
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
TOKEN = "pytfe-token"


def emulator_binary() -> Path:
    path = Path(os.environ.get("TFE_EMULATOR_BIN", REPO / "target" / "debug" / "tfe-emulator"))
    if not path.is_file():
        pytest.fail(
            f"tfe-emulator binary not found at {path}: run `cargo build` (or set TFE_EMULATOR_BIN)",
            pytrace=False,
        )
    return path


class Emulator:
    """A running tfe-emulator plus helpers for its admin API."""

    def __init__(self, tmp: Path, https: bool):
        self.https = https
        self.ca_file = tmp / "emulator-ca.pem"
        args = [str(emulator_binary()), "--listen", "127.0.0.1:0", "--token", TOKEN, "--ca-file", str(self.ca_file)]
        if not https:
            args.append("--http")
        env = {k: v for k, v in os.environ.items() if k != "TFE_EMULATOR_TOKEN"}
        self.proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
        line = self.proc.stdout.readline().strip()
        prefix = "tfe-emulator ready at "
        if not line.startswith(prefix):
            self.proc.kill()
            raise RuntimeError(f"no ready line (got {line!r}); stderr: {self.proc.stderr.read()}")
        self.base_url = line[len(prefix):]
        self._ssl = ssl.create_default_context(cafile=str(self.ca_file)) if https else None

    def client(self, **overrides):
        from pytfe import TFEClient, TFEConfig

        options = dict(address=self.base_url, token=TOKEN, max_retries=0, timeout=5)
        if self.https:
            options.update(verify_tls=True, ca_bundle=str(self.ca_file))
        else:
            options.update(ca_bundle=None)
        options.update(overrides)
        return TFEClient(TFEConfig(**options))

    def admin(self, method: str, path: str, body=None):
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.base_url + path, data=data, method=method)
        request.add_header("content-type", "application/json")
        with urllib.request.urlopen(request, context=self._ssl, timeout=10) as response:
            text = response.read().decode()
            return json.loads(text) if text else None

    def seed_workspace(self, org: str, name: str, **fields) -> str:
        workspace = {"organization": org, "name": name, **fields}
        answer = self.admin("POST", "/_emulator/seed", {"organizations": [{"name": org}], "workspaces": [workspace]})
        return answer["workspaces"][0]["id"]

    def set_workspace_knobs(self, workspace_id: str, knobs: dict) -> None:
        self.admin("PUT", f"/_emulator/knobs/workspaces/{workspace_id}", knobs)

    def add_fault(self, rule: dict) -> None:
        self.admin("POST", "/_emulator/faults", rule)

    def runs(self) -> list[dict]:
        return self.admin("GET", "/_emulator/runs")["runs"]

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.proc.kill()


@pytest.fixture(params=["http", "https"])
def emulator(request, tmp_path):
    emu = Emulator(tmp_path, https=request.param == "https")
    yield emu
    emu.stop()


@pytest.fixture
def tfe(emulator):
    client = emulator.client()
    yield client
    client.close() if hasattr(client, "close") else None


def wait_for_status(tfe, run_id: str, status: str, timeout: float = 10.0):
    """Polls with pytfe until the run reaches `status`; every read goes through pytfe's validation."""
    deadline = time.monotonic() + timeout
    while True:
        run = tfe.runs.read(run_id)
        current = getattr(run.status, "value", run.status)
        if current == status:
            return run
        if time.monotonic() > deadline:
            raise AssertionError(f"run {run_id} is {current}, wanted {status}")
        time.sleep(0.03)
