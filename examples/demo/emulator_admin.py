#!/usr/bin/env python3
"""Small helper for run.sh: seeds tfe-emulator and reports what happened to every run.

Standard library only. Reads EMULATOR_URL (https://127.0.0.1:PORT), EMULATOR_CA (the CA file the emulator
wrote) and TFE_TOKEN from the environment.

  emulator_admin.py seed ORG WORKSPACE...   seed an organization and VCS-linked workspaces; prints their ids
  emulator_admin.py report EXPECTED_RUNS    table of every run: workspace, operation, id, status, requests;
                                            exits 1 unless there are EXPECTED_RUNS runs, all applied
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


def _request(method: str, path: str, body=None, token: str | None = None):
    url = os.environ["EMULATOR_URL"] + path
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method=method)
    request.add_header("content-type", "application/json")
    if token:
        request.add_header("authorization", f"Bearer {token}")
    context = ssl.create_default_context(cafile=os.environ["EMULATOR_CA"])
    with urllib.request.urlopen(request, context=context, timeout=10) as response:
        text = response.read().decode()
        return json.loads(text) if text else None


def seed(org: str, names: list[str]) -> None:
    workspaces = [{"organization": org, "name": name, "vcs": True, "auto_apply": False} for name in names]
    answer = _request("POST", "/_emulator/seed", {"organizations": [{"name": org}], "workspaces": workspaces})
    ids = {w["name"]: w["id"] for w in answer["workspaces"]}
    print(" ".join(ids[name] for name in names))


def _read_run(run_id: str) -> dict:
    return _request("GET", f"/api/v2/runs/{run_id}", token=os.environ["TFE_TOKEN"])["data"]


def _ids_named_by(run: dict) -> set[str]:
    """The run's own id and those of its plan and apply: the paths the provider polls."""
    ids = {run["id"]}
    for relation in ("plan", "apply"):
        related = (run.get("relationships", {}).get(relation) or {}).get("data")
        if related:
            ids.add(related["id"])
    return ids


def _timeline(run: dict) -> str:
    """The statuses the run went through, each with its time since the run was created."""
    stamps = {
        key.removesuffix("-at"): datetime.fromisoformat(at.replace("Z", "+00:00"))
        for key, at in run["attributes"].get("status-timestamps", {}).items()
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
    runs = _request("GET", "/_emulator/runs")["runs"]

    rows = [("workspace", "operation", "run", "final status", "requests")]
    timelines = [""]
    counted = 0
    for run in runs:
        details = _read_run(run["id"])
        ids = _ids_named_by(details)
        about_run = sum(1 for path in provider_paths if ids & set(path.split("/")))
        counted += about_run
        operation = "destroy" if run["is_destroy"] else "apply"
        rows.append((run["workspace"], operation, run["id"], run["status"], str(about_run)))
        timelines.append(_timeline(details))

    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row, timeline in zip(rows, timelines):
        print("  " + "  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip())
        if timeline:
            print(f"      {timeline}")
    print(
        f"  The provider made {len(provider_paths)} API requests in all: {counted} naming a run above "
        f"(its run, plan or apply), {len(provider_paths) - counted} others (discovery, workspace reads, run creation)."
    )
    applied = [run for run in runs if run["status"] == "applied"]
    if len(applied) != expected or len(runs) != expected:
        print(f"  Expected {expected} runs, all applied; got {len(runs)}, {len(applied)} applied.", file=sys.stderr)
        return 1
    return 0


def main(argv: list[str]) -> int:
    if len(argv) >= 3 and argv[0] == "seed":
        seed(argv[1], argv[2:])
        return 0
    if len(argv) == 2 and argv[0] == "report" and argv[1].isdigit():
        return report(int(argv[1]))
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
