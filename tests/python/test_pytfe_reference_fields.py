"""pytfe 1.5.0 reads the attributes the public API reference documents, as the emulator now returns them.

Workspace settings pytfe sends on create come back on every read (description, global remote state, the
auto-destroy duration, the tool that made it), a run tells when it was canceled and why it started, a plan says
whether it generated configuration, a policy check gives its output, and every answer still validates against
pytfe's pydantic models. Both run over HTTP and HTTPS (the `emulator` fixture).
"""

from __future__ import annotations

import json
import urllib.request

from pytfe.models import RunCreateOptions, Workspace, WorkspaceCreateOptions

from conftest import TOKEN, wait_for_status


def value(x):
    return getattr(x, "value", x)


def get(emulator, path: str):
    """The API's own answer (for what pytfe's models leave out), with the emulator's token."""
    request = urllib.request.Request(emulator.base_url + path)
    request.add_header("authorization", f"Bearer {TOKEN}")
    with urllib.request.urlopen(request, context=emulator._ssl, timeout=10) as response:
        body = response.read()
        return response.status, response.headers.get("content-type", ""), body


def test_workspace_settings_pytfe_sends_come_back(emulator, tfe):
    emulator.seed_workspace("acme", "seed")
    created = tfe.workspaces.create(
        "acme",
        WorkspaceCreateOptions(
            name="app", description="the app", global_remote_state=True, auto_apply_run_trigger=True,
            auto_destroy_activity_duration="14d", source_name="shapes-suite",
            source_url="https://ci.example/shapes", trigger_patterns=["modules/**/*"],
        ),
    )
    for ws in (created, tfe.workspaces.read_by_id(created.id), tfe.workspaces.read("app", organization="acme")):
        assert ws.description == "the app" and ws.global_remote_state is True
        assert ws.auto_apply_run_trigger is True and ws.auto_destroy_activity_duration == "14d"
        assert (ws.source_name, ws.source_url) == ("shapes-suite", "https://ci.example/shapes")
        assert ws.trigger_patterns == ["modules/**/*"] and value(ws.source) == "tfe-api"
        assert ws.environment == "default" and ws.latest_change_at == ws.created_at
        assert ws.permissions.can_read_settings is True and ws.permissions.can_update_variable is True
        # Health assessments are HCP Terraform's: a Terraform Enterprise answer leaves the key out.
        assert ws.assessments_enabled is None
    assert created.setting_overwrites.execution_mode is False


def test_a_canceled_run_says_when_and_why_it_started(emulator, tfe):
    ws_id = emulator.seed_workspace("acme", "app", knobs={"plan_ms": 3_600_000, "cancel_ms": 10})
    run = tfe.runs.create(RunCreateOptions(workspace=Workspace(id=ws_id)))
    assert run.trigger_reason == "manual" and run.canceled_at is None and run.save_plan is False
    wait_for_status(tfe, run.id, "planning")
    tfe.runs.cancel(run.id)
    canceled = wait_for_status(tfe, run.id, "canceled")
    assert canceled.canceled_at is not None
    assert canceled.canceled_at == canceled.status_timestamps.canceled_at
    plan = tfe.plans.read(canceled.plan.id)
    assert plan.generated_configuration is False and value(plan.status) == "canceled"


def test_a_policy_checks_output_names_the_failing_policy(emulator, tfe):
    ws_id = emulator.seed_workspace("acme", "app", knobs={"plan_ms": 40, "apply_ms": 40, "policy": "soft_fail"})
    run = tfe.runs.create(RunCreateOptions(workspace=Workspace(id=ws_id)))
    wait_for_status(tfe, run.id, "policy_override")
    (check,) = list(tfe.policy_checks.list(run.id))
    assert value(check.status) == "soft_failed" and check.result.soft_failed == 1
    status, kind, body = get(emulator, f"/api/v2/policy-checks/{check.id}/output")
    assert status == 200 and kind.startswith("text/plain")
    assert "Sentinel Result: false" in body.decode() and "(soft-mandatory)" in body.decode()
    document = json.loads(get(emulator, f"/api/v2/policy-checks/{check.id}")[2])
    assert document["data"]["links"]["output"] == f"/api/v2/policy-checks/{check.id}/output"
