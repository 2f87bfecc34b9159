"""A CDKTF app built with HashiCorp's prebuilt tfe bindings (cdktf-cdktf-provider-tfe), mirroring the
tfe_workspace_run page's Python examples, for tests/python/test_cdktf.py.

    python app.py OUTDIR EXAMPLE HOSTNAME WORKSPACE_ID...

EXAMPLE is one of:
  parent_child  two workspaces, the child's run depending on the parent's (ids: parent, child)
  no_retries    apply and destroy with retry = false (id: the workspace)
  manual        manual_confirm = true on both blocks; someone else confirms the runs (id: the workspace)

Writes OUTDIR/stacks/EXAMPLE/cdk.tf.json. The token is left to TFE_TOKEN so it never lands in the JSON.
"""

from __future__ import annotations

import sys

from cdktf import App, TerraformStack
from cdktf_cdktf_provider_tfe.provider import TfeProvider
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


EXAMPLES = {"parent_child": (parent_child, 2), "no_retries": (no_retries, 1), "manual": (manual, 1)}


class WorkspaceRunStack(TerraformStack):
    def __init__(self, scope: Construct, example: str, hostname: str, workspace_ids: list[str]):
        super().__init__(scope, example)
        TfeProvider(self, "tfe", hostname=hostname)
        build, _ = EXAMPLES[example]
        build(self, *workspace_ids)


def main(argv: list[str]) -> int:
    if len(argv) < 4 or argv[1] not in EXAMPLES or len(argv) - 3 != EXAMPLES[argv[1]][1]:
        print(__doc__, file=sys.stderr)
        return 2
    outdir, example, hostname, *workspace_ids = argv
    app = App(outdir=outdir)
    WorkspaceRunStack(app, example, hostname, workspace_ids)
    app.synth()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
