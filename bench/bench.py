#!/usr/bin/env python3
"""`make bench`: start-up, plan time, API traffic, notice delay and memory figures for terraform-provider-tfe.

    python3 bench/bench.py [--profile release|debug] [--quick]

Sections (each prints one or more table rows):
  1. provider start-up: exec to handshake line, 30 launches with a P-521 CA client certificate in
     PLUGIN_CLIENT_CERT, as Terraform launches it;
  2. `terraform plan` of examples/demo with the current Terraform on PATH and .tools/bin/terraform-1.0.3;
  3. one tfe_workspace_run through `terraform apply` against tfe-emulator with 60 s plan and 60 s apply
     (6 s with --quick): the provider's request count against the official resource's (model of
     docs official-workspace-run.md section 3), the worst delay between a run status change and the
     provider's next request about that run, and peak RSS (VmHWM) of the provider and of the emulator.

Standard library only; needs cargo, terraform, openssl and `make tools` (for Terraform 1.0.3).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import os
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
MAGIC_COOKIE = "d602bf8f470bc67ca7faa0386276bbdd4330efaf76d1a219cb4d6991ca9872b2"
PROVIDER_AGENT = "terraform-provider-tfe"
TOKEN = "bench-token"
STARTUP_LAUNCHES = 30
PLAN_REPEATS = 5


def fail(message: str) -> None:
    print(f"bench: {message}", file=sys.stderr)
    sys.exit(1)


def percentile(values: list[float], fraction: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    rank = max(1, math.ceil(fraction * len(ordered)))
    return ordered[rank - 1]


# --- 1. start-up --------------------------------------------------------------------------------

def client_certificate(workdir: Path) -> str:
    """A self-signed P-521 CA certificate, like the one Terraform puts in PLUGIN_CLIENT_CERT."""
    key, cert = workdir / "client-key.pem", workdir / "client-cert.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:secp521r1", "-nodes",
         "-keyout", str(key), "-out", str(cert), "-days", "1", "-subj", "/CN=localhost",
         "-addext", "basicConstraints=critical,CA:TRUE"],
        check=True, capture_output=True,
    )
    return cert.read_text()


def startup_times(provider: Path, workdir: Path) -> list[float]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TF_", "PLUGIN_", "TFE_"))}
    env.update(TF_PLUGIN_MAGIC_COOKIE=MAGIC_COOKIE, PLUGIN_PROTOCOL_VERSIONS="5,6", PLUGIN_MIN_PORT="10000",
               PLUGIN_MAX_PORT="25000", PLUGIN_CLIENT_CERT=client_certificate(workdir), TMPDIR=str(workdir))
    times = []
    for _ in range(STARTUP_LAUNCHES):
        started = time.perf_counter()
        proc = subprocess.Popen([str(provider)], env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=subprocess.DEVNULL, text=True)
        line = proc.stdout.readline()
        elapsed = time.perf_counter() - started
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=10)
        if not line.startswith("1|6|unix|"):
            fail(f"unexpected handshake line from {provider}: {line!r}")
        times.append(elapsed * 1000)
    return times


# --- the emulator ---------------------------------------------------------------------------------

class Emulator:
    def __init__(self, binary: Path, workdir: Path):
        self.ca_file = workdir / "emulator-ca.pem"
        self.proc = subprocess.Popen(
            [str(binary), "--listen", "127.0.0.1:0", "--token", TOKEN, "--ca-file", str(self.ca_file)],
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

    def seed_workspace(self, name: str) -> str:
        answer = self.call("POST", "/_emulator/seed", {
            "organizations": [{"name": "bench-org"}],
            "workspaces": [{"organization": "bench-org", "name": name, "vcs": True, "auto_apply": False}],
        })
        return answer["workspaces"][0]["id"]

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=10)


def terraform_env(emu: Emulator, workdir: Path, provider_dir: Path) -> dict[str, str]:
    cli_config = workdir / "bench.tfrc"
    cli_config.write_text(
        f'provider_installation {{\n  dev_overrides {{\n    "hashicorp/tfe" = "{provider_dir}"\n  }}\n'
        "  direct {}\n}\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TF_", "TFE_"))}
    env.update(TF_CLI_CONFIG_FILE=str(cli_config), TF_IN_AUTOMATION="1", TF_INPUT="0",
               SSL_CERT_FILE=str(emu.ca_file), TFE_HOSTNAME=emu.hostname, TFE_TOKEN=TOKEN)
    return env


# --- 2. plan ----------------------------------------------------------------------------------------

def plan_times(cli: str, env: dict[str, str], workdir: Path) -> list[float]:
    config_dir = workdir / f"plan-{Path(cli).name}"
    config_dir.mkdir()
    shutil.copy(REPO / "examples" / "demo" / "main.tf", config_dir)
    times = []
    for _ in range(PLAN_REPEATS):
        started = time.perf_counter()
        done = subprocess.run([cli, f"-chdir={config_dir}", "plan", "-no-color"], env=env,
                              capture_output=True, text=True, timeout=300)
        times.append((time.perf_counter() - started) * 1000)
        if done.returncode != 0 or "6 to add" not in done.stdout:
            fail(f"`{cli} plan` failed:\n{done.stdout}{done.stderr}")
    return times


# --- 3. one run through terraform apply -----------------------------------------------------------

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
        while not self.stopping.wait(0.05):
            for pid in children_running(self.terraform_pid, self.binary_name):
                hwm = vm_hwm_kib(pid)
                if hwm:
                    self.processes.add(pid)
                    self.peak_kib = max(self.peak_kib, hwm)


def parse_time(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))


def official_request_model(phase_s: float) -> int:
    """Requests the official resource makes for one run (official-workspace-run.md section 3, zero latency):
    3 to create, each wait polls every min(1000*2^(i/5), 3000) ms at about 6 requests a poll (1 for the last),
    1 poll while confirmable, 1 to confirm."""
    def wait_requests(seconds: float) -> int:
        elapsed, polls = 0.0, 0
        while elapsed < seconds:
            elapsed += min(1000 * 2 ** (polls / 5), 3000) / 1000
            polls += 1
        return (polls - 1) * 6 + 1
    return 3 + wait_requests(phase_s) + 1 + 1 + wait_requests(phase_s)


def one_run(emu: Emulator, env: dict[str, str], workdir: Path, phase_ms: int, provider_name: str) -> dict:
    workspace_id = emu.seed_workspace("bench-run")
    emu.call("PUT", f"/_emulator/knobs/workspaces/{workspace_id}", {"plan_ms": phase_ms, "apply_ms": phase_ms})
    config_dir = workdir / "one-run"
    config_dir.mkdir()
    shutil.copy(REPO / "bench" / "one_run" / "main.tf", config_dir)
    emu.call("POST", "/_emulator/requests/reset")

    started = time.perf_counter()
    terraform = subprocess.Popen(
        [shutil.which("terraform"), f"-chdir={config_dir}", "apply", "-auto-approve", "-no-color"],
        env=dict(env, TF_VAR_workspace_id=workspace_id), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    sampler = PeakRss(terraform.pid, provider_name)
    sampler.start()
    output, _ = terraform.communicate(timeout=phase_ms / 1000 * 2 + 300)
    wall_s = time.perf_counter() - started
    sampler.stopping.set()
    sampler.join()
    if terraform.returncode != 0:
        fail(f"terraform apply of bench/one_run failed:\n{output}")

    # The log first, so that the reads below are not in it.
    log = emu.call("GET", "/_emulator/requests")
    provider_requests = [e for e in log["requests"] if PROVIDER_AGENT in (e.get("user_agent") or "")]
    runs = [r for r in emu.call("GET", "/_emulator/runs")["runs"] if r["workspace_id"] == workspace_id]
    if [r["status"] for r in runs] != ["applied"]:
        fail(f"expected one applied run in the bench workspace, got {runs}")
    run = emu.call("GET", f"/api/v2/runs/{runs[0]['id']}", token=TOKEN)["data"]
    related = {runs[0]["id"]} | {
        (run["relationships"].get(k) or {}).get("data", {}).get("id") for k in ("plan", "apply")
    }
    about_run = [e for e in provider_requests if any(i and i in e["path"].split("/") for i in related)]

    # Notice delay: from each status change to the provider's next request about the run.
    delays = []
    for key, at in run["attributes"]["status-timestamps"].items():
        changed = parse_time(at)
        later = [parse_time(e["at"]) for e in about_run if parse_time(e["at"]) >= changed]
        if later:
            delays.append(((min(later) - changed).total_seconds(), key.removesuffix("-at")))

    return {
        "wall_s": wall_s,
        "requests": len(provider_requests),
        "requests_all": log["counters"]["total"],
        "by_route": sorted(((n, r) for r, n in log["counters"]["by_route"].items()), reverse=True),
        "worst_delay": max(delays) if delays else None,
        "applied_delay": next((d for d, s in delays if s == "applied"), None),
        "provider_rss_kib": sampler.peak_kib,
        "provider_processes": len(sampler.processes),
        "emulator_rss_kib": vm_hwm_kib(emu.proc.pid),
    }


# --- main -------------------------------------------------------------------------------------------

def build(profile: str) -> Path:
    command = ["cargo", "build", "--quiet", "--workspace", "--bins"] + (["--release"] if profile == "release" else [])
    print(f"building: {' '.join(command)}", flush=True)
    subprocess.run(command, cwd=REPO, check=True)
    return Path(os.environ.get("CARGO_TARGET_DIR", REPO / "target")) / profile


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--profile", choices=["release", "debug"], default="release")
    parser.add_argument("--quick", action="store_true", help="6 s plan and apply instead of 60 s")
    args = parser.parse_args()
    for tool in ("cargo", "terraform", "openssl"):
        if shutil.which(tool) is None:
            fail(f"'{tool}' is not on PATH")
    if not TF_OLD.is_file():
        fail(f"{TF_OLD} is missing: `make tools` installs it")

    bin_dir = build(args.profile)
    provider = bin_dir / "terraform-provider-tfe"
    phase_ms = 6_000 if args.quick else 60_000
    rows: list[tuple[str, str]] = []

    def row(name: str, value: str) -> None:
        rows.append((name, value))
        print(f"  {name}: {value}", flush=True)

    with tempfile.TemporaryDirectory(prefix="tfe-bench-") as tmp:
        workdir = Path(tmp)
        print(f"1/3 provider start-up ({STARTUP_LAUNCHES} launches, {args.profile} build)", flush=True)
        times = startup_times(provider, workdir)
        row(f"start-up to handshake ({args.profile}, P-521 client cert)",
            f"median {statistics.median(times):.1f} ms, p90 {percentile(times, 0.9):.1f} ms")

        emu = Emulator(bin_dir / "tfe-emulator", workdir)
        try:
            env = terraform_env(emu, workdir, bin_dir)
            print(f"2/3 terraform plan of examples/demo (median of {PLAN_REPEATS})", flush=True)
            for cli in (shutil.which("terraform"), str(TF_OLD)):
                version = subprocess.run([cli, "version"], env=env, capture_output=True, text=True).stdout
                label = version.splitlines()[0] if version else Path(cli).name
                row(f"terraform plan, {label}", f"median {statistics.median(plan_times(cli, env, workdir)):.0f} ms")

            print(f"3/3 one tfe_workspace_run through terraform apply ({phase_ms // 1000} s plan, "
                  f"{phase_ms // 1000} s apply)", flush=True)
            result = one_run(emu, env, workdir, phase_ms, provider.name)
        finally:
            emu.stop()

    official = official_request_model(phase_ms / 1000)
    row("apply wall time", f"{result['wall_s']:.1f} s")
    row("API requests by the provider", f"{result['requests']} of {result['requests_all']} served (official "
        f"resource: ~{official} by its polling model{', 283 in its doc' if phase_ms == 60_000 else ''})")
    if result["worst_delay"]:
        delay, status = result["worst_delay"]
        applied = result["applied_delay"]
        row("worst delay, status change -> provider's next request about the run",
            f"{delay * 1000:.0f} ms (at {status}); applied -> next request {applied * 1000:.0f} ms"
            if applied is not None else f"{delay * 1000:.0f} ms (at {status})")
    row("peak RSS (VmHWM), provider",
        f"{result['provider_rss_kib'] / 1024:.1f} MiB (max over {result['provider_processes']} provider processes)")
    row("peak RSS (VmHWM), tfe-emulator", f"{(result['emulator_rss_kib'] or 0) / 1024:.1f} MiB")

    print("\nrequests by route during the apply:")
    for count, route in result["by_route"]:
        print(f"  {count:5d}  {route}")
    width = max(len(name) for name, _ in rows)
    print("\n" + "\n".join(f"{name.ljust(width)}  {value}" for name, value in rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
