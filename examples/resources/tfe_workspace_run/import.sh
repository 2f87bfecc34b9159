#!/usr/bin/env bash
# Importing an existing run is not supported yet; this is the command it will take:
terraform import tfe_workspace_run.ws_run_parent run-CZcmD7eagjhyXavN
