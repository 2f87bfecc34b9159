//! End to end, both Terraform CLIs against tfe-emulator, installing from a filesystem mirror laid
//! out as `make install` does: this provider under its second address `tferun/tfe` next to a Go
//! provider (HashiCorp's null provider 2.1.2, standing in for the official hashicorp/tfe, which
//! cannot be downloaded here), and the migrations from the official resource in both modes, each
//! checked to queue no run (the emulator's request log).

use serde_json::{Value, json};

use test_support::check;
use test_support::emulator::TestEmulator;
use test_support::mirror::{VERSION, mirror_config};
use test_support::session::*;
use test_support::terraform::{DevOverrides, TerraformCli, all_clis};

const INIT: &[&str] = &["init", "-input=false", "-no-color"];
const PLAN_NO_CHANGES: &[&str] = &[
    "plan",
    "-input=false",
    "-no-color",
    "-lock=false",
    "-detailed-exitcode",
];
const BLOCKS: &str =
    "  apply {\n    manual_confirm = false\n  }\n  destroy {\n    manual_confirm = false\n  }\n";

/// The provider address of resource `name` in the state.
fn state_resource(s: &Session<'_>, name: &str) -> Option<Value> {
    let text = std::fs::read_to_string(s.dir.path().join("terraform.tfstate")).ok()?;
    let state: Value = serde_json::from_str(&text).expect("state JSON");
    state["resources"]
        .as_array()?
        .iter()
        .find(|r| r["type"] == "tfe_workspace_run" && r["name"] == name)
        .cloned()
}

fn write_main(s: &Session<'_>, text: &str) {
    std::fs::write(s.dir.path().join("main.tf"), text).expect("write main.tf");
}

/// Both CLIs (import and removed blocks need 1.7; the current CLI has them, 1.0.3 does not).
fn has_config_driven_import(cli: &TerraformCli) -> bool {
    cli.label != "terraform 1.0.3"
}

#[test]
fn side_by_side_with_a_go_provider_applies_and_destroys() {
    let emu = TestEmulator::start();
    let mirror = mirror_config();
    for cli in all_clis() {
        let ws = workspace(&emu, &cli, "sbs", json!({}));
        let main_tf = format!(
            r#"terraform {{
  required_providers {{
    null   = {{ source = "hashicorp/null", version = "2.1.2" }}
    tferun = {{ source = "tferun/tfe", version = "{VERSION}" }}
  }}
}}

provider "tferun" {{}}

resource "null_resource" "ready" {{
  triggers = {{ workspace = "{ws}" }}
}}

resource "tfe_workspace_run" "r" {{
  provider     = tferun
  workspace_id = "{ws}"
  depends_on   = [null_resource.ready]
{BLOCKS}}}
"#
        );
        let s = Session::new(&emu, &cli, &mirror, &main_tf);
        let out = s.terraform(INIT);
        check!(out.success, s, out, "init from the mirror failed");
        let lock = std::fs::read_to_string(s.dir.path().join(".terraform.lock.hcl")).unwrap();
        assert!(
            lock.contains("registry.terraform.io/tferun/tfe")
                && lock.contains("registry.terraform.io/hashicorp/null"),
            "{}: lock file\n{lock}",
            cli.label
        );
        assert!(
            !lock.contains("registry.terraform.io/hashicorp/tfe"),
            "{}: hashicorp/tfe was installed although nothing uses it\n{lock}",
            cli.label
        );

        let out = s.terraform(APPLY);
        check!(out.success, s, out, "apply failed");
        check!(
            out.stdout.contains("2 added"),
            s,
            out,
            "both resources should be created"
        );
        let resource = state_resource(&s, "r").expect("tfe_workspace_run.r in state");
        assert_eq!(
            resource["provider"], "provider[\"registry.terraform.io/tferun/tfe\"]",
            "{}",
            cli.label
        );
        let runs = emu.workspace_runs(&ws);
        assert_eq!(statuses(&runs), ["applied"], "{}", cli.label);
        assert_eq!(
            resource["instances"][0]["attributes"]["id"], runs[0].id,
            "{}",
            cli.label
        );

        let out = s.terraform(DESTROY);
        check!(out.success, s, out, "destroy failed");
        check!(out.stdout.contains("2 destroyed"), s, out, "both destroyed");
        let runs = emu.workspace_runs(&ws);
        assert_eq!(statuses(&runs), ["applied", "applied"], "{}", cli.label);
        assert!(runs[1].is_destroy, "{}: {runs:?}", cli.label);
    }
}

/// Drop-in: state written by the official provider (here as a release from before `message`
/// existed writes it: no `message`, no `timeouts`) plans no change and applies queuing no run.
#[test]
fn drop_in_migration_keeps_the_official_state_and_queues_nothing() {
    let emu = TestEmulator::start();
    let overrides = DevOverrides::new();
    for cli in all_clis() {
        let ws = workspace(&emu, &cli, "dropin", json!({}));
        // A run the official resource queued and saw through.
        let seed = Session::new(&emu, &cli, &overrides, &config(&ws, &apply_block("")));
        let out = seed.terraform(APPLY);
        check!(out.success, seed, out, "seeding apply failed");
        let run_id = seed.state_id().expect("a run ID");

        let s = Session::new(&emu, &cli, &overrides, &config(&ws, BLOCKS));
        let block = json!({"manual_confirm": false, "retry": true, "retry_attempts": 3,
            "retry_backoff_min": 1, "retry_backoff_max": 30, "wait_for_run": true});
        let official = json!({
            "version": 4, "terraform_version": "1.0.3", "serial": 3,
            "lineage": "5d7a0c2e-0000-4000-8000-000000000001", "outputs": {},
            "resources": [{
                "mode": "managed", "type": "tfe_workspace_run", "name": "r",
                "provider": "provider[\"registry.terraform.io/hashicorp/tfe\"]",
                "instances": [{
                    "schema_version": 1,
                    "attributes": {"id": run_id, "workspace_id": ws, "apply": [block], "destroy": [block]},
                    "sensitive_attributes": []
                }]
            }]
        });
        std::fs::write(
            s.dir.path().join("terraform.tfstate"),
            serde_json::to_string_pretty(&official).unwrap(),
        )
        .unwrap();
        emu.reset_requests();
        let out = s.terraform(PLAN_NO_CHANGES);
        check!(
            out.success,
            s,
            out,
            "the official state does not plan without changes"
        );
        let out = s.terraform(APPLY);
        check!(out.success, s, out, "apply failed");
        check!(
            out.stdout.contains("0 added, 0 changed, 0 destroyed"),
            s,
            out,
            "changes applied"
        );
        assert_eq!(provider_requests(&emu, CREATE_ROUTE), 0, "{}", cli.label);
        assert_eq!(provider_requests(&emu, CONFIRM_ROUTE), 0, "{}", cli.label);
        assert_eq!(s.state_id().as_deref(), Some(run_id.as_str()));
        assert_eq!(emu.workspace_runs(&ws).len(), 1, "{}", cli.label);
    }
}

/// Side by side: an existing `tfe_workspace_run` of hashicorp/tfe (served from the mirror by this
/// same binary, standing in for the official release) moves to `tferun/tfe` by its run ID without
/// queuing a run; then the moved resource owns the destroy.
#[test]
fn side_by_side_migration_imports_by_run_id_and_queues_nothing() {
    let emu = TestEmulator::start();
    let mirror = mirror_config();
    for cli in all_clis() {
        let ws = workspace(&emu, &cli, "move", json!({}));
        let s = Session::new(&emu, &cli, &mirror, &config(&ws, BLOCKS));
        let out = s.terraform(INIT);
        check!(out.success, s, out, "init failed");
        let out = s.terraform(APPLY);
        check!(out.success, s, out, "apply with hashicorp/tfe failed");
        let run_id = s.state_id().expect("a run ID");
        emu.reset_requests();

        let required = "terraform {\n  required_providers {\n    tfe    = { source = \"hashicorp/tfe\" }\n    tferun = { source = \"tferun/tfe\" }\n  }\n}\n";
        let moved_name = if has_config_driven_import(&cli) {
            write_main(
                &s,
                &format!(
                    "{required}\nremoved {{\n  from = tfe_workspace_run.r\n  lifecycle {{\n    destroy = false\n  }}\n}}\n\n\
                     import {{\n  to       = tfe_workspace_run.moved\n  id       = \"{run_id}\"\n  provider = tferun\n}}\n\n\
                     resource \"tfe_workspace_run\" \"moved\" {{\n  provider     = tferun\n  workspace_id = \"{ws}\"\n{BLOCKS}}}\n"
                ),
            );
            let out = s.terraform(INIT);
            check!(out.success, s, out, "init with tferun/tfe failed");
            let out = s.terraform(APPLY);
            check!(out.success, s, out, "migrating apply failed");
            check!(out.stdout.contains("1 imported"), s, out, "not imported");
            check!(
                !out.combined().contains("Destroy run will be queued"),
                s,
                out,
                "warned"
            );
            "moved"
        } else {
            // Terraform 1.0: `terraform state rm` of the official instance, then `terraform import`
            // into the same address, which the configuration now gives to tferun.
            write_main(
                &s,
                &format!(
                    "{required}\nresource \"tfe_workspace_run\" \"r\" {{\n  provider     = tferun\n  workspace_id = \"{ws}\"\n{BLOCKS}}}\n"
                ),
            );
            let out = s.terraform(INIT);
            check!(out.success, s, out, "init with tferun/tfe failed");
            let out = s.terraform(&["state", "rm", "-lock=false", "tfe_workspace_run.r"]);
            check!(out.success, s, out, "state rm failed");
            let out = s.terraform(&[
                "import",
                "-input=false",
                "-no-color",
                "-lock=false",
                "tfe_workspace_run.r",
                &run_id,
            ]);
            check!(out.success, s, out, "import failed");
            let out = s.terraform(APPLY);
            check!(out.success, s, out, "apply after import failed");
            "r"
        };
        // Nothing was queued or confirmed, and the state is tferun's, with the same run.
        assert_eq!(provider_requests(&emu, CREATE_ROUTE), 0, "{}", cli.label);
        assert_eq!(provider_requests(&emu, CONFIRM_ROUTE), 0, "{}", cli.label);
        assert_eq!(emu.workspace_runs(&ws).len(), 1, "{}", cli.label);
        let resource = state_resource(&s, moved_name).expect("the moved resource in state");
        assert_eq!(
            resource["provider"], "provider[\"registry.terraform.io/tferun/tfe\"]",
            "{}",
            cli.label
        );
        assert_eq!(
            resource["instances"][0]["attributes"]["id"],
            run_id.as_str()
        );
        if moved_name != "r" {
            assert!(
                state_resource(&s, "r").is_none(),
                "{}: r is still in state",
                cli.label
            );
        }
        let out = s.terraform(PLAN_NO_CHANGES);
        check!(
            out.success,
            s,
            out,
            "the moved resource does not plan without changes"
        );

        // The moved resource's destroy block works: exactly one destroy run.
        let out = s.terraform(DESTROY);
        check!(out.success, s, out, "destroy failed");
        let runs = emu.workspace_runs(&ws);
        assert_eq!(statuses(&runs), ["applied", "applied"], "{}", cli.label);
        assert!(runs[1].is_destroy, "{}: {runs:?}", cli.label);
    }
}
