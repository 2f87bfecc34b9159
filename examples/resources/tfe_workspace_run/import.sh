#!/usr/bin/env bash
# Import an existing run by its ID; workspace_id is read from the run.
terraform import tfe_workspace_run.ws_run_parent run-CZcmD7eagjhyXavN
