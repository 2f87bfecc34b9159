"""A CDKTF app built with HashiCorp's prebuilt tfe bindings (cdktf-cdktf-provider-tfe), mirroring the
tfe_workspace_run page's Python examples, for tests/python/test_cdktf.py.

    python app.py OUTDIR EXAMPLE HOSTNAME WORKSPACE_ID...

EXAMPLE is one of:
  parent_child  two workspaces, the child's run depending on the parent's (ids: parent, child)
  no_retries    apply and destroy with retry = false (id: the workspace)
  manual        manual_confirm = true on both blocks; someone else confirms the runs (id: the workspace)
  seed_first    the page's first example (as printed but for `organization`): organization, OAuth client, two VCS-linked workspaces and
                their runs (no ids)

Writes OUTDIR/stacks/EXAMPLE/cdk.tf.json. The token is left to TFE_TOKEN so it never lands in the JSON.
"""

from __future__ import annotations

import sys

import cdktf
from cdktf import App, TerraformStack
from cdktf_cdktf_provider_tfe import oauth_client, organization, workspace
from cdktf_cdktf_provider_tfe.provider import TfeProvider
from cdktf_cdktf_provider_tfe.workspace import WorkspaceVcsRepo
from cdktf_cdktf_provider_tfe.workspace_run import WorkspaceRun, WorkspaceRunApply, WorkspaceRunDestroy
from constructs import Construct


def parent_child(stack: TerraformStack, parent_id: str, child_id: str) -> None:
    parent = WorkspaceRun(
        stack,
        "ws_run_parent",
        workspace_id=parent_id,
        apply=WorkspaceRunApply(manual_confirm=False, retry_attempts=5, retry_backoff_min=5, wait_for_run=True),
        destroy=WorkspaceRunDestroy(manual_confirm=False, retry_attempts=3, retry_backoff_min=10, wait_for_run=True),
    )
    WorkspaceRun(
        stack,
        "ws_run_child",
        workspace_id=child_id,
        apply=WorkspaceRunApply(manual_confirm=False, retry_attempts=5, retry_backoff_min=5),
        destroy=WorkspaceRunDestroy(manual_confirm=False, retry_attempts=3, retry_backoff_min=10, wait_for_run=True),
        depends_on=[parent],
    )


def no_retries(stack: TerraformStack, workspace_id: str) -> None:
    WorkspaceRun(
        stack,
        "ws_run_parent",
        workspace_id=workspace_id,
        apply=WorkspaceRunApply(manual_confirm=False, retry=False),
        destroy=WorkspaceRunDestroy(manual_confirm=False, retry=False, wait_for_run=True),
    )


def manual(stack: TerraformStack, workspace_id: str) -> None:
    WorkspaceRun(
        stack,
        "ws_run_parent",
        workspace_id=workspace_id,
        apply=WorkspaceRunApply(manual_confirm=True),
        destroy=WorkspaceRunDestroy(manual_confirm=True, wait_for_run=True),
    )


def seed_first(self) -> None:
    # The body of the page's first example as printed (`self` is the stack; `tfe.` is the bindings' modules),
    # with one change: the page passes the Organization construct itself as `organization`, which the bindings'
    # type check rejects (they take a string), so its `.name` is passed; Terraform sees the same reference.
    tfe_organization_test_organization = tfe.organization.Organization(self, "test-organization",
        email="admin@company.com",
        name="my-org-name"
    )
    tfe_oauth_client_test = tfe.oauth_client.OauthClient(self, "test",
        api_url="https://api.github.com",
        http_url="https://github.com",
        oauth_token="oauth_token_id",
        organization=tfe_organization_test_organization.name,
        service_provider="github"
    )
    tfe_workspace_child = tfe.workspace.Workspace(self, "child",
        name="child-ws",
        organization=tfe_organization_test_organization.name,
        queue_all_runs=False,
        vcs_repo=WorkspaceVcsRepo(
            branch="main",
            identifier="my-org-name/vcs-repository",
            oauth_token_id=cdktf.Token.as_string(tfe_oauth_client_test.oauth_token_id)
        )
    )
    tfe_workspace_parent = tfe.workspace.Workspace(self, "parent",
        name="parent-ws",
        organization=tfe_organization_test_organization.name,
        queue_all_runs=False,
        vcs_repo=WorkspaceVcsRepo(
            branch="main",
            identifier="my-org-name/vcs-repository",
            oauth_token_id=cdktf.Token.as_string(tfe_oauth_client_test.oauth_token_id)
        )
    )
    tfe_workspace_run_ws_run_parent = tfe.workspace_run.WorkspaceRun(self, "ws_run_parent",
        apply=WorkspaceRunApply(
            manual_confirm=False,
            retry_attempts=5,
            retry_backoff_min=5,
            wait_for_run=True
        ),
        destroy=WorkspaceRunDestroy(
            manual_confirm=False,
            retry_attempts=3,
            retry_backoff_min=10,
            wait_for_run=True
        ),
        workspace_id=cdktf.Token.as_string(tfe_workspace_parent.id)
    )
    tfe.workspace_run.WorkspaceRun(self, "ws_run_child",
        apply=WorkspaceRunApply(
            manual_confirm=False,
            retry_attempts=5,
            retry_backoff_min=5
        ),
        depends_on=[tfe_workspace_run_ws_run_parent],
        destroy=WorkspaceRunDestroy(
            manual_confirm=False,
            retry_attempts=3,
            retry_backoff_min=10,
            wait_for_run=True
        ),
        workspace_id=cdktf.Token.as_string(tfe_workspace_child.id)
    )


class tfe:  # noqa: N801 - stands for the page's `import ...gen.providers.tfe as tfe`
    organization = organization
    oauth_client = oauth_client
    workspace = workspace
    workspace_run = sys.modules["cdktf_cdktf_provider_tfe.workspace_run"]


EXAMPLES = {
    "parent_child": (parent_child, 2),
    "no_retries": (no_retries, 1),
    "manual": (manual, 1),
    "seed_first": (seed_first, 0),
}


class WorkspaceRunStack(TerraformStack):
    def __init__(self, scope: Construct, example: str, hostname: str, workspace_ids: list[str]):
        super().__init__(scope, example)
        TfeProvider(self, "tfe", hostname=hostname)
        build, _ = EXAMPLES[example]
        build(self, *workspace_ids)


def main(argv: list[str]) -> int:
    if len(argv) < 3 or argv[1] not in EXAMPLES or len(argv) - 3 != EXAMPLES[argv[1]][1]:
        print(__doc__, file=sys.stderr)
        return 2
    outdir, example, hostname, *workspace_ids = argv
    app = App(outdir=outdir)
    WorkspaceRunStack(app, example, hostname, workspace_ids)
    app.synth()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
