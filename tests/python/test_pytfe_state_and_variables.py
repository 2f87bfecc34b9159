"""pytfe 1.5.0 (HashiCorp's Python SDK) reads the emulator's state versions, their outputs and workspace variables.

pytfe validates every answer with pydantic (a strict enum for a state version's status and a variable's
category), so any shape it cannot parse fails the test. Both run over HTTP and HTTPS (the `emulator` fixture).
"""

from __future__ import annotations

import json
import time

import pytest
from pytfe.errors import NotFound, TFEError
from pytfe.models import (
    CategoryType,
    RunCreateOptions,
    RunVariable,
    StateVersionCurrentOptions,
    StateVersionIncludeOpt,
    StateVersionListOptions,
    StateVersionReadOptions,
    VariableCreateOptions,
    VariableUpdateOptions,
    Workspace,
    WorkspaceIncludeOpt,
    WorkspaceReadOptions,
)

from conftest import wait_for_status

FAST = {"plan_ms": 40, "apply_ms": 40}
OUTPUTS = {"endpoint": "https://cluster.example", "replicas": 3, "zones": ["a", "b"], "password": "hunter2"}


def value(x):
    return getattr(x, "value", x)


def applied_workspace(emulator, tfe, **knobs):
    """A workspace whose first run applied, leaving a state version with OUTPUTS (password sensitive)."""
    ws_id = emulator.seed_workspace(
        "acme", "parent", knobs={**FAST, "outputs": OUTPUTS, "sensitive_outputs": ["password"], **knobs}
    )
    run = tfe.runs.create(RunCreateOptions(workspace=Workspace(id=ws_id), auto_apply=True))
    wait_for_status(tfe, run.id, "applied")
    return ws_id, run


def test_state_versions_and_their_outputs(emulator, tfe):
    ws_id, run = applied_workspace(emulator, tfe)
    current = tfe.state_versions.read_current(ws_id)
    assert current.id.startswith("sv-")
    assert value(current.status) == "finalized"
    assert current.serial == 1 and current.state_version == 4
    assert current.resources_processed is True
    assert current.hosted_state_download_url and current.hosted_json_state_download_url
    assert tfe.state_versions.read(current.id).serial == 1

    with_outputs = tfe.state_versions.read_current_with_options(
        ws_id, StateVersionCurrentOptions(include=[StateVersionIncludeOpt.OUTPUTS])
    )
    included = {item["attributes"]["name"]: item for item in with_outputs.included}
    assert set(included) == set(OUTPUTS)
    assert included["password"]["attributes"]["value"] is None
    read = tfe.state_versions.read_with_options(
        current.id, StateVersionReadOptions(include=[StateVersionIncludeOpt.RUN])
    )
    assert [item["id"] for item in read.included] == [run.id]

    listed = {o.name: o for o in tfe.state_versions.list_outputs(current.id)}
    assert listed["replicas"].value == 3 and listed["replicas"].type == "number"
    assert listed["zones"].value == ["a", "b"] and listed["zones"].type == "array"
    assert listed["zones"].detailed_type == ["tuple", ["string", "string"]]
    assert listed["password"].sensitive is True and listed["password"].value is None
    # Only the single output read gives a sensitive value.
    assert tfe.state_version_outputs.read(listed["password"].id).value == "hunter2"
    workspace_outputs = {o.name: o for o in tfe.state_version_outputs.read_current(ws_id)}
    assert workspace_outputs["endpoint"].value == "https://cluster.example"
    assert workspace_outputs["password"].value is None

    # The state file, downloaded the way pytfe does it.
    state = json.loads(tfe.state_versions.download(current.id))
    assert state["version"] == 4 and state["serial"] == 1
    assert state["outputs"]["password"] == {"value": "hunter2", "type": "string", "sensitive": True}
    assert json.loads(tfe.state_versions.download_current(ws_id)) == state

    listed_versions = list(
        tfe.state_versions.list(StateVersionListOptions(organization="acme", workspace="parent"))
    )
    assert [sv.id for sv in listed_versions] == [current.id]

    ws = tfe.workspaces.read_by_id_with_options(
        ws_id,
        WorkspaceReadOptions(include=[WorkspaceIncludeOpt.OUTPUTS, WorkspaceIncludeOpt.CURRENT_STATE_VER]),
    )
    assert ws.current_state_version is not None and ws.current_state_version.id == current.id
    outputs = {o.name: o for o in ws.outputs}
    assert outputs["replicas"].value == 3 and outputs["replicas"].output_type == "number"
    assert outputs["password"].value is None


def test_outputs_wait_for_processing(emulator, tfe):
    ws_id, _ = applied_workspace(emulator, tfe, state_processing_ms=1500)
    current = tfe.state_versions.read_current(ws_id)
    assert current.resources_processed is False
    assert list(tfe.state_versions.list_outputs(current.id)) == []
    # The workspace's current outputs answer 503 meanwhile; pytfe (no retries here) reports it.
    with pytest.raises(TFEError):
        list(tfe.state_version_outputs.read_current(ws_id))
    deadline = time.monotonic() + 5
    while not tfe.state_versions.read(current.id).resources_processed:
        assert time.monotonic() < deadline, "never processed"
        time.sleep(0.05)
    assert {o.name for o in tfe.state_versions.list_outputs(current.id)} == set(OUTPUTS)


def test_no_state_yet_is_not_found(emulator, tfe):
    ws_id = emulator.seed_workspace("acme", "empty")
    with pytest.raises(NotFound):
        tfe.state_versions.read_current(ws_id)


def test_variables(emulator, tfe):
    ws_id = emulator.seed_workspace("acme", "app")
    region = tfe.variables.create(
        ws_id,
        VariableCreateOptions(key="region", value='"eu-west-1"', category=CategoryType.TERRAFORM, hcl=True,
                              description="where it runs"),
    )
    assert region.id.startswith("var-")
    assert value(region.category) == "terraform" and region.hcl is True
    assert region.value == '"eu-west-1"'
    token = tfe.variables.create(
        ws_id, VariableCreateOptions(key="API_TOKEN", value="s3cr3t", category=CategoryType.ENV, sensitive=True)
    )
    assert token.sensitive is True and token.value is None, "a sensitive value is never returned"

    assert [v.key for v in tfe.variables.list(ws_id)] == ["region", "API_TOKEN"]
    assert [v.key for v in tfe.variables.list_all(ws_id)] == ["region", "API_TOKEN"]
    assert tfe.variables.read(ws_id, token.id).value is None

    updated = tfe.variables.update(ws_id, region.id, VariableUpdateOptions(value='"us-east-1"'))
    assert updated.value == '"us-east-1"' and updated.description == "where it runs"
    with pytest.raises(TFEError, match="Key has already been taken"):
        tfe.variables.create(ws_id, VariableCreateOptions(key="region", value="x", category=CategoryType.TERRAFORM))

    tfe.variables.delete(ws_id, token.id)
    with pytest.raises(NotFound):
        tfe.variables.read(ws_id, token.id)
    assert [v.key for v in tfe.variables.list(ws_id)] == ["region"]


def test_required_variables_and_run_variables(emulator, tfe):
    ws_id = emulator.seed_workspace("acme", "app", knobs={**FAST, "required_variables": ["region"]})
    failed = tfe.runs.create(RunCreateOptions(workspace=Workspace(id=ws_id)))
    wait_for_status(tfe, failed.id, "errored")
    # A run's own variables set it; the run shows them as pytfe parses them.
    run = tfe.runs.create(
        RunCreateOptions(workspace=Workspace(id=ws_id), auto_apply=True,
                         variables=[RunVariable(key="region", value='"eu-west-1"')])
    )
    assert [(v.key, v.value) for v in run.variables] == [("region", '"eu-west-1"')]
    wait_for_status(tfe, run.id, "applied")
