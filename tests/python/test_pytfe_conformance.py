"""pytfe 1.5.0 (HashiCorp's Python SDK) drives the emulator through the whole run lifecycle.

pydantic validates every response; any shape the SDK cannot parse fails the test.
"""

from __future__ import annotations

import time

import pytest
from pytfe.errors import AuthError, NotFound, RateLimited, ServerError, TFEError
from pytfe.models import (
    OrganizationCreateOptions,
    ReadRunQueueOptions,
    RunApplyOptions,
    RunCancelOptions,
    RunCreateOptions,
    RunDiscardOptions,
    RunIncludeOpt,
    RunReadOptions,
    Workspace,
    WorkspaceCreateOptions,
    WorkspaceLockOptions,
)

from conftest import wait_for_status

FAST = {"plan_ms": 40, "apply_ms": 40, "cost_estimate_ms": 20, "policy_check_ms": 20}


def value(x):
    return getattr(x, "value", x)


def strictly_validate_included(tfe, run_id: str, include: str) -> None:
    """pytfe silently stubs included resources it cannot validate; validate each one here so any
    pydantic error fails the test."""
    from pytfe.resources.run import _RUN_REL_MAP

    by_type = {
        "plans": _RUN_REL_MAP["plan"],
        "applies": _RUN_REL_MAP["apply"],
        "workspaces": _RUN_REL_MAP["workspace"],
        "cost-estimates": _RUN_REL_MAP["cost-estimate"],
        "users": _RUN_REL_MAP["created-by"],
        "configuration-versions": _RUN_REL_MAP["configuration-version"],
        "task-stages": _RUN_REL_MAP["task-stages"],
        "policy-checks": _RUN_REL_MAP["policy-checks"],
    }
    payload = tfe._transport.request("GET", f"/api/v2/runs/{run_id}", params={"include": include}).json()
    assert payload["included"], "the includes were returned"
    for item in payload["included"]:
        model = by_type[item["type"]]
        model.model_validate({**item["attributes"], "id": item["id"]})


def create_run(tfe, ws_id: str, **options):
    return tfe.runs.create(RunCreateOptions(workspace=Workspace(id=ws_id), **options))


def test_organizations_and_workspaces(tfe):
    org = tfe.organizations.create(OrganizationCreateOptions(name="acme", email="ops@acme.test"))
    assert org.name == "acme"
    assert tfe.organizations.read("acme").email == "ops@acme.test"
    ws = tfe.workspaces.create("acme", WorkspaceCreateOptions(name="app", auto_apply=False))
    assert ws.id.startswith("ws-")
    assert tfe.workspaces.read("app", organization="acme").id == ws.id
    assert tfe.workspaces.read_by_id(ws.id).name == "app"


def test_lock_unlock_and_force_unlock(emulator, tfe):
    ws_id = emulator.seed_workspace("acme", "app")
    locked = tfe.workspaces.lock(ws_id, WorkspaceLockOptions(reason="maintenance"))
    assert locked.locked is True
    with pytest.raises(TFEError):
        tfe.workspaces.lock(ws_id, WorkspaceLockOptions(reason="again"))
    assert tfe.workspaces.unlock(ws_id).locked is False
    tfe.workspaces.lock(ws_id, WorkspaceLockOptions(reason="again"))
    assert tfe.workspaces.force_unlock(ws_id).locked is False


def test_create_read_with_includes_list_and_apply(emulator, tfe):
    ws_id = emulator.seed_workspace("acme", "app", knobs={**FAST, "post_plan_task": "pass", "task_ms": 20})
    emulator.admin("POST", "/_emulator/seed", {"organizations": [{"name": "acme", "cost_estimation_enabled": True}]})
    run = create_run(tfe, ws_id, message="from pytfe")
    assert value(run.status) == "pending"
    assert run.message == "from pytfe"
    wait_for_status(tfe, run.id, "cost_estimated")
    includes = [
        RunIncludeOpt.RUN_PLAN,
        RunIncludeOpt.RUN_APPLY,
        RunIncludeOpt.RUN_WORKSPACE,
        RunIncludeOpt.RUN_COST_ESTIMATE,
        RunIncludeOpt.RUN_CREATED_BY,
        RunIncludeOpt.RUN_CONFIG_VER,
        RunIncludeOpt.RUN_TASK_STAGES,
    ]
    full = tfe.runs.read_with_options(run.id, RunReadOptions(include=includes))
    assert full.actions.is_confirmable is True
    assert full.has_changes is True
    assert full.workspace.id == ws_id
    assert full.plan is not None and value(full.plan.status) == "finished"
    assert full.cost_estimate is not None and value(full.cost_estimate.status) == "finished"
    assert full.workspace.name == "app", "the included workspace was hydrated, not stubbed"
    assert full.created_by is not None and full.created_by.username
    assert full.configuration_version is not None and value(full.configuration_version.status) == "uploaded"
    assert [value(s.status) for s in full.task_stages] == ["passed"]
    strictly_validate_included(tfe, run.id, ",".join(includes))
    assert tfe.plans.read(full.plan.id).id == full.plan.id
    assert value(tfe.cost_estimates.read(full.cost_estimate.id).status) == "finished"

    tfe.runs.apply(run.id, RunApplyOptions(comment="go"))
    applied = wait_for_status(tfe, run.id, "applied")
    assert value(tfe.applies.read(applied.apply.id).status) == "finished"
    listed = list(tfe.runs.list(ws_id))
    assert [r.id for r in listed] == [run.id]
    assert [r.id for r in tfe.runs.list_for_organization("acme")] == [run.id]


def test_discard(emulator, tfe):
    ws_id = emulator.seed_workspace("acme", "app", knobs=FAST)
    run = create_run(tfe, ws_id)
    wait_for_status(tfe, run.id, "planned")
    tfe.runs.discard(run.id, RunDiscardOptions(comment="no"))
    wait_for_status(tfe, run.id, "discarded")


def test_cancel_and_force_cancel(emulator, tfe):
    ws_id = emulator.seed_workspace("acme", "app")
    emulator.set_workspace_knobs(ws_id, {"plan_ms": 60000, "cancel_stuck": True, "force_cancel_cooloff_ms": 100})
    first = create_run(tfe, ws_id)
    second = create_run(tfe, ws_id)
    tfe.runs.cancel(second.id, RunCancelOptions(comment="not needed"))
    wait_for_status(tfe, second.id, "canceled")
    wait_for_status(tfe, first.id, "planning")
    tfe.runs.cancel(first.id)
    time.sleep(0.2)
    assert tfe.runs.read(first.id).actions.is_force_cancelable is True
    tfe.runs.force_cancel(first.id)
    wait_for_status(tfe, first.id, "canceled")
    assert tfe.workspaces.read_by_id(ws_id).locked is False


def test_policy_override(emulator, tfe):
    ws_id = emulator.seed_workspace("acme", "app", knobs={**FAST, "policy": "soft_fail"})
    run = create_run(tfe, ws_id, auto_apply=True)
    wait_for_status(tfe, run.id, "policy_override")
    checks = list(tfe.policy_checks.list(run.id))
    assert len(checks) == 1
    assert value(checks[0].status) == "soft_failed"
    overridden = tfe.policy_checks.override(checks[0].id)
    assert value(overridden.status) == "overridden"
    wait_for_status(tfe, run.id, "applied")


def test_queue_and_capacity(emulator, tfe):
    a = emulator.seed_workspace("acme", "a")
    b = emulator.seed_workspace("acme", "b")
    emulator.admin("PUT", "/_emulator/knobs/organizations/acme", {"concurrency": 1, "plan_ms": 60000})
    ra = create_run(tfe, a)
    wait_for_status(tfe, ra.id, "planning")
    rb = create_run(tfe, b)
    queue = tfe.organizations.read_run_queue("acme", ReadRunQueueOptions(page_number=1, page_size=20))
    assert [r.id for r in queue.items] == [rb.id]
    capacity = tfe.organizations.read_capacity("acme")
    assert (capacity.running, capacity.pending) == (1, 1)


def test_error_classes(emulator, tfe):
    ws_id = emulator.seed_workspace("acme", "app")
    with pytest.raises(NotFound):
        tfe.runs.read("run-doesnotexist")
    with pytest.raises(AuthError):
        emulator.client(token="wrong").workspaces.read_by_id(ws_id)
    bare = tfe.workspaces.create("acme", WorkspaceCreateOptions(name="bare"))
    with pytest.raises(TFEError, match="Configuration version is missing"):
        create_run(tfe, bare.id)
    emulator.add_fault({"kind": "rate_limit", "path": "/api/v2/workspaces/*", "times": 1, "reset_seconds": 0.1})
    with pytest.raises(RateLimited):
        tfe.workspaces.read_by_id(ws_id)
    emulator.add_fault({"kind": "status", "status": 503, "path": "/api/v2/workspaces/*", "times": 1})
    with pytest.raises(ServerError):
        tfe.workspaces.read_by_id(ws_id)
    assert tfe.workspaces.read_by_id(ws_id).id == ws_id


def test_pytfe_retry_after_a_late_502_duplicates_the_run(emulator):
    """The fault the Rust client avoids: pytfe retries POST /runs after a 502 that came after the create."""
    ws_id = emulator.seed_workspace("acme", "app")
    emulator.add_fault({"kind": "status", "status": 502, "when": "after", "method": "POST", "path": "/api/v2/runs", "times": 1})
    retrying = emulator.client(max_retries=1, backoff_base=0.01)
    create_run(retrying, ws_id)
    assert len(emulator.runs()) == 2
