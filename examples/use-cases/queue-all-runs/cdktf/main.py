"""Use case 2 of the tfe_workspace_run page, "a more reliable queue_all_runs = true", in CDKTF Python with
HashiCorp's prebuilt tfe bindings (the `cdktf-cdktf-provider-tfe` package): the same two workspaces as
../main.tf.

- "eager" is created with queue_all_runs = True: its first run starts before its `region` variable exists,
  and its plan fails for the missing variable.
- "steady" is created with queue_all_runs = False; a WorkspaceRun that depends on its variables queues its
  first run once they exist (wait_for_run = False: the run goes on, auto-applied, after the apply ends).

    python3 main.py     # or `cdktf synth`: writes cdktf.out/stacks/queue-all-runs/cdk.tf.json

The provider reads TFE_HOSTNAME and TFE_TOKEN from the environment, so the token never lands in the JSON.
"""

from __future__ import annotations

from cdktf import App, TerraformOutput, TerraformStack, TerraformVariable
from cdktf_cdktf_provider_tfe.oauth_client import OauthClient
from cdktf_cdktf_provider_tfe.organization import Organization
from cdktf_cdktf_provider_tfe.provider import TfeProvider
from cdktf_cdktf_provider_tfe.variable import Variable
from cdktf_cdktf_provider_tfe.workspace import Workspace, WorkspaceVcsRepo
from cdktf_cdktf_provider_tfe.workspace_run import WorkspaceRun, WorkspaceRunApply, WorkspaceRunDestroy
from constructs import Construct


class QueueAllRunsStack(TerraformStack):
    def __init__(self, scope: Construct, name: str):
        super().__init__(scope, name)
        TfeProvider(self, "tfe")

        organization_name = TerraformVariable(self, "organization", type="string", default="my-org-name")
        region = TerraformVariable(self, "region", type="string", default="eu-west-1")

        org = Organization(self, "org", name=organization_name.string_value, email="admin@company.com")
        github = OauthClient(
            self,
            "github",
            organization=org.name,
            api_url="https://api.github.com",
            http_url="https://github.com",
            oauth_token="oauth_token_id",
            service_provider="github",
        )

        def workspace(name: str, queue_all_runs: bool) -> Workspace:
            return Workspace(
                self,
                name,
                name=name,
                organization=org.name,
                queue_all_runs=queue_all_runs,
                vcs_repo=WorkspaceVcsRepo(
                    identifier=f"{organization_name.string_value}/service",
                    oauth_token_id=github.oauth_token_id,
                ),
            )

        # The race: the initial run starts without the variable below.
        eager = workspace("eager", queue_all_runs=True)
        Variable(self, "eager_region", key="region", value=region.string_value, category="terraform",
                 workspace_id=eager.id)

        # The cure: no initial run from the workspace; a WorkspaceRun queued after the variables.
        steady = workspace("steady", queue_all_runs=False)
        steady_region = Variable(self, "steady_region", key="region", value=region.string_value,
                                 category="terraform", workspace_id=steady.id)
        steady_token = Variable(self, "steady_token", key="CLOUD_API_TOKEN", value="not-a-real-token",
                                category="env", sensitive=True, workspace_id=steady.id)
        run = WorkspaceRun(
            self,
            "steady_run",
            workspace_id=steady.id,
            apply=WorkspaceRunApply(manual_confirm=False, wait_for_run=False),
            # Empties the workspace before it is deleted (safe delete refuses one that manages resources).
            destroy=WorkspaceRunDestroy(manual_confirm=False, wait_for_run=True),
            depends_on=[steady_region, steady_token],
        )
        TerraformOutput(self, "steady_run_id", value=run.id)


if __name__ == "__main__":
    app = App()
    QueueAllRunsStack(app, "queue-all-runs")
    app.synth()
