#!/usr/bin/env python3
"""`make bench`: issue 9's figures, side by side in one run, for terraform-provider-tfe.

    python3 bench/bench.py [--profile release|debug] [--quick] [--only SECTION ...]

Sections (each prints table rows: this provider, the Go provider or the official resource, target, verdict):
  1. start-up: exec to handshake line, and exec to a completed GetProviderSchema + Shutdown over the plugin's
     mutual TLS (a small grpcio client, protocol 6 for this provider, 5 for the Go one), median of 30 launches
     each, with a P-521 client certificate in PLUGIN_CLIENT_CERT, for this provider and HashiCorp's null
     provider 2.1.2 (Go SDK); peak RSS (VmHWM) of each;
  2. `terraform plan` and `terraform apply` of one resource that makes no API call (a tfe_workspace_run with a
     destroy block only, a null_resource), with the current Terraform and 1.0.3: wall time as a ratio;
  3. four emulator timelines, each after an earlier run of its workspace (60 s plan + 60 s apply; queued 30 s
     behind another run; a person confirming after 45 s; a soft-failed policy overridden after 20 s; all at
     1/10 with --quick, when fixed costs weigh more): the provider's requests against the official resource's
     (its polling model, official-workspace-run.md section 3), and the delay from each status change that
     matters (confirmable, final) to the provider's first request that reports it;
  4. fresh (--only fresh): the first run of a new workspace (no earlier run, no sibling in the same apply), 12
     single-run applies one after the other (6 with --quick), 2 to 6 s phases: the notice delay p50/p95/max;
  5. scale: N = 10, 100, 300, 500 (10, 100 with --quick) tfe_workspace_run in one apply and one destroy
     (manual_confirm = false), -parallelism=N, organization concurrency N (--scale-case N/C for others, e.g.
     500/10), against an emulator enforcing 30 requests/s, 2 s plans and applies, each on a new workspace: per
     phase, wall time beyond the emulated durations, requests (per run, by route in bench.json), 429s served
     and seen by the user, notice delay p50/p95/max, provider peak RSS;
  6. pair: two Terraform processes of 250 resources each (50 with --quick), one token, applying and then
     destroying at once: each one's wall time against one process of 500 (from the scale section of the same
     run), 429s served by the emulator and seen by either user.

Writes target/bench/bench.json and, when every section ran, the table into docs/performance.md.
Needs cargo, terraform, openssl and `make tools` (Terraform 1.0.3, the null provider, the venv with grpcio).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import os
import re
import shutil
import signal
import ssl
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
TF_OLD = REPO / ".tools" / "bin" / "terraform-1.0.3"
NULL_PROVIDER = REPO / ".tools" / "bin" / "terraform-provider-null_v2.1.2_x4"
# A 429 the user sees: a status or a rate-limit message in Terraform's output, not "429" inside an id.
SEEN_429 = re.compile(r"\b429\b|too many requests|rate limit", re.IGNORECASE)
VENV_PYTHON = REPO / ".tools" / "venv" / "bin" / "python"
MAGIC_COOKIE = "d602bf8f470bc67ca7faa0386276bbdd4330efaf76d1a219cb4d6991ca9872b2"
PROVIDER_AGENT = "terraform-provider-tfe"
TOKEN = "bench-token"
STARTUP_LAUNCHES = 30
PLAN_REPEATS = 5
SECTIONS = ["startup", "commands", "timelines", "fresh", "scale", "pair"]


def fail(message: str) -> None:
    print(f"bench: {message}", file=sys.stderr)
    sys.exit(1)


def percentile(values: list[float], fraction: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    rank = max(1, math.ceil(fraction * len(ordered)))
    return ordered[rank - 1]


# --- 1. start-up --------------------------------------------------------------------------------

def client_certificate(workdir: Path) -> tuple[str, str]:
    """A self-signed P-521 CA certificate and its key, like the pair Terraform makes for PLUGIN_CLIENT_CERT."""
    key, cert = workdir / "client-key.pem", workdir / "client-cert.pem"
    if not cert.exists():
        subprocess.run(
            ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:secp521r1", "-nodes",
             "-keyout", str(key), "-out", str(cert), "-days", "1", "-subj", "/CN=localhost",
             "-addext", "basicConstraints=critical,CA:TRUE"],
            check=True, capture_output=True,
        )
    return cert.read_text(), key.read_text()


def plugin_env(workdir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TF_", "PLUGIN_", "TFE_"))}
    env.update(TF_PLUGIN_MAGIC_COOKIE=MAGIC_COOKIE, PLUGIN_PROTOCOL_VERSIONS="5,6", PLUGIN_MIN_PORT="10000",
               PLUGIN_MAX_PORT="25000", PLUGIN_CLIENT_CERT=client_certificate(workdir)[0], TMPDIR=str(workdir))
    return env


def launch(provider: Path, env: dict[str, str]) -> tuple[subprocess.Popen, str, float]:
    started = time.perf_counter()
    proc = subprocess.Popen([str(provider)], env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, text=True)
    line = proc.stdout.readline()
    return proc, line, started


def startup_times(provider: Path, workdir: Path, protocol: str) -> list[float]:
    """Exec to handshake line, STARTUP_LAUNCHES times (the process is then stopped with SIGTERM)."""
    env = plugin_env(workdir)
    times = []
    for _ in range(STARTUP_LAUNCHES):
        proc, line, started = launch(provider, env)
        elapsed = time.perf_counter() - started
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=10)
        if not line.startswith(f"1|{protocol}|unix|"):
            fail(f"unexpected handshake line from {provider}: {line!r}")
        times.append(elapsed * 1000)
    return times


# The client that plays Terraform's side (grpcio, from the venv); the release check uses it too.
SCHEMA_CLIENT = REPO / "bench" / "schema_client.py"


def schema_and_shutdown(provider: Path, workdir: Path) -> dict:
    """Exec to a completed GetProviderSchema + Shutdown, STARTUP_LAUNCHES times; peak RSS of each process."""
    cert, key = client_certificate(workdir)
    done = subprocess.run([str(VENV_PYTHON), str(SCHEMA_CLIENT), str(provider), str(STARTUP_LAUNCHES), cert, key],
                          env=plugin_env(workdir), capture_output=True, text=True, timeout=600)
    if done.returncode != 0:
        fail(f"GetProviderSchema + Shutdown of {provider} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout)


def idle_rss_kib(provider: Path, workdir: Path) -> int:
    """VmHWM of a provider 300 ms after its handshake line."""
    proc, _, _ = launch(provider, plugin_env(workdir))
    time.sleep(0.3)
    hwm = vm_hwm_kib(proc.pid) or 0
    proc.send_signal(signal.SIGTERM)
    proc.wait(timeout=10)
    return hwm


# --- the emulator ---------------------------------------------------------------------------------

class Emulator:
    def __init__(self, binary: Path, workdir: Path, extra: list[str] | None = None, name: str = "emulator"):
        self.ca_file = workdir / f"{name}-ca.pem"
        self.proc = subprocess.Popen(
            [str(binary), "--listen", "127.0.0.1:0", "--token", TOKEN, "--ca-file", str(self.ca_file)]
            + (extra or []),
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
        )
        line = self.proc.stdout.readline().strip()
        if not line.startswith("tfe-emulator ready at "):
            self.stop()
            fail(f"tfe-emulator printed no ready line (got {line!r})")
        self.url = line.rsplit(" ", 1)[1]
        self.hostname = self.url.removeprefix("https://")
        self._ssl = ssl.create_default_context(cafile=str(self.ca_file))

    def call(self, method: str, path: str, body=None, token: str | None = None):
        request = urllib.request.Request(self.url + path, method=method,
                                         data=None if body is None else json.dumps(body).encode())
        request.add_header("content-type", "application/json")
        if token:
            request.add_header("authorization", f"Bearer {token}")
        with urllib.request.urlopen(request, context=self._ssl, timeout=30) as response:
            text = response.read().decode()
            return json.loads(text) if text else None

    def seed_workspace(self, name: str, org: str = "bench-org") -> str:
        return self.seed_workspaces([name], org)[0]

    def seed_workspaces(self, names: list[str], org: str) -> list[str]:
        answer = self.call("POST", "/_emulator/seed", {
            "organizations": [{"name": org}],
            "workspaces": [{"organization": org, "name": n, "vcs": True, "auto_apply": False} for n in names],
        })
        return [w["id"] for w in answer["workspaces"]]

    def runs(self) -> list[dict]:
        return self.call("GET", "/_emulator/runs")["runs"]

    def run(self, run_id: str) -> dict:
        return next(r for r in self.runs() if r["id"] == run_id)

    def create_run(self, workspace_id: str, message: str) -> str:
        body = {"data": {"type": "runs", "attributes": {"auto-apply": True, "message": message},
                         "relationships": {"workspace": {"data": {"type": "workspaces", "id": workspace_id}}}}}
        return self.call("POST", "/api/v2/runs", body, token=TOKEN)["data"]["id"]

    def wait_status(self, run_id: str, statuses: set[str], limit_s: float) -> dict:
        deadline = time.monotonic() + limit_s
        while time.monotonic() < deadline:
            run = self.run(run_id)
            if run["status"] in statuses:
                return run
            time.sleep(0.2)
        fail(f"run {run_id} did not reach {sorted(statuses)} within {limit_s:.0f} s")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=10)


def terraform_env(emu: Emulator, workdir: Path, provider_dir: Path) -> dict[str, str]:
    """Terraform with this provider and the Go null provider as dev overrides (no init needed)."""
    null_dir = workdir / "null-provider"
    null_dir.mkdir(exist_ok=True)
    if not (null_dir / "terraform-provider-null").exists():
        (null_dir / "terraform-provider-null").symlink_to(NULL_PROVIDER)
    cli_config = workdir / f"bench-{emu.hostname.replace(':', '_')}.tfrc"
    cli_config.write_text(
        f'provider_installation {{\n  dev_overrides {{\n    "hashicorp/tfe" = "{provider_dir}"\n'
        f'    "hashicorp/null" = "{null_dir}"\n  }}\n  direct {{}}\n}}\n'
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TF_", "TFE_"))}
    env.update(TF_CLI_CONFIG_FILE=str(cli_config), TF_IN_AUTOMATION="1", TF_INPUT="0",
               SSL_CERT_FILE=str(emu.ca_file), TFE_HOSTNAME=emu.hostname, TFE_TOKEN=TOKEN)
    return env



# --- 2. plan and apply of one resource, against the Go null provider ---------------------------------

ONE_RESOURCE = {
    # A destroy block only: create queues nothing (as null_resource does nothing); no API call is made.
    "tfe": 'resource "tfe_workspace_run" "one" {\n  workspace_id = "ws-bench"\n  destroy {\n    manual_confirm = false\n  }\n}\n',
    "null": 'resource "null_resource" "one" {}\n',
}


def command_times(cli: str, env: dict[str, str], workdir: Path, provider: str, command: str) -> list[float]:
    """Wall time of `terraform plan` or `terraform apply` of one resource (no remote calls for either)."""
    config_dir = workdir / f"one-{provider}-{command}-{Path(cli).name}"
    config_dir.mkdir()
    (config_dir / "main.tf").write_text(ONE_RESOURCE[provider])
    args = {"plan": ["plan", "-no-color", "-input=false"],
            "apply": ["apply", "-auto-approve", "-no-color", "-input=false"]}[command]
    times = []
    for _ in range(PLAN_REPEATS):
        for state in config_dir.glob("terraform.tfstate*"):
            state.unlink()
        started = time.perf_counter()
        done = subprocess.run([cli, f"-chdir={config_dir}", *args], env=env, capture_output=True, text=True,
                              timeout=300)
        times.append((time.perf_counter() - started) * 1000)
        if done.returncode != 0 or "1 to add" not in done.stdout:
            fail(f"`{cli} {command}` of one {provider} resource failed:\n{done.stdout}{done.stderr}")
    return times


# --- 3. polling timelines ---------------------------------------------------------------------------

def vm_hwm_kib(pid: int) -> int | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return None
    return None


def children_running(parent: int, binary_name: str) -> list[int]:
    """Processes started by `parent` whose executable is `binary_name` (Terraform starts providers directly)."""
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            # The command name in /proc/PID/stat may hold spaces or parentheses: the ppid follows the last ')'.
            ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            if ppid == parent and Path(os.readlink(entry / "exe")).name == binary_name:
                pids.append(int(entry.name))
        except (OSError, IndexError, ValueError):
            continue
    return pids


class PeakRss(threading.Thread):
    """Samples VmHWM of the provider processes Terraform starts until stopped; keeps the maximum."""

    def __init__(self, terraform_pid: int, binary_name: str):
        super().__init__(daemon=True)
        self.terraform_pid, self.binary_name = terraform_pid, binary_name
        self.peak_kib, self.processes = 0, set()
        self.stopping = threading.Event()

    def run(self) -> None:
        self.by_process: dict[int, int] = {}
        while not self.stopping.wait(0.05):
            for pid in children_running(self.terraform_pid, self.binary_name):
                hwm = vm_hwm_kib(pid)
                if hwm:
                    self.processes.add(pid)
                    self.peak_kib = max(self.peak_kib, hwm)
                    self.by_process[pid] = max(self.by_process.get(pid, 0), hwm)


def parse_time(text: str) -> float:
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def official_polls(seconds: float) -> list[float]:
    """When the official resource polls during one wait of `seconds` (official-workspace-run.md section 3):
    sleeps min(1000*2^(i/5), 3000) ms before poll i, until a poll sees the change."""
    at, times = 0.0, []
    while not times or times[-1] < seconds:
        at += min(1000 * 2 ** (len(times) / 5), 3000) / 1000
        times.append(at)
    return times


def official_wait(seconds: float, cost_at=lambda t: 6) -> int:
    """Requests of one wait: each poll costs `cost_at(its time)` (6 while the run is in progress, by the
    document's worked example; 1 while it waits for a person), the last one 1."""
    polls = official_polls(seconds)
    return sum(cost_at(t) for t in polls[:-1]) + 1


def official_model(kind: str, phase: float, human: float, queue: float) -> int:
    create, confirm_poll, confirm = 3, 1, 1
    if kind == "plain":
        return create + official_wait(phase) + confirm_poll + confirm + official_wait(phase)
    if kind == "queued":
        # Behind the workspace's current run: GET run, workspace, current run, workspace run list (4 a poll).
        wait = official_wait(queue + phase, lambda t: 4 if t < queue else 6)
        return create + wait + confirm_poll + confirm + official_wait(phase)
    if kind == "human":
        # manual_confirm: it polls (1 request each) until someone confirms, then waits for the apply.
        return create + official_wait(phase) + official_wait(human, lambda t: 1) + official_wait(phase)
    if kind == "override":
        return (create + official_wait(phase) + official_wait(human, lambda t: 1) + confirm_poll + confirm
                + official_wait(phase))
    raise ValueError(kind)


TIMELINE_TF = """variable "workspace_id" {
  type = string
}

resource "tfe_workspace_run" "bench" {
  workspace_id = var.workspace_id

  apply {
    manual_confirm = %s
    wait_for_run   = true
  }
}
"""


def provider_requests(log: dict) -> list[dict]:
    return [e for e in log["requests"] if PROVIDER_AGENT in (e.get("user_agent") or "")]


def started_at(entry: dict) -> float:
    return parse_time(entry["at"]) - entry.get("duration_ms", 0) / 1000


def matter_changes(run: dict) -> list[tuple[str, float]]:
    """The status changes a user waits on: the run became confirmable (the last plan-side status before it
    was confirmed), and it ended. A run queued with auto-apply is confirmed by the server itself: nobody
    waits on its plan's end, only on its final status."""
    stamps = {k: parse_time(v) for k, v in run["status_timestamps"].items()}
    changes = []
    confirmed = stamps.get("confirmed-at")
    plan_side = [(k, t) for k, t in stamps.items()
                 if k in ("planned-at", "cost-estimated-at", "policy-checked-at", "post-plan-completed-at")
                 and (confirmed is None or t <= confirmed)]
    if plan_side and not run.get("auto_apply"):
        key, at = max(plan_side, key=lambda kt: kt[1])
        changes.append(("confirmable", at))
    for key in ("applied-at", "errored-at", "planned-and-finished-at"):
        if key in stamps:
            changes.append(("final", stamps[key]))
    return changes


def notice_delays(run: dict, requests: list[dict], org: str) -> list[tuple[str, float]]:
    """For each change that matters: the time to the first provider request that started after it and
    reports the run (a read of the run, or a page of its organization's run list)."""
    ids = {run["id"]}
    list_path = f"/api/v2/organizations/{org}/runs"
    reporting = [started_at(e) for e in requests if e["method"] == "GET"
                 and (e["path"] == list_path or any(i in e["path"].split("/") for i in ids))]
    delays = []
    for what, at in matter_changes(run):
        later = [t for t in reporting if t >= at]
        if later:
            delays.append((what, min(later) - at))
    return delays


def timeline(emu: Emulator, env: dict[str, str], workdir: Path, kind: str, phase_s: float, human_s: float,
             queue_s: float, provider_name: str) -> dict:
    """One tfe_workspace_run applied on an emulator timeline, after an earlier run of the same workspace."""
    org = f"bench-{kind}"
    workspace_id = emu.seed_workspace(f"timeline-{kind}", org)
    phase_ms = int(phase_s * 1000)
    knobs = f"/_emulator/knobs/workspaces/{workspace_id}"
    emu.call("PUT", knobs, {"plan_ms": phase_ms, "apply_ms": phase_ms})
    # The earlier run whose phase durations the provider learns from.
    prior = emu.create_run(workspace_id, "bench: an earlier run")
    emu.wait_status(prior, {"applied"}, 4 * phase_s + 60)

    config_dir = workdir / f"timeline-{kind}"
    config_dir.mkdir()
    (config_dir / "main.tf").write_text(TIMELINE_TF % ("true" if kind == "human" else "false"))
    helper = None
    if kind == "queued":
        # Another run holds the workspace for queue_s (half plan, half apply), then ours plans.
        emu.call("PUT", knobs, {"plan_ms": int(queue_s * 500), "apply_ms": int(queue_s * 500)})
        blocker = emu.create_run(workspace_id, "bench: the run ahead in the queue")

        def restore() -> None:
            emu.wait_status(blocker, {"applying"}, queue_s + 30)
            emu.call("PUT", knobs, {"plan_ms": phase_ms, "apply_ms": phase_ms})
        helper = threading.Thread(target=restore, daemon=True)
    if kind == "override":
        # A PUT replaces the workspace's knobs: the phases are sent again with the policy.
        emu.call("PUT", knobs, {"plan_ms": phase_ms, "apply_ms": phase_ms, "policy": "soft_fail"})

    def ours() -> dict:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            mine = [r for r in emu.runs() if r["workspace_id"] == workspace_id
                    and "bench:" not in (r.get("message") or "")]
            if mine:
                return mine[0]
            time.sleep(0.2)
        fail(f"{kind}: the provider queued no run")

    def person() -> None:
        run = ours()
        if kind == "human":
            run = emu.wait_status(run["id"], {"planned", "cost_estimated", "policy_checked"}, 4 * phase_s + 60)
            time.sleep(human_s)
            emu.call("POST", f"/api/v2/runs/{run['id']}/actions/apply", {"comment": "bench: a person confirms"},
                     token=TOKEN)
        else:
            run = emu.wait_status(run["id"], {"policy_override"}, 4 * phase_s + 60)
            time.sleep(human_s)
            checks = emu.call("GET", f"/api/v2/runs/{run['id']}/policy-checks", token=TOKEN)["data"]
            emu.call("POST", f"/api/v2/policy-checks/{checks[0]['id']}/actions/override", {}, token=TOKEN)
    if kind in ("human", "override"):
        helper = threading.Thread(target=person, daemon=True)

    started = time.perf_counter()
    terraform = subprocess.Popen(
        [shutil.which("terraform"), f"-chdir={config_dir}", "apply", "-auto-approve", "-no-color"],
        env=dict(env, TF_VAR_workspace_id=workspace_id), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    if helper:
        helper.start()
    sampler = PeakRss(terraform.pid, provider_name)
    sampler.start()
    output, _ = terraform.communicate(timeout=4 * phase_s + human_s + queue_s + 300)
    wall_s = time.perf_counter() - started
    sampler.stopping.set()
    sampler.join()
    if terraform.returncode != 0:
        fail(f"{kind}: terraform apply failed:\n{output}")
    run = ours()
    run = emu.run(run["id"])
    if run["status"] != "applied":
        fail(f"{kind}: expected the run applied, got {run['status']}")
    log = emu.call("GET", "/_emulator/requests")
    ids = {run["id"], run["plan_id"], run["apply_id"], workspace_id}
    mine = [e for e in provider_requests(log) if any(i in e["path"].split("/") for i in ids)
            or e["path"] == f"/api/v2/organizations/{org}/runs"]
    # Discovery and ping, once per provider process that connected (not attributable by path).
    requests = len(mine) + 2
    official = official_model(kind, phase_s, human_s, queue_s)
    return {
        "kind": kind, "wall_s": wall_s, "requests": requests, "official_requests": official,
        "ratio": requests / official, "delays": notice_delays(run, mine, org),
        "provider_rss_kib": sampler.peak_kib,
    }


# --- 4. scale -----------------------------------------------------------------------------------------

SCALE_TF = """variable "workspace_ids" {
  type = list(string)
}

resource "tfe_workspace_run" "r" {
  for_each     = toset(var.workspace_ids)
  workspace_id = each.value

  apply {
    manual_confirm = false
    wait_for_run   = true
  }

  destroy {
    manual_confirm = false
    wait_for_run   = true
  }
}
"""


def seed_scale(emu: Emulator, workdir: Path, org: str, names: list[str], concurrency: int,
               phase_s: float) -> tuple[Path, list[str]]:
    """Fresh workspaces in `org` (concurrency and phase lengths set on the organization) and a working
    directory with one tfe_workspace_run (apply and destroy, manual_confirm = false) per workspace."""
    ids = emu.seed_workspaces(names, org)
    emu.call("PUT", f"/_emulator/knobs/organizations/{org}",
             {"concurrency": concurrency, "plan_ms": int(phase_s * 1000), "apply_ms": int(phase_s * 1000)})
    config_dir = workdir / f"scale-{org}-{names[0]}"
    config_dir.mkdir()
    (config_dir / "main.tf").write_text(SCALE_TF)
    (config_dir / "terraform.tfvars.json").write_text(json.dumps({"workspace_ids": ids}))
    return config_dir, ids


class TerraformCommand(threading.Thread):
    """One `terraform apply` or `terraform destroy` of a scale working directory, timed, with the peak RSS
    of the provider processes it starts; started as a thread so that two can run at once."""

    def __init__(self, env: dict[str, str], config_dir: Path, command: str, parallelism: int,
                 provider_name: str):
        super().__init__(daemon=True)
        self.env, self.config_dir, self.command = env, config_dir, command
        self.parallelism, self.provider_name = parallelism, provider_name
        self.output, self.returncode, self.wall_s, self.peak_kib = "", None, 0.0, 0
        self.started_epoch = 0.0
        self.peaks_kib: list[int] = []

    def run(self) -> None:
        started = time.perf_counter()
        self.started_epoch = time.time()
        terraform = subprocess.Popen(
            [shutil.which("terraform"), f"-chdir={self.config_dir}", self.command, "-auto-approve", "-no-color",
             f"-parallelism={self.parallelism}"],
            env=self.env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )
        sampler = PeakRss(terraform.pid, self.provider_name)
        sampler.start()
        self.output, _ = terraform.communicate(timeout=3600)
        self.wall_s = time.perf_counter() - started
        self.returncode = terraform.returncode
        sampler.stopping.set()
        sampler.join()
        self.peak_kib = sampler.peak_kib
        # Each provider process's peak, in the order Terraform started them (validate, plan, apply...).
        self.peaks_kib = [kib for _, kib in sorted(sampler.by_process.items())]

    def seen_429(self) -> list[str]:
        # A 429 the user sees is a status or a rate-limit message in Terraform's output; "429" inside a run
        # id or a duration is not one.
        return [line for line in self.output.splitlines() if SEEN_429.search(line)]


def phase_figures(emu: Emulator, org: str, ids: list[str], destroy: bool, requests: list[dict],
                  commands: list[TerraformCommand], n: int, emulated: float) -> dict:
    """What one phase (the apply or the destroy of n resources, by one or more Terraform processes)
    cost: wall time, requests (per run, by route), 429s served and seen, notice delay, peak RSS."""
    what = "destroy" if destroy else "apply"
    for c in commands:
        if c.returncode != 0:
            fail(f"scale {org}: terraform {what} failed:\n{c.output[-5000:]}")
    wanted = set(ids)
    runs = [r for r in emu.runs() if r["workspace_id"] in wanted and bool(r.get("is_destroy")) == destroy]
    if len(runs) != n or any(r["status"] != "applied" for r in runs):
        fail(f"scale {org}: expected {n} applied {what} runs, got {len(runs)}: "
             f"{sorted(r['status'] for r in runs)[:10]}...")
    by_run: dict[str, list[dict]] = {}
    org_list = f"/api/v2/organizations/{org}/runs"
    lists = [e for e in requests if e["path"] == org_list]
    for e in requests:
        parts = e["path"].split("/")
        if len(parts) > 4 and parts[3] == "runs":
            by_run.setdefault(parts[4], []).append(e)
    delays = [d for r in runs for _, d in notice_delays(r, by_run.get(r["id"], []) + lists, org)]
    routes: dict[str, int] = {}
    for e in requests:
        key = f"{e['method']} {e['route']}"
        routes[key] = routes.get(key, 0) + 1
    seen = [line for c in commands for line in c.seen_429()]
    # Requests started in each second of the phase, from the first: where the time went.
    starts = sorted(started_at(e) for e in requests)
    per_second = [0] * (int(starts[-1] - starts[0]) + 1 if starts else 0)
    for t in starts:
        per_second[int(t - starts[0])] += 1
    # When the requests began and ended, from the start of the Terraform command: the rest of the wall
    # time is Terraform's own work (the plan, starting providers, writing the state) and the runs' phases.
    begun = min(c.started_epoch for c in commands)
    first_request_s = starts[0] - begun if starts else None
    last_request_s = starts[-1] - begun if starts else None
    wall = max(c.wall_s for c in commands)
    return {
        "phase": what, "wall_s": wall, "walls_s": [c.wall_s for c in commands], "emulated_s": emulated,
        "beyond_s": wall - emulated, "requests": len(requests), "per_run": len(requests) / n,
        "by_route": dict(sorted(routes.items(), key=lambda kv: -kv[1])), "per_second": per_second,
        "first_request_s": first_request_s, "last_request_s": last_request_s,
        "served_429": sum(1 for e in requests if e["status"] == 429), "seen_429": len(seen),
        "seen_429_lines": seen[:20],
        "delay_p50": percentile(delays, 0.5) if delays else None,
        "delay_p95": percentile(delays, 0.95) if delays else None,
        "delay_max": max(delays) if delays else None, "changes": len(delays),
        "provider_rss_kib": max(c.peak_kib for c in commands),
        "provider_rss_by_process_kib": [c.peaks_kib for c in commands],
    }


def scale_phases(emu: Emulator, env: dict[str, str], workdir: Path, org: str, groups: list[list[str]],
                 concurrency: int, phase_s: float, provider_name: str) -> list[dict]:
    """Applies, then destroys, one scale working directory per group of workspace names, all groups at
    once (one Terraform process each, one token); returns the apply's and the destroy's figures."""
    seeded = [seed_scale(emu, workdir, org, names, concurrency, phase_s) for names in groups]
    ids = [i for _, group_ids in seeded for i in group_ids]
    n = len(ids)
    # The shortest a phase could take: every run's plan and apply, `concurrency` at a time.
    emulated = 2 * phase_s * math.ceil(n / concurrency)
    figures = []
    for command in ("apply", "destroy"):
        emu.call("POST", "/_emulator/requests/reset")
        running = [TerraformCommand(env, config_dir, command, len(group_ids), provider_name)
                   for config_dir, group_ids in seeded]
        for c in running:
            c.start()
        for c in running:
            c.join()
        log = emu.call("GET", "/_emulator/requests")
        figures.append(phase_figures(emu, org, ids, command == "destroy", provider_requests(log), running, n,
                                     emulated))
    return figures


def scale(emu: Emulator, env: dict[str, str], workdir: Path, n: int, concurrency: int, phase_s: float,
          provider_name: str) -> dict:
    """N resources in one Terraform process: the apply, then the destroy."""
    org = f"scale-{n}-{concurrency}"
    apply, destroy = scale_phases(emu, env, workdir, org, [[f"w{i:03d}" for i in range(n)]], concurrency,
                                  phase_s, provider_name)
    return {"n": n, "concurrency": concurrency, "apply": apply, "destroy": destroy}


def pair(emu: Emulator, env: dict[str, str], workdir: Path, each: int, phase_s: float,
         provider_name: str) -> dict:
    """Two Terraform processes with `each` resources apiece, one token, at once (organization concurrency
    2 * each): the apply, then the destroy."""
    org = f"pair-{each}"
    groups = [[f"a{i:03d}" for i in range(each)], [f"b{i:03d}" for i in range(each)]]
    apply, destroy = scale_phases(emu, env, workdir, org, groups, 2 * each, phase_s, provider_name)
    return {"each": each, "apply": apply, "destroy": destroy}


FRESH_TF = """variable "workspace_id" {
  type = string
}

resource "tfe_workspace_run" "first" {
  workspace_id = var.workspace_id

  apply {
    manual_confirm = false
    wait_for_run   = true
  }
}
"""


def fresh_runs(emu: Emulator, env: dict[str, str], workdir: Path, count: int, provider_name: str) -> dict:
    """`count` single-run applies, one after the other, each the first run of a new workspace (no history,
    no sibling in the same apply), plans and applies of 2.0 to 6.1 s so that the status changes fall at
    every point of any polling rhythm: the delay from each change that matters to the provider's first
    request that reports it, and the requests each cost."""
    org = "fresh"
    delays: list[float] = []
    requests_per_run: list[int] = []
    for i in range(count):
        workspace_id = emu.seed_workspace(f"fresh-{i:02d}", org)
        plan_ms, apply_ms = 2000 + 450 * i % 4100, 2000 + 370 * (3 * i % 11)
        emu.call("PUT", f"/_emulator/knobs/workspaces/{workspace_id}", {"plan_ms": plan_ms, "apply_ms": apply_ms})
        config_dir = workdir / f"fresh-{i:02d}"
        config_dir.mkdir()
        (config_dir / "main.tf").write_text(FRESH_TF)
        emu.call("POST", "/_emulator/requests/reset")
        done = subprocess.run(
            [shutil.which("terraform"), f"-chdir={config_dir}", "apply", "-auto-approve", "-no-color"],
            env=dict(env, TF_VAR_workspace_id=workspace_id), capture_output=True, text=True, timeout=300,
        )
        if done.returncode != 0:
            fail(f"fresh run {i}: terraform apply failed:\n{done.stdout}{done.stderr}")
        run = next(r for r in emu.runs() if r["workspace_id"] == workspace_id)
        if run["status"] != "applied":
            fail(f"fresh run {i}: expected the run applied, got {run['status']}")
        log = emu.call("GET", "/_emulator/requests")
        mine = provider_requests(log)
        requests_per_run.append(len(mine))
        delays += [d for _, d in notice_delays(run, mine, org)]
    return {"count": count, "delays": delays, "delay_p50": percentile(delays, 0.5),
            "delay_p95": percentile(delays, 0.95), "delay_max": max(delays), "requests": requests_per_run}


# --- main ---------------------------------------------------------------------------------------------

def build(profile: str) -> Path:
    command = ["cargo", "build", "--quiet", "--workspace", "--bins"] + (["--release"] if profile == "release" else [])
    print(f"building: {' '.join(command)}", flush=True)
    subprocess.run(command, cwd=REPO, check=True)
    return Path(os.environ.get("CARGO_TARGET_DIR", REPO / "target")) / profile


def machine() -> str:
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), "unknown CPU")
    mem_kib = int(next(line.split()[1] for line in Path("/proc/meminfo").read_text().splitlines()
                       if line.startswith("MemTotal:")))
    return f"{os.cpu_count()} cores ({cpu}), {mem_kib / 1024 / 1024:.0f} GiB, {os.uname().sysname} {os.uname().release}"


def scale_summary(f: dict) -> str:
    return (f"wall {f['wall_s']:.0f} s ({f['beyond_s']:+.0f} s beyond {f['emulated_s']:.0f} s emulated), "
            f"{f['requests']} requests ({f['per_run']:.2f}/run), 429 served {f['served_429']} / seen "
            f"{f['seen_429']}, notice p50 {f['delay_p50']:.2f} s p95 {f['delay_p95']:.2f} s max "
            f"{f['delay_max']:.2f} s, RSS {f['provider_rss_kib'] / 1024:.1f} MiB")


def fmt_ms(values: list[float]) -> str:
    return f"{statistics.median(values):.1f} ms"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--profile", choices=["release", "debug"], default="release")
    parser.add_argument("--quick", action="store_true", help="timelines at 1/10, scale at N = 10 and 100")
    parser.add_argument("--only", choices=SECTIONS, action="append",
                        help="run only these sections (repeatable); the docs table is then not rewritten")
    parser.add_argument("--scale-case", action="append", metavar="N/CONCURRENCY",
                        help="scale cases to run instead of the default ones, e.g. 500/500 (repeatable)")
    args = parser.parse_args()
    for tool in ("cargo", "terraform", "openssl"):
        if shutil.which(tool) is None:
            fail(f"'{tool}' is not on PATH")
    for path, what in ((TF_OLD, "Terraform 1.0.3"), (NULL_PROVIDER, "the null provider 2.1.2"),
                       (VENV_PYTHON, "the venv")):
        if not path.exists():
            fail(f"{path} ({what}) is missing: `make tools` installs it")
    if subprocess.run([str(VENV_PYTHON), "-c", "import grpc"], capture_output=True).returncode != 0:
        fail(f"{VENV_PYTHON} has no grpcio: `make tools` installs it")
    sections = set(args.only or SECTIONS)

    bin_dir = build(args.profile)
    provider = bin_dir / "terraform-provider-tfe"
    scale_factor = 0.1 if args.quick else 1.0
    phase_s, human_s, override_s, queue_s = 60 * scale_factor, 45 * scale_factor, 20 * scale_factor, 30 * scale_factor
    scale_ns = [10, 100] if args.quick else [10, 100, 300, 500]
    pair_each = 50 if args.quick else 250
    fresh_count = 6 if args.quick else 12
    scale_phase_s = 2.0
    rows: list[tuple[str, str, str, str, str]] = []
    results: dict = {"machine": machine(), "command": "make bench" + (" QUICK=1" if args.quick else ""),
                     "profile": args.profile, "date": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")}

    def row(what: str, ours: str, theirs: str, target: str, verdict: str) -> None:
        rows.append((what, ours, theirs, target, verdict))
        print(f"  {what}: {ours} | {theirs} | {target} | {verdict}", flush=True)

    def check(ok: bool) -> str:
        return "met" if ok else "MISSED"

    with tempfile.TemporaryDirectory(prefix="tfe-bench-") as tmp:
        workdir = Path(tmp)
        if "startup" in sections:
            print(f"1/6 start-up ({STARTUP_LAUNCHES} launches each, {args.profile} build)", flush=True)
            ours_hs, null_hs = startup_times(provider, workdir, "6"), startup_times(NULL_PROVIDER, workdir, "5")
            ours_schema, null_schema = schema_and_shutdown(provider, workdir), schema_and_shutdown(NULL_PROVIDER, workdir)
            ours_idle, null_idle = idle_rss_kib(provider, workdir), idle_rss_kib(NULL_PROVIDER, workdir)
            ours_peak, null_peak = max(ours_schema["vm_hwm_kib"]), max(null_schema["vm_hwm_kib"])
            results["startup"] = {"handshake_ms": {"tfe": ours_hs, "null": null_hs},
                                  "schema_shutdown_ms": {"tfe": ours_schema["times_ms"], "null": null_schema["times_ms"]},
                                  "peak_rss_kib": {"tfe": ours_peak, "null": null_peak},
                                  "idle_rss_kib": {"tfe": ours_idle, "null": null_idle}}
            ratio = statistics.median(ours_hs) / statistics.median(null_hs)
            row("exec to handshake line, median (P-521 client cert)", fmt_ms(ours_hs), fmt_ms(null_hs),
                "<= 1/10 of Go", f"{check(ratio <= 0.1)} (1/{1 / ratio:.0f})")
            ratio = statistics.median(ours_schema["times_ms"]) / statistics.median(null_schema["times_ms"])
            row("exec to GetProviderSchema + Shutdown done, median", fmt_ms(ours_schema["times_ms"]),
                fmt_ms(null_schema["times_ms"]), "-", f"ratio {ratio:.2f}")
            ratio = ours_peak / null_peak
            row("peak RSS (VmHWM) through GetProviderSchema + Shutdown", f"{ours_peak / 1024:.1f} MiB",
                f"{null_peak / 1024:.1f} MiB", "<= 1/3 of Go", f"{check(ratio <= 1 / 3)} (ratio {ratio:.2f})")
            row("idle RSS 0.3 s after the handshake", f"{ours_idle / 1024:.1f} MiB", f"{null_idle / 1024:.1f} MiB",
                "-", f"ratio {ours_idle / null_idle:.2f}")

        emu = Emulator(bin_dir / "tfe-emulator", workdir)
        try:
            env = terraform_env(emu, workdir, bin_dir)
            if "commands" in sections:
                print(f"2/6 terraform plan and apply of one resource (median of {PLAN_REPEATS})", flush=True)
                results["commands"] = {}
                for cli in (shutil.which("terraform"), str(TF_OLD)):
                    version = subprocess.run([cli, "version"], env=env, capture_output=True, text=True).stdout
                    label = version.splitlines()[0] if version else Path(cli).name
                    for command in ("plan", "apply"):
                        ours_t = command_times(cli, env, workdir, "tfe", command)
                        null_t = command_times(cli, env, workdir, "null", command)
                        ratio = statistics.median(ours_t) / statistics.median(null_t)
                        results["commands"][f"{label} {command}"] = {"tfe": ours_t, "null": null_t, "ratio": ratio}
                        row(f"`terraform {command}`, one resource, {label}", f"{statistics.median(ours_t):.0f} ms",
                            f"{statistics.median(null_t):.0f} ms", "ratio <= 0.8",
                            f"{check(ratio <= 0.8)} ({ratio:.2f})")
            if "timelines" in sections:
                print(f"3/6 polling timelines ({phase_s:.0f} s plan and apply, after an earlier run; the four "
                      "at once, on separate workspaces)", flush=True)
                kinds = [("plain", 0.0, 0.0), ("queued", 0.0, queue_s), ("human", human_s, 0.0),
                         ("override", override_s, 0.0)]
                outcomes: dict[str, dict] = {}

                def one(kind: str, human: float, queue: float) -> None:
                    outcomes[kind] = timeline(emu, env, workdir, kind, phase_s, human, queue, provider.name)
                threads = [threading.Thread(target=one, args=k) for k in kinds]
                for t in threads:
                    t.start()
                for t in threads:
                    t.join()
                if len(outcomes) != len(kinds):
                    fail("a timeline failed (see above)")
                results["timelines"] = outcomes
                labels = {"plain": f"{phase_s:.0f} s plan + {phase_s:.0f} s apply",
                          "queued": f"queued {queue_s:.0f} s behind another run",
                          "human": f"a person confirms after {human_s:.0f} s",
                          "override": f"soft-failed policy overridden after {override_s:.0f} s"}
                all_delays = []
                for kind, _, _ in kinds:
                    o = outcomes[kind]
                    delays = [d for _, d in o["delays"]]
                    all_delays += delays
                    row(f"timeline: {labels[kind]}: requests", str(o["requests"]),
                        f"~{o['official_requests']} (official, model)", "<= 1/7",
                        f"{check(o['ratio'] <= 1 / 7)} (1/{1 / o['ratio']:.1f})")
                    row(f"timeline: {labels[kind]}: notice delay (confirmable, final)",
                        ", ".join(f"{w} {d * 1000:.0f} ms" for w, d in o["delays"]), "-",
                        "max <= 3 s", check(bool(delays) and max(delays) <= 3))
                if all_delays:
                    row("timelines: notice delay median / max", f"{statistics.median(all_delays) * 1000:.0f} ms / "
                        f"{max(all_delays) * 1000:.0f} ms", "-", "median <= 1 s, max <= 3 s",
                        check(statistics.median(all_delays) <= 1 and max(all_delays) <= 3))
        finally:
            emu.stop()

        if sections & {"fresh", "scale", "pair"}:
            limited = Emulator(bin_dir / "tfe-emulator", workdir, ["--rate-limit", "30", "--enforce-rate-limit"],
                               name="limited")
            try:
                env = terraform_env(limited, workdir, bin_dir)
                if "fresh" in sections:
                    print(f"4/6 the first run of a new workspace: {fresh_count} single-run applies, one after the "
                          "other, 2 to 6 s phases", flush=True)
                    f = fresh_runs(limited, env, workdir, fresh_count, provider.name)
                    results["fresh"] = f
                    row("first run of a new workspace: notice delay (confirmable, final)",
                        f"p50 {f['delay_p50']:.2f} s, p95 {f['delay_p95']:.2f} s, max {f['delay_max']:.2f} s over "
                        f"{len(f['delays'])} changes; {statistics.median(f['requests']):.0f} requests a run (median)",
                        "-", "p95 <= 1 s", check(f["delay_p95"] <= 1.0))
                single_walls: dict[int, dict[str, float]] = {}
                if "scale" in sections:
                    print(f"5/6 scale: N runs in one apply and one destroy (-parallelism=N), 30 requests/s "
                          f"enforced, {scale_phase_s:.0f} s plans and applies", flush=True)
                    results["scale"] = []
                    cases = [(n, n) for n in scale_ns]
                    if args.scale_case:
                        cases = [tuple(int(x) for x in c.split("/")) for c in args.scale_case]
                    for n, concurrency in cases:
                        r = scale(limited, env, workdir, n, concurrency, scale_phase_s, provider.name)
                        results["scale"].append(r)
                        if n == concurrency:
                            single_walls[n] = {p: r[p]["wall_s"] for p in ("apply", "destroy")}
                        target = n == 500 and concurrency == 500
                        for phase in ("apply", "destroy"):
                            f = r[phase]
                            ok = (f["delay_p95"] is not None and f["delay_p95"] <= 1.0 and f["seen_429"] == 0
                                  and f["provider_rss_kib"] < 40 * 1024 and f["beyond_s"] <= 25
                                  and f["per_run"] <= 1.5)
                            row(f"scale N={n}, concurrency {concurrency}: {phase}", scale_summary(f), "-",
                                "beyond <= 25 s, <= 1.5 requests/run, no 429 seen, p95 <= 1 s, RSS < 40 MiB"
                                if target else "-", check(ok) if target else "-")
                if "pair" in sections:
                    print(f"6/6 two Terraform processes of {pair_each} runs each, one token, at once", flush=True)
                    r = pair(limited, env, workdir, pair_each, scale_phase_s, provider.name)
                    results["pair"] = r
                    single = single_walls.get(2 * pair_each)
                    for phase in ("apply", "destroy"):
                        f = r[phase]
                        walls = " and ".join(f"{w:.0f} s" for w in f["walls_s"])
                        ratio = max(f["walls_s"]) / single[phase] if single else None
                        against = (f"{ratio:.2f} x one process of {2 * pair_each} ({single[phase]:.0f} s)"
                                   if ratio else f"(run the scale section with N={2 * pair_each} for the ratio)")
                        row(f"two processes x {pair_each}, one token: {phase}",
                            f"walls {walls}, {against}; {f['requests']} requests ({f['per_run']:.2f}/run), "
                            f"429 served {f['served_429']} / seen {f['seen_429']}, notice p95 "
                            f"{f['delay_p95']:.2f} s", "-",
                            f"no 429 seen, each <= 1.5 x one process of {2 * pair_each}",
                            check(f["seen_429"] == 0 and ratio is not None and ratio <= 1.5)
                            if ratio else ("ok" if f["seen_429"] == 0 else "MISSED"))
            finally:
                limited.stop()

    out_dir = Path(os.environ.get("CARGO_TARGET_DIR", REPO / "target")) / "bench"
    out_dir.mkdir(parents=True, exist_ok=True)
    results["table"] = [dict(zip(("what", "tfe", "go_or_official", "target", "verdict"), r)) for r in rows]
    (out_dir / "bench.json").write_text(json.dumps(results, indent=2, default=str) + "\n")
    table = ["| measure | this provider | Go null provider / official resource | target | verdict |",
             "|---|---|---|---|---|"] + [f"| {' | '.join(r)} |" for r in rows]
    print("\n" + "\n".join(table))
    print(f"\nfigures written to {out_dir / 'bench.json'}")
    if not args.only and not args.scale_case:
        docs = REPO / "docs" / "performance.md"
        text = docs.read_text()
        head = text.split("\n## Latest figures\n")[0].rstrip("\n")
        docs.write_text(head + "\n\n## Latest figures\n\n"
                        f"`{results['command']}` ({args.profile} build) on {results['machine']}, "
                        f"{results['date']}:\n\n" + "\n".join(table) + "\n")
        print(f"table written to {docs}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
