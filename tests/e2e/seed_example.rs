//! End to end: the seed page's first example, examples/demo/main.tf (organization, OAuth client, two VCS-linked
//! workspaces, a tfe_workspace_run on each) applied and destroyed with both Terraform CLIs against
//! tfe-emulator, with the demo's second step in between (examples/demo/child reads the parent's output through
//! tfe_outputs and terraform_remote_state); plus import, a workspace deleted behind Terraform's back, and safe
//! delete.

use std::path::Path;

use serde_json::Value;

use test_support::emulator::{RunSummary, TestEmulator};
use test_support::terraform::{
    APPLY, DESTROY, DevOverrides, TerraformCli, TerraformRun, all_clis, run_terraform,
    workdir_from_examples, workdir_with,
};

const PLAN: &[&str] = &[
    "plan",
    "-input=false",
    "-no-color",
    "-lock=false",
    "-detailed-exitcode",
];

/// The seed page's first example, in HCL: the demo's configuration, so the demo is tested too.
const SEED_EXAMPLE_DIR: &str = "examples/demo";
/// The demo's child configuration, reading the parent's output.
const DEMO_CHILD_DIR: &str = "examples/demo/child";

fn terraform(
    emu: &TestEmulator,
    cli: &TerraformCli,
    o: &DevOverrides,
    dir: &Path,
    args: &[&str],
) -> TerraformRun {
    let env = emu.provider_env();
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    run_terraform(cli, dir, o, args, &env)
}

fn exit_ok(cli: &TerraformCli, what: &str, out: &TerraformRun) {
    assert!(
        out.success,
        "{}: {what} failed\n{}",
        cli.label,
        out.combined()
    );
}

/// Resource attributes of `type.name` in the state file.
fn state_attrs(dir: &Path, address: &str) -> Option<Value> {
    let text = std::fs::read_to_string(dir.join("terraform.tfstate")).ok()?;
    let state: Value = serde_json::from_str(&text).expect("state JSON");
    let (ty, name) = address.split_once('.').unwrap();
    state["resources"]
        .as_array()?
        .iter()
        .find(|r| r["type"] == ty && r["name"] == name && r["mode"] == "managed")
        .map(|r| r["instances"][0]["attributes"].clone())
}

fn deleted_runs(emu: &TestEmulator) -> Vec<RunSummary> {
    serde_json::from_value(emu.admin("GET", "/_emulator/runs/deleted", None)["runs"].clone())
        .expect("deleted run summary")
}

/// The HTTP status of `GET /api/v2<path>` for `/organizations/:name`, `/workspaces/:id` or
/// `/oauth-clients/:id`, read through the TFE client: 200 or the error's status.
fn api_status(emu: &TestEmulator, path: &str) -> u16 {
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let client = emu.client().await;
        let (kind, id) = path.trim_start_matches('/').split_once('/').unwrap();
        let result = match kind {
            "organizations" => client.organization(id).await.map(|_| ()),
            "workspaces" => client.workspace(id).await.map(|_| ()),
            "oauth-clients" => client.oauth_client(id).await.map(|_| ()),
            other => panic!("no check for {other}"),
        };
        match result {
            Ok(()) => 200,
            Err(e) => e.status().unwrap_or_else(|| panic!("{path}: {e}")),
        }
    })
}

#[test]
fn seed_example_applies_and_destroys_with_both_clis() {
    for cli in all_clis() {
        let emu = TestEmulator::start();
        // As run.sh does: every apply writes the output the child reads.
        let endpoint = "https://cluster.parent-ws.example:6443";
        emu.set_default_knobs(serde_json::json!({"outputs": {"cluster_endpoint": endpoint}}));
        // Terraform's remote-state reader takes the token from the CLI configuration, as run.sh gives it.
        let overrides = DevOverrides::with_extra(&format!(
            "credentials {:?} {{\n  token = {:?}\n}}\n",
            emu.hostname, emu.token
        ));
        let dir = workdir_from_examples(SEED_EXAMPLE_DIR);
        let out = terraform(&emu, &cli, &overrides, dir.path(), APPLY);
        exit_ok(&cli, "apply", &out);
        assert!(
            out.stdout.contains("6 added"),
            "{}: {}",
            cli.label,
            out.combined()
        );

        let org = state_attrs(dir.path(), "tfe_organization.test-organization").unwrap();
        assert_eq!(org["id"], "my-org-name");
        let client = state_attrs(dir.path(), "tfe_oauth_client.test").unwrap();
        let token_id = client["oauth_token_id"].as_str().unwrap().to_string();
        assert!(token_id.starts_with("ot-"), "{client}");
        assert!(client["id"].as_str().unwrap().starts_with("oc-"));
        let mut workspace_ids = Vec::new();
        for ws in ["parent", "child"] {
            let attrs = state_attrs(dir.path(), &format!("tfe_workspace.{ws}")).unwrap();
            assert_eq!(attrs["vcs_repo"][0]["oauth_token_id"], token_id.as_str());
            assert_eq!(attrs["queue_all_runs"], false);
            assert!(
                attrs["html_url"]
                    .as_str()
                    .unwrap()
                    .ends_with(&format!("/app/my-org-name/workspaces/{ws}-ws"))
            );
            let id = attrs["id"].as_str().unwrap().to_string();
            assert_eq!(api_status(&emu, &format!("/workspaces/{id}")), 200);
            workspace_ids.push(id);
        }
        assert_eq!(api_status(&emu, "/organizations/my-org-name"), 200);
        assert_eq!(
            api_status(
                &emu,
                &format!("/oauth-clients/{}", client["id"].as_str().unwrap())
            ),
            200
        );
        for id in &workspace_ids {
            let runs = emu.workspace_runs(id);
            assert_eq!(
                runs.len(),
                1,
                "{}: one apply run in {id}: {runs:?}",
                cli.label
            );
            assert_eq!(
                (runs[0].status.as_str(), runs[0].is_destroy),
                ("applied", false)
            );
        }
        // Parent first: the child's run is created after the parent's finished.
        let parent_run = &emu.workspace_runs(&workspace_ids[0])[0];
        let child_run = &emu.workspace_runs(&workspace_ids[1])[0];
        assert!(parent_run.order < child_run.order);

        // A second plan is empty: what was read back matches the configuration.
        let out = terraform(&emu, &cli, &overrides, dir.path(), PLAN);
        assert!(
            out.success,
            "{}: plan after apply shows changes\n{}",
            cli.label,
            out.combined()
        );

        // The demo's second step: the child's configuration reads parent-ws's output both ways.
        let child = workdir_from_examples(DEMO_CHILD_DIR);
        let hostname = format!("hostname={}", emu.hostname);
        let mut args = APPLY.to_vec();
        args.extend(["-var", &hostname]);
        exit_ok(
            &cli,
            "apply of the demo's child",
            &terraform(&emu, &cli, &overrides, child.path(), &args),
        );
        for output in [
            "cluster_endpoint_from_tfe_outputs",
            "cluster_endpoint_from_remote_state",
        ] {
            let out = terraform(
                &emu,
                &cli,
                &overrides,
                child.path(),
                &["output", "-raw", output],
            );
            exit_ok(&cli, output, &out);
            assert_eq!(out.stdout, endpoint, "{}: {output}", cli.label);
        }

        let out = terraform(&emu, &cli, &overrides, dir.path(), DESTROY);
        exit_ok(&cli, "destroy", &out);
        assert!(out.stdout.contains("6 destroyed"), "{}", out.combined());
        for id in &workspace_ids {
            assert_eq!(api_status(&emu, &format!("/workspaces/{id}")), 404);
            let runs: Vec<RunSummary> = deleted_runs(&emu)
                .into_iter()
                .filter(|r| &r.workspace_id == id)
                .collect();
            let summary: Vec<(&str, bool)> = runs
                .iter()
                .map(|r| (r.status.as_str(), r.is_destroy))
                .collect();
            assert_eq!(
                summary,
                vec![("applied", false), ("applied", true)],
                "{}: runs of {id}",
                cli.label
            );
        }
        assert_eq!(
            api_status(
                &emu,
                &format!("/oauth-clients/{}", client["id"].as_str().unwrap())
            ),
            404
        );
        assert_eq!(api_status(&emu, "/organizations/my-org-name"), 404);
        assert_eq!(emu.request_count("POST /api/v2/organizations"), 1);
        assert_eq!(
            emu.request_count("POST /api/v2/organizations/{org}/oauth-clients"),
            1
        );
        assert_eq!(
            emu.request_count("POST /api/v2/organizations/{org}/workspaces"),
            2
        );
    }
}

const IMPORT_CONFIG: &str = r#"
resource "tfe_organization" "org" {
  name  = "imported-org"
  email = "admin@example.com"
}

resource "tfe_workspace" "by_name" {
  name           = "by-name"
  organization   = tfe_organization.org.name
  queue_all_runs = false # the API's default; the resource's is true
}

resource "tfe_workspace" "by_id" {
  name           = "by-id"
  organization   = tfe_organization.org.name
  queue_all_runs = false # the API's default; the resource's is true
}
"#;

#[test]
fn import_by_name_and_id_then_plan_is_empty() {
    let overrides = DevOverrides::new();
    for cli in all_clis() {
        let emu = TestEmulator::start();
        let rt = tokio::runtime::Runtime::new().unwrap();
        let by_id = rt.block_on(async {
            let c = emu.client().await;
            c.create_organization("imported-org", "admin@example.com")
                .await
                .unwrap();
            for name in ["by-name", "by-id"] {
                let options = tfe_client::WorkspaceOptions {
                    name: Some(name.into()),
                    ..Default::default()
                };
                c.create_workspace("imported-org", &options).await.unwrap();
            }
            c.workspace_by_name("imported-org", "by-id")
                .await
                .unwrap()
                .id
        });
        let dir = workdir_with(&[("main.tf", IMPORT_CONFIG)]);
        let import = |address: &str, id: &str| {
            let out = terraform(
                &emu,
                &cli,
                &overrides,
                dir.path(),
                &["import", "-no-color", "-input=false", address, id],
            );
            exit_ok(&cli, &format!("import {address} {id}"), &out);
        };
        import("tfe_organization.org", "imported-org");
        import("tfe_workspace.by_name", "imported-org/by-name");
        import("tfe_workspace.by_id", &by_id);
        assert_eq!(
            state_attrs(dir.path(), "tfe_workspace.by_id").unwrap()["name"],
            "by-id"
        );
        assert_eq!(
            state_attrs(dir.path(), "tfe_workspace.by_name").unwrap()["organization"],
            "imported-org"
        );
        let out = terraform(&emu, &cli, &overrides, dir.path(), PLAN);
        assert!(
            out.success,
            "{}: plan after import shows changes\n{}",
            cli.label,
            out.combined()
        );

        // Email, cost estimation and workspace settings change in place, on the server too.
        let edited = IMPORT_CONFIG
            .replace(
                "email = \"admin@example.com\"",
                "email = \"ops@example.com\"\n  cost_estimation_enabled = true",
            )
            .replace(
                "name           = \"by-id\"",
                "name           = \"by-id\"\n  auto_apply     = true",
            );
        std::fs::write(dir.path().join("main.tf"), edited).unwrap();
        let out = terraform(&emu, &cli, &overrides, dir.path(), APPLY);
        exit_ok(&cli, "apply edits", &out);
        assert!(
            out.stdout.contains("0 added, 2 changed, 0 destroyed"),
            "{}",
            out.combined()
        );
        let (org, ws) = rt.block_on(async {
            let c = emu.client().await;
            (
                c.organization("imported-org").await.unwrap(),
                c.workspace(&by_id).await.unwrap(),
            )
        });
        assert_eq!(org.attributes.email.as_deref(), Some("ops@example.com"));
        assert!(org.attributes.cost_estimation_enabled);
        assert!(ws.attributes.auto_apply);

        let out = terraform(
            &emu,
            &cli,
            &overrides,
            dir.path(),
            &[
                "import",
                "-no-color",
                "-input=false",
                "tfe_workspace.by_id",
                "not-an-id",
            ],
        );
        assert!(!out.success);
        assert!(
            out.combined().contains("Invalid import ID"),
            "{}",
            out.combined()
        );
    }
}

const WORKSPACE_ONLY: &str = r#"
resource "tfe_organization" "org" {
  name  = "gone-org"
  email = "admin@example.com"
}

resource "tfe_workspace" "ws" {
  name         = "gone"
  organization = tfe_organization.org.name
  description  = "kept in state only"
}
"#;

#[test]
fn a_workspace_deleted_remotely_is_dropped_and_planned_again() {
    let overrides = DevOverrides::new();
    for cli in all_clis() {
        let emu = TestEmulator::start();
        let dir = workdir_with(&[("main.tf", WORKSPACE_ONLY)]);
        let out = terraform(&emu, &cli, &overrides, dir.path(), APPLY);
        exit_ok(&cli, "apply", &out);
        // `description` has no field in the API subset: the apply says so.
        let said = out.combined();
        assert!(
            said.contains("Attribute not applied remotely") && said.contains("description"),
            "{}: {said}",
            cli.label
        );
        let id = state_attrs(dir.path(), "tfe_workspace.ws").unwrap()["id"]
            .as_str()
            .unwrap()
            .to_string();
        let rt = tokio::runtime::Runtime::new().unwrap();
        rt.block_on(async { emu.client().await.delete_workspace(&id).await.unwrap() });

        let out = terraform(
            &emu,
            &cli,
            &overrides,
            dir.path(),
            &["plan", "-no-color", "-input=false", "-lock=false"],
        );
        exit_ok(&cli, "plan", &out);
        assert!(
            out.stdout.contains("1 to add, 0 to change, 0 to destroy"),
            "{}",
            out.combined()
        );
        exit_ok(
            &cli,
            "apply",
            &terraform(&emu, &cli, &overrides, dir.path(), APPLY),
        );
        let new_id = state_attrs(dir.path(), "tfe_workspace.ws").unwrap()["id"]
            .as_str()
            .unwrap()
            .to_string();
        assert_ne!(new_id, id);
        exit_ok(
            &cli,
            "destroy",
            &terraform(&emu, &cli, &overrides, dir.path(), DESTROY),
        );
    }
}

fn busy_config(force_delete: bool) -> String {
    format!(
        r#"
resource "tfe_organization" "org" {{
  name  = "busy-org"
  email = "admin@example.com"
}}

resource "tfe_oauth_client" "vcs" {{
  organization     = tfe_organization.org.name
  api_url          = "https://api.github.com"
  http_url         = "https://github.com"
  oauth_token      = "secret-token"
  service_provider = "github"
}}

resource "tfe_workspace" "ws" {{
  name           = "busy"
  organization   = tfe_organization.org.name
  queue_all_runs = false
  force_delete   = {force_delete}
  vcs_repo {{
    identifier     = "busy-org/repo"
    oauth_token_id = tfe_oauth_client.vcs.oauth_token_id
  }}
}}

resource "tfe_workspace_run" "apply_only" {{
  workspace_id = tfe_workspace.ws.id
  apply {{
    manual_confirm = false
  }}
}}
"#
    )
}

#[test]
fn safe_delete_refuses_a_workspace_with_resources_until_force_delete() {
    let overrides = DevOverrides::new();
    for cli in all_clis() {
        let emu = TestEmulator::start();
        let dir = workdir_with(&[("main.tf", &busy_config(false))]);
        exit_ok(
            &cli,
            "apply",
            &terraform(&emu, &cli, &overrides, dir.path(), APPLY),
        );
        let ws = state_attrs(dir.path(), "tfe_workspace.ws").unwrap();
        let id = ws["id"].as_str().unwrap().to_string();
        // The state is refreshed by the next command; the run added resources.
        let out = terraform(
            &emu,
            &cli,
            &overrides,
            dir.path(),
            &["refresh", "-no-color", "-input=false", "-lock=false"],
        );
        exit_ok(&cli, "refresh", &out);
        let count = state_attrs(dir.path(), "tfe_workspace.ws").unwrap()["resource_count"]
            .as_i64()
            .unwrap();
        assert!(count > 0, "{}: resource_count {count}", cli.label);

        let out = terraform(&emu, &cli, &overrides, dir.path(), DESTROY);
        assert!(
            !out.success,
            "{}: destroy should fail\n{}",
            cli.label,
            out.combined()
        );
        let said = out.combined();
        assert!(
            said.contains("not safe") && said.contains("force_delete"),
            "{}",
            said
        );
        assert_eq!(api_status(&emu, &format!("/workspaces/{id}")), 200);

        std::fs::write(dir.path().join("main.tf"), busy_config(true)).unwrap();
        exit_ok(
            &cli,
            "apply force_delete",
            &terraform(&emu, &cli, &overrides, dir.path(), APPLY),
        );
        exit_ok(
            &cli,
            "destroy with force_delete",
            &terraform(&emu, &cli, &overrides, dir.path(), DESTROY),
        );
        assert_eq!(api_status(&emu, &format!("/workspaces/{id}")), 404);
    }
}

#[test]
fn examples_validate_and_the_data_source_reads_a_workspace() {
    let overrides = DevOverrides::new();
    for cli in all_clis() {
        let emu = TestEmulator::start();
        for example in [
            "examples/resources/tfe_organization",
            "examples/resources/tfe_oauth_client",
            "examples/resources/tfe_workspace",
        ] {
            let dir = workdir_from_examples(example);
            let out = terraform(
                &emu,
                &cli,
                &overrides,
                dir.path(),
                &["validate", "-no-color"],
            );
            exit_ok(&cli, &format!("validate {example}"), &out);
        }

        let rt = tokio::runtime::Runtime::new().unwrap();
        let id = rt.block_on(async {
            let c = emu.client().await;
            c.create_organization("my-org-name", "admin@company.com")
                .await
                .unwrap();
            let options = tfe_client::WorkspaceOptions {
                name: Some("app-prod".into()),
                ..Default::default()
            };
            c.create_workspace("my-org-name", &options)
                .await
                .unwrap()
                .id
        });
        let dir = workdir_from_examples("examples/data-sources/tfe_workspace");
        exit_ok(
            &cli,
            "apply data source",
            &terraform(&emu, &cli, &overrides, dir.path(), APPLY),
        );
        let out = terraform(
            &emu,
            &cli,
            &overrides,
            dir.path(),
            &["output", "-raw", "app_workspace_id"],
        );
        exit_ok(&cli, "output", &out);
        assert_eq!(out.stdout.trim(), id, "{}", cli.label);

        let missing = workdir_with(&[(
            "main.tf",
            "data \"tfe_workspace\" \"x\" {\n  name         = \"nope\"\n  organization = \"my-org-name\"\n}\n",
        )]);
        let out = terraform(
            &emu,
            &cli,
            &overrides,
            missing.path(),
            &["plan", "-no-color", "-input=false"],
        );
        assert!(
            !out.success,
            "{}: a missing workspace must fail\n{}",
            cli.label,
            out.combined()
        );
        assert!(
            out.combined().contains("my-org-name/nope"),
            "{}",
            out.combined()
        );
    }
}
