//! End to end, both Terraform CLIs against tfe-emulator: the plan warns before a removal or a
//! replacement queues a destroy run (hashicorp/tfe#1535), and says nothing when none will be
//! queued; a `tfe_workspace_run` with neither block queues no run at all (hashicorp/tfe#1604).

use serde_json::json;

use test_support::check;
use test_support::emulator::TestEmulator;
use test_support::session::*;
use test_support::terraform::{DevOverrides, all_clis};

const PLAN: &[&str] = &["plan", "-input=false", "-no-color", "-lock=false"];
const WARNING: &str = "Destroy run will be queued";

fn destroy_block() -> &'static str {
    "  destroy {\n    manual_confirm = false\n  }\n"
}

/// Whether this CLI asks the provider to plan a removal (Terraform 1.3 and later, with the
/// `plan_destroy` server capability); Terraform 1.0.3 does not.
fn plans_removals(cli: &test_support::terraform::TerraformCli) -> bool {
    cli.label != "terraform 1.0.3"
}

#[test]
fn removal_and_replacement_of_an_armed_destroy_warn_naming_the_workspace() {
    let emu = TestEmulator::start();
    let overrides = DevOverrides::new();
    for cli in all_clis() {
        let ws = workspace(&emu, &cli, "warn", json!({}));
        let other = workspace(&emu, &cli, "warn-other", json!({}));
        let armed = config(&ws, &format!("{}{}", apply_block(""), destroy_block()));
        let s = Session::new(&emu, &cli, &overrides, &armed);
        let out = s.terraform(APPLY);
        check!(out.success, s, out, "apply failed");
        check!(!out.combined().contains(WARNING), s, out, "a create warned");

        // Nothing changes: nothing said.
        let out = s.terraform(PLAN);
        check!(out.success, s, out, "plan failed");
        check!(
            !out.combined().contains(WARNING),
            s,
            out,
            "a no-op plan warned"
        );

        // Replacement: a new workspace_id. Both CLIs call PlanResourceChange with the prior state.
        let replaced = config(&other, &format!("{}{}", apply_block(""), destroy_block()));
        std::fs::write(s.dir.path().join("main.tf"), &replaced).unwrap();
        let out = s.terraform(PLAN);
        check!(out.success, s, out, "replacement plan failed");
        check!(
            out.combined().contains(WARNING),
            s,
            out,
            "no warning on replacement"
        );
        check!(
            out.combined().contains(&format!("workspace {ws}")),
            s,
            out,
            "the warning does not name the workspace"
        );

        // Removal: the resource leaves the configuration.
        std::fs::write(s.dir.path().join("main.tf"), "").unwrap();
        let out = s.terraform(PLAN);
        check!(out.success, s, out, "removal plan failed");
        check!(
            out.stdout.contains("1 to destroy"),
            s,
            out,
            "removal not planned"
        );
        if plans_removals(&cli) {
            check!(
                out.combined().contains(WARNING),
                s,
                out,
                "no warning on removal"
            );
            check!(
                out.combined().contains(&format!("workspace {ws}")),
                s,
                out,
                "the removal warning does not name the workspace"
            );
        } else {
            // Terraform 1.0.3 plans a removal without asking the provider: no warning is possible.
            check!(!out.combined().contains(WARNING), s, out, "1.0.3 warned?");
        }
        // Planning queued nothing.
        assert_eq!(emu.workspace_runs(&ws).len(), 1, "{}", cli.label);
        assert!(emu.workspace_runs(&other).is_empty(), "{}", cli.label);

        // Disarmed: the destroy block removed and applied; then neither removal nor replacement warns.
        std::fs::write(s.dir.path().join("main.tf"), config(&ws, &apply_block(""))).unwrap();
        let out = s.terraform(APPLY);
        check!(out.success, s, out, "disarming apply failed");
        std::fs::write(
            s.dir.path().join("main.tf"),
            config(&other, &apply_block("")),
        )
        .unwrap();
        let out = s.terraform(PLAN);
        check!(out.success, s, out, "replacement plan failed");
        check!(
            !out.combined().contains(WARNING),
            s,
            out,
            "warned without a destroy block"
        );
        std::fs::write(s.dir.path().join("main.tf"), "").unwrap();
        let out = s.terraform(PLAN);
        check!(out.success, s, out, "removal plan failed");
        check!(
            !out.combined().contains(WARNING),
            s,
            out,
            "warned without a destroy block"
        );
        let out = s.terraform(DESTROY);
        check!(out.success, s, out, "destroy failed");
        let runs = emu.workspace_runs(&ws);
        assert_eq!(
            statuses(&runs),
            ["applied"],
            "{}: a destroy run was queued",
            cli.label
        );
    }
}

#[test]
fn neither_block_queues_nothing() {
    let emu = TestEmulator::start();
    let overrides = DevOverrides::new();
    for cli in all_clis() {
        let ws = workspace(&emu, &cli, "empty", json!({}));
        let s = Session::new(&emu, &cli, &overrides, &config(&ws, ""));
        emu.reset_requests();
        let out = s.terraform(APPLY);
        check!(
            out.success,
            s,
            out,
            "apply of a resource with no blocks failed"
        );
        check!(s.state_id().is_some(), s, out, "no instance in state");
        let out = s.terraform(DESTROY);
        check!(out.success, s, out, "destroy failed");
        check!(
            !out.combined().contains(WARNING),
            s,
            out,
            "warned with no destroy block"
        );
        assert!(
            emu.workspace_runs(&ws).is_empty(),
            "{}: a run was queued",
            cli.label
        );
        assert_eq!(provider_requests(&emu, CREATE_ROUTE), 0, "{}", cli.label);
    }
}
