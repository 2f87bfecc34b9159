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


def test_a_405_is_a_json_api_error_document(emulator, tfe):
    from conftest import TOKEN

    status, body = fetch(emulator, emulator.base_url + "/api/v2/organizations", method="PUT", token=TOKEN)
    assert status == 405
    errors = json.loads(body)["errors"]
    assert errors[0]["status"] == "405" and "not allowed" in errors[0]["detail"]
    # pytfe's transport reads the document into its error.
    with pytest.raises(TFEError) as refused:
        tfe._transport.request("PUT", "/api/v2/organizations", json_body={})
    assert refused.value.status == 405
    assert "PUT is not allowed on /api/v2/organizations" in str(refused.value)


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


def test_organization_rename_and_session_settings(emulator, tfe):
    from pytfe.models import OrganizationUpdateOptions

    ws_id = emulator.seed_workspace("acme", "app")
    renamed = tfe.organizations.update(
        "acme", OrganizationUpdateOptions(name="acme-two", session_timeout=20160, session_remember=30)
    )
    assert renamed.id == "acme-two" and renamed.name == "acme-two"
    # pytfe sends the session settings (snake_case) but its Organization model reads them under snake_case
    # names only, while the API (this emulator too) answers kebab-case: read the answer itself.
    from conftest import TOKEN

    status, body = fetch(emulator, emulator.base_url + "/api/v2/organizations/acme-two", token=TOKEN)
    attributes = json.loads(body)["data"]["attributes"]
    assert status == 200 and (attributes["session-timeout"], attributes["session-remember"]) == (20160, 30)
    with pytest.raises(NotFound):
        tfe.organizations.read("acme")
    assert tfe.workspaces.read_by_id(ws_id).name == "app"
    assert tfe.workspaces.read("app", organization="acme-two").id == ws_id


def test_workspace_settings(emulator, tfe):
    emulator.seed_workspace("acme", "seed")
    ws = tfe.workspaces.create(
        "acme",
        WorkspaceCreateOptions(
            name="app", file_triggers_enabled=False, speculative_enabled=False, trigger_prefixes=["modules/"],
            structured_run_output_enabled=False,
        ),
    )
    assert ws.file_triggers_enabled is False and ws.speculative_enabled is False
    assert ws.trigger_prefixes == ["modules/"] and ws.structured_run_output_enabled is False
    assert ws.operations is True
    updated = tfe.workspaces.update_by_id(ws.id, WorkspaceUpdateOptions(name="app", operations=False, trigger_prefixes=[]))
    assert updated.operations is False and updated.execution_mode == "local" and updated.trigger_prefixes == []
    read = tfe.workspaces.read_by_id(ws.id)
    assert read.file_triggers_enabled is False and read.operations is False


def test_remove_vcs_connection_and_list_with_organization(emulator, tfe):
    from pytfe.models import WorkspaceIncludeOpt, WorkspaceListOptions

    ws_id = emulator.seed_workspace("acme", "app")
    assert tfe.workspaces.read_by_id(ws_id).vcs_repo is not None
    assert tfe.workspaces.remove_vcs_connection_by_id(ws_id).vcs_repo is None
    assert tfe.workspaces.read_by_id(ws_id).vcs_repo is None
    listed = list(tfe.workspaces.list("acme", WorkspaceListOptions(include=[WorkspaceIncludeOpt.ORGANIZATION])))
    assert [w.id for w in listed] == [ws_id]
    org = listed[0].organization
    assert org is not None and getattr(org, "name", None) in ("acme", None)
    assert getattr(org, "id", None) == "acme"


SSH_KEY = "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAAB\n-----END OPENSSH PRIVATE KEY-----\n"


def test_oauth_clients_and_tokens(emulator, tfe):
    from pytfe.models import OAuthClientCreateOptions, OAuthTokenUpdateOptions, ServiceProviderType

    emulator.seed_workspace("acme", "app")
    created = tfe.oauth_clients.create(
        "acme",
        OAuthClientCreateOptions(
            api_url="https://api.github.com", http_url="https://github.com", oauth_token="ghp_secret",
            service_provider=ServiceProviderType.GITHUB,
        ),
    )
    clients = list(tfe.oauth_clients.list("acme"))
    assert [c.id for c in clients] == [created.id]
    tokens = list(tfe.oauth_tokens.list("acme"))
    assert len(tokens) == 1 and tokens[0].has_ssh_key is False
    token_id = tokens[0].id
    assert tfe.oauth_tokens.update(token_id, OAuthTokenUpdateOptions(private_ssh_key=SSH_KEY)).has_ssh_key is True
    assert tfe.oauth_tokens.read(token_id).has_ssh_key is True
    with pytest.raises(TFEError) as refused:
        tfe.oauth_tokens.update(token_id, OAuthTokenUpdateOptions(private_ssh_key="not a key"))
    assert refused.value.status == 422 and "Ssh key is invalid" in str(refused.value)
    assert tfe.oauth_tokens.update(token_id, OAuthTokenUpdateOptions(private_ssh_key="")).has_ssh_key is False
    tfe.oauth_tokens.delete(token_id)
    with pytest.raises(NotFound):
        tfe.oauth_tokens.read(token_id)
