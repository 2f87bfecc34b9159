"""pytfe 1.5.0 against the parts of the API around runs that clients of the real API walk: the organization
list, the entitlement set, terraform-version validation, JSON:API 405 answers, and the run logs behind an
absolute log-read-url (pytfe refuses a relative one)."""

from __future__ import annotations

import json
import urllib.error
import urllib.request

import pytest
from pytfe.errors import NotFound, TFEError
from pytfe.models import (
    OrganizationCreateOptions,
    RunApplyOptions,
    RunCreateOptions,
    Workspace,
    WorkspaceCreateOptions,
    WorkspaceUpdateOptions,
)

from conftest import wait_for_status

FAST = {"plan_ms": 40, "apply_ms": 40}


def fetch(emulator, url: str, method: str = "GET", token: str | None = None):
    """(status, body bytes) of one request without pytfe (and, unless given, without a token)."""
    request = urllib.request.Request(url, method=method)
    if token:
        request.add_header("authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, context=emulator._ssl, timeout=10) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def test_organizations_list(tfe):
    for name in ["alpha", "beta", "gamma"]:
        tfe.organizations.create(OrganizationCreateOptions(name=name, email=f"ops@{name}.test"))
    names = sorted(o.name for o in tfe.organizations.list())
    assert names == ["alpha", "beta", "gamma"]


def test_entitlement_set(emulator, tfe):
    emulator.seed_workspace("acme", "app")
    granted = tfe.organizations.read_entitlements("acme")
    assert granted.operations is True and granted.state_storage is True and granted.vcs_integrations is True
    emulator.admin("PUT", "/_emulator/knobs/organizations/acme", {"entitlements": {"operations": False}})
    assert tfe.organizations.read_entitlements("acme").operations is False
    with pytest.raises(NotFound):
        tfe.organizations.read_entitlements("nope")


def test_unknown_terraform_version_is_refused(emulator, tfe):
    emulator.seed_workspace("acme", "app")
    with pytest.raises(TFEError) as refused:
        tfe.workspaces.update("app", WorkspaceUpdateOptions(name="app", terraform_version="1.99.0"), organization="acme")
    assert refused.value.status == 422
    assert "1.99.0" in str(refused.value)
    with pytest.raises(TFEError):
        tfe.workspaces.create("acme", WorkspaceCreateOptions(name="other", terraform_version="banana"))
    ws = tfe.workspaces.update("app", WorkspaceUpdateOptions(name="app", terraform_version="1.5.7"), organization="acme")
    assert ws.terraform_version == "1.5.7"


def test_a_405_is_a_json_api_error_document(emulator):
    from conftest import TOKEN

    status, body = fetch(emulator, emulator.base_url + "/api/v2/organizations", method="PUT", token=TOKEN)
    assert status == 405
    errors = json.loads(body)["errors"]
    assert errors[0]["status"] == "405" and "not allowed" in errors[0]["detail"]


def test_plan_and_apply_logs(emulator, tfe):
    ws_id = emulator.seed_workspace("acme", "app")
    emulator.set_workspace_knobs(ws_id, {**FAST, "outputs": {"region": "eu-west-1"}})
    run = tfe.runs.create(RunCreateOptions(workspace=Workspace(id=ws_id)))
    planned = wait_for_status(tfe, run.id, "planned")
    plan = tfe.plans.read(planned.plan.id)
    # pytfe checks that the URL is absolute before reading it.
    tfe.plans.logs(plan.id)
    assert plan.log_read_url.startswith(emulator.base_url + "/_archivist/v1/object/")
    status, text = fetch(emulator, plan.log_read_url)
    assert status == 200
    assert text.startswith(b"\x02") and text.endswith(b"\x03")
    assert b"Plan: 1 to add, 0 to change, 0 to destroy." in text
    status, window = fetch(emulator, plan.log_read_url + "?offset=1&limit=9")
    assert window == b"Terraform"

    tfe.runs.apply(run.id, RunApplyOptions())
    applied = wait_for_status(tfe, run.id, "applied")
    apply = tfe.applies.read(applied.apply.id)
    status, text = fetch(emulator, apply.log_read_url)
    assert b"Apply complete! Resources: 1 added, 0 changed, 0 destroyed." in text
    assert b'region = "eu-west-1"' in text
