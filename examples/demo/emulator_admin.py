#!/usr/bin/env python3
"""Small helper for run.sh: reports what happened to every run tfe-emulator saw.

Standard library only. Reads EMULATOR_URL (https://127.0.0.1:PORT) and EMULATOR_CA (the CA file the
emulator wrote) from the environment.

  emulator_admin.py report EXPECTED_RUNS    table of every run: workspace, operation, id, status, requests,
                                            and the statuses it went through; exits 1 unless there are
                                            EXPECTED_RUNS runs, all applied
"""

from __future__ import annotations

import json
import os
import ssl
import sys
import urllib.request
from datetime import datetime

PROVIDER_AGENT = "terraform-provider-tfe"
LIFECYCLE = [
    "pending", "plan-queueable", "plan-queued", "planning", "planned", "cost-estimating", "cost-estimated",
    "policy-checking", "policy-checked", "confirmed", "apply-queued", "applying", "applied",
]


def _request(method: str, path: str, body=None):
    url = os.environ["EMULATOR_URL"] + path
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method=method)
    request.add_header("content-type", "application/json")
    context = ssl.create_default_context(cafile=os.environ["EMULATOR_CA"])
    with urllib.request.urlopen(request, context=context, timeout=10) as response:
        text = response.read().decode()
        return json.loads(text) if text else None


def _ids_named_by(run: dict) -> set[str]:
    """The run's own id and those of its plan and apply: the paths the provider polls."""
    return {run["id"], run["plan_id"], run["apply_id"]}


def _timeline(run: dict) -> str:
    """The statuses the run went through, each with its time since the run was created."""
    stamps = {
        key.removesuffix("-at"): datetime.fromisoformat(at.replace("Z", "+00:00"))
        for key, at in run.get("status_timestamps", {}).items()
    }
    if not stamps:
        return ""
    start = min(stamps.values())
    # Statuses stamped in the same millisecond keep their lifecycle order.
    in_order = sorted(stamps.items(), key=lambda item: (item[1], LIFECYCLE.index(item[0]) if item[0] in LIFECYCLE else 99))
    return " > ".join(f"{status} {(at - start).total_seconds():.1f}s" for status, at in in_order)


def report(expected: int) -> int:
    # Read the request log first so that this script's own API reads below are not counted.
    log = _request("GET", "/_emulator/requests")["requests"]
    provider_paths = [e["path"] for e in log if PROVIDER_AGENT in (e.get("user_agent") or "")]
    # The demo's destroy deletes the workspaces; their runs are then listed apart.
    runs = _request("GET", "/_emulator/runs")["runs"] + _request("GET", "/_emulator/runs/deleted")["runs"]
    runs.sort(key=lambda run: run["order"])

    rows = [("workspace", "operation", "run", "final status", "requests")]
    timelines = [""]
    counted = 0
    for run in runs:
        ids = _ids_named_by(run)
        about_run = sum(1 for path in provider_paths if ids & set(path.split("/")))
        counted += about_run
        operation = "destroy" if run["is_destroy"] else "apply"
        rows.append((run["workspace"], operation, run["id"], run["status"], str(about_run)))
        timelines.append(_timeline(run))

    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row, timeline in zip(rows, timelines):
        print("  " + "  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip())
        if timeline:
            print(f"      {timeline}")
    print(
        f"  The provider made {len(provider_paths)} API requests in all: {counted} naming a run above "
        f"(its run, plan or apply), {len(provider_paths) - counted} others (discovery, organization, client and workspace calls, run creation)."
    )
    applied = [run for run in runs if run["status"] == "applied"]
    if len(applied) != expected or len(runs) != expected:
        print(f"  Expected {expected} runs, all applied; got {len(runs)}, {len(applied)} applied.", file=sys.stderr)
        return 1
    return 0


def main(argv: list[str]) -> int:
    if len(argv) == 2 and argv[0] == "report" and argv[1].isdigit():
        return report(int(argv[1]))
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
