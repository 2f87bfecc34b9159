"""A CDK app built on bindings that `cdktn get` or `cdktf get` generated from this provider's own schema: the three
Python examples of the tfe_workspace_run page, each as a stack, once per way of installing the provider.

    python3 main.py cdktn|cdktf        (the `app` of the cdktf.json that tests/python/test_cdk_get.py writes)

The first argument names the CDK library the bindings were generated for: `cdktn` (CDK Terrain, the maintained
successor of CDKTF) or `cdktf` (CDKTF 0.21, HashiCorp's last release). The app imports the generated packages
from `imports/` (cdktf.json's codeMakerOutput): `imports.tfe` (hashicorp/tfe) and `imports.tferun` (tferun/tfe,
generated under the local name `tferun`). It synthesises six stacks:

  drop-in-<example>       everything from the provider installed as hashicorp/tfe (`imports.tfe`)
  side-by-side-<example>  tfe_workspace_run from tferun/tfe (`imports.tferun`, `provider=` the tferun provider);
                          the organization, OAuth client and workspaces from hashicorp/tfe: with cdktf, HashiCorp's
                          prebuilt bindings (cdktf-cdktf-provider-tfe), which is what a CDKTF user already has; with
                          cdktn, which has none, the generated `imports.tfe`

where <example> is multiple-workspaces, manual-confirmation or no-retries. The example bodies are the page's
text with three changes, each marked: the page's `import ...gen.providers.tfe as tfe` becomes the `tfe`
parameter; the page passes the Organization construct as `organization`, which the bindings' type check
rejects (they take a string), so its `.name` is passed (Terraform sees the same reference); and each
WorkspaceRun takes `provider=run_provider` (None for drop-in). The token and the host are left to the provider's
TFE_TOKEN and TFE_HOSTNAME, so they never land in the synthesised JSON.
"""

from __future__ import annotations

import importlib
import sys
from types import SimpleNamespace

LIBRARIES = ("cdktn", "cdktf")


def multiple_workspaces(self, cdktf, tfe, runs, run_provider) -> None:
    # "Basic usage with multiple workspaces"
    WorkspaceVcsRepo = tfe.workspace.WorkspaceVcsRepo  # the page uses these names bare
    WorkspaceRunApply, WorkspaceRunDestroy = runs.WorkspaceRunApply, runs.WorkspaceRunDestroy
    tfe_organization_test_organization = tfe.organization.Organization(self, "test-organization",
        email="admin@company.com",
        name="my-org-name"
    )
    tfe_oauth_client_test = tfe.oauth_client.OauthClient(self, "test",
        api_url="https://api.github.com",
        http_url="https://github.com",
        oauth_token="oauth_token_id",
        organization=tfe_organization_test_organization.name,  # changed: `.name`
        service_provider="github"
    )
    tfe_workspace_child = tfe.workspace.Workspace(self, "child",
        name="child-ws",
        organization=tfe_organization_test_organization.name,  # changed: `.name`
        queue_all_runs=False,
        vcs_repo=WorkspaceVcsRepo(
            branch="main",
            identifier="my-org-name/vcs-repository",
            oauth_token_id=cdktf.Token.as_string(tfe_oauth_client_test.oauth_token_id)
        )
    )
    tfe_workspace_parent = tfe.workspace.Workspace(self, "parent",
        name="parent-ws",
        organization=tfe_organization_test_organization.name,  # changed: `.name`
        queue_all_runs=False,
        vcs_repo=WorkspaceVcsRepo(
            branch="main",
            identifier="my-org-name/vcs-repository",
            oauth_token_id=cdktf.Token.as_string(tfe_oauth_client_test.oauth_token_id)
        )
    )
    tfe_workspace_run_ws_run_parent = runs.WorkspaceRun(self, "ws_run_parent",
        provider=run_provider,  # added
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
    runs.WorkspaceRun(self, "ws_run_child",
        provider=run_provider,  # added
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


def organization_and_parent_workspace(self, cdktf, tfe):
    # The first three resources of the page's second and third examples, identical in both.
    WorkspaceVcsRepo = tfe.workspace.WorkspaceVcsRepo
    tfe_organization_test_organization = tfe.organization.Organization(self, "test-organization",
        email="admin@company.com",
        name="my-org-name"
    )
    tfe_oauth_client_test = tfe.oauth_client.OauthClient(self, "test",
        api_url="https://api.github.com",
        http_url="https://github.com",
        oauth_token="oauth_token_id",
        organization=tfe_organization_test_organization.name,  # changed: `.name`
        service_provider="github"
    )
    return tfe.workspace.Workspace(self, "parent",
        name="parent-ws",
        organization=tfe_organization_test_organization.name,  # changed: `.name`
        queue_all_runs=False,
        vcs_repo=WorkspaceVcsRepo(
            branch="main",
            identifier="my-org-name/vcs-repository",
            oauth_token_id=cdktf.Token.as_string(tfe_oauth_client_test.oauth_token_id)
        )
    )


def manual_confirmation(self, cdktf, tfe, runs, run_provider) -> None:
    # "With manual confirmation"
    WorkspaceRunApply, WorkspaceRunDestroy = runs.WorkspaceRunApply, runs.WorkspaceRunDestroy
    tfe_workspace_parent = organization_and_parent_workspace(self, cdktf, tfe)
    runs.WorkspaceRun(self, "ws_run_parent",
        provider=run_provider,  # added
        apply=WorkspaceRunApply(
            manual_confirm=True
        ),
        destroy=WorkspaceRunDestroy(
            manual_confirm=True,
            wait_for_run=True
        ),
        workspace_id=cdktf.Token.as_string(tfe_workspace_parent.id)
    )


def no_retries(self, cdktf, tfe, runs, run_provider) -> None:
    # "With no retries"
    WorkspaceRunApply, WorkspaceRunDestroy = runs.WorkspaceRunApply, runs.WorkspaceRunDestroy
    tfe_workspace_parent = organization_and_parent_workspace(self, cdktf, tfe)
    runs.WorkspaceRun(self, "ws_run_parent",
        provider=run_provider,  # added
        apply=WorkspaceRunApply(
            manual_confirm=False,
            retry=False
        ),
        destroy=WorkspaceRunDestroy(
            manual_confirm=False,
            retry=False,
            wait_for_run=True
        ),
        workspace_id=cdktf.Token.as_string(tfe_workspace_parent.id)
    )


EXAMPLES = {
    "multiple-workspaces": multiple_workspaces,
    "manual-confirmation": manual_confirmation,
    "no-retries": no_retries,
}


def bindings(package: str) -> SimpleNamespace:
    """The modules of one set of tfe bindings, as the page's `tfe.` names them."""
    names = ("provider", "organization", "oauth_client", "workspace", "workspace_run")
    return SimpleNamespace(**{name: importlib.import_module(f"{package}.{name}") for name in names})


def build(library: str) -> None:
    cdktf = importlib.import_module(library)
    generated_tfe = bindings("imports.tfe")
    tferun = bindings("imports.tferun")
    # A CDKTF user keeps HashiCorp's prebuilt bindings for the official provider; CDK Terrain has none.
    official = bindings("cdktf_cdktf_provider_tfe") if library == "cdktf" else generated_tfe

    app = cdktf.App()
    for example, body in EXAMPLES.items():
        stack = cdktf.TerraformStack(app, f"drop-in-{example}")
        generated_tfe.provider.TfeProvider(stack, "tfe")
        body(stack, cdktf, generated_tfe, generated_tfe.workspace_run, None)

        stack = cdktf.TerraformStack(app, f"side-by-side-{example}")
        official.provider.TfeProvider(stack, "tfe")
        run_provider = tferun.provider.TferunProvider(stack, "tferun")
        body(stack, cdktf, official, tferun.workspace_run, run_provider)
    app.synth()


def main(argv: list[str]) -> int:
    if len(argv) != 1 or argv[0] not in LIBRARIES:
        print(__doc__, file=sys.stderr)
        return 2
    build(argv[0])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
