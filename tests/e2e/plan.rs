//! End to end: real Terraform CLIs (current and 1.0.3) load the built provider through
//! dev_overrides and validate and plan configurations, offline and without `terraform init`.

use test_support::terraform::{
    APPLY, DevOverrides, TerraformCli, all_clis, run_terraform, workdir_from_examples, workdir_with,
};

const EXAMPLES: &str = "examples/resources/tfe_workspace_run";
const TOKEN: &[(&str, &str)] = &[("TFE_TOKEN", "test-token-not-used")];

fn plan(
    cli: &TerraformCli,
    dir: &std::path::Path,
    overrides: &DevOverrides,
    env: &[(&str, &str)],
) -> test_support::terraform::TerraformRun {
    run_terraform(
        cli,
        dir,
        overrides,
        &["plan", "-input=false", "-no-color", "-lock=false"],
        env,
    )
}

/// A plan from existing state without refresh: refresh reads the run from the API.
fn plan_offline(
    cli: &TerraformCli,
    dir: &std::path::Path,
    overrides: &DevOverrides,
    env: &[(&str, &str)],
) -> test_support::terraform::TerraformRun {
    run_terraform(
        cli,
        dir,
        overrides,
        &[
            "plan",
            "-input=false",
            "-no-color",
            "-lock=false",
            "-refresh=false",
        ],
        env,
    )
}

fn validate(
    cli: &TerraformCli,
    dir: &std::path::Path,
    overrides: &DevOverrides,
) -> test_support::terraform::TerraformRun {
    run_terraform(cli, dir, overrides, &["validate", "-no-color"], TOKEN)
}

#[test]
fn examples_validate_and_plan_with_both_clis() {
    let overrides = DevOverrides::new();
    for cli in all_clis() {
        let dir = workdir_from_examples(EXAMPLES);
        let out = validate(&cli, dir.path(), &overrides);
        assert!(
            out.success,
            "{}: validate failed\n{}",
            cli.label,
            out.combined()
        );

        let out = plan(&cli, dir.path(), &overrides, TOKEN);
        assert!(
            out.success,
            "{}: plan failed\n{}",
            cli.label,
            out.combined()
        );
        // Alignment depends on the longest name in each block: compare with single spaces.
        let text = &out.stdout.split_whitespace().collect::<Vec<_>>().join(" ");
        assert!(
            text.contains("Plan: 12 to add, 0 to change, 0 to destroy."),
            "{}:\n{text}",
            cli.label
        );
        assert!(
            text.contains("+ id = (known after apply)"),
            "{}:\n{text}",
            cli.label
        );
        // Defaults are written into the plan, as the official provider does.
        assert!(
            text.contains("retry_backoff_max = 30"),
            "{}:\n{text}",
            cli.label
        );
        assert!(
            text.contains("retry_attempts = 3"),
            "{}:\n{text}",
            cli.label
        );
        assert!(text.contains("retry = false"), "{}:\n{text}", cli.label);
        assert!(
            text.contains("delete = \"1h30m\""),
            "{}:\n{text}",
            cli.label
        );
        assert!(
            text.contains("manual_confirm = true"),
            "{}:\n{text}",
            cli.label
        );

        let dir = workdir_from_examples("examples/provider");
        let out = validate(&cli, dir.path(), &overrides);
        assert!(
            out.success,
            "{}: provider example does not validate\n{}",
            cli.label,
            out.combined()
        );
    }
}

fn resource_with(body: &str) -> String {
    format!("resource \"tfe_workspace_run\" \"bad\" {{\n  workspace_id = \"ws-123\"\n{body}\n}}\n")
}

#[test]
fn wrong_configurations_fail_naming_the_attribute() {
    let cases: &[(&str, String, &[&str])] = &[
        (
            "negative retry_attempts",
            resource_with("  apply {\n    manual_confirm = false\n    retry_attempts = -1\n  }"),
            &["retry_attempts", "at least 0"],
        ),
        (
            "block without manual_confirm",
            resource_with("  apply {\n    retry = false\n  }"),
            &["manual_confirm", "required"],
        ),
        (
            "unknown argument",
            resource_with("  not_an_argument = true\n  apply {\n    manual_confirm = false\n  }"),
            &["not_an_argument"],
        ),
        (
            "backoff min above max",
            resource_with(
                "  destroy {\n    manual_confirm = false\n    retry_backoff_min = 40\n  }",
            ),
            &["retry_backoff_min", "retry_backoff_max"],
        ),
        (
            "a workspace name where the ID goes",
            "resource \"tfe_workspace_run\" \"bad\" {\n  workspace_id = \"not-a-ws-id\"\n  apply {\n    manual_confirm = false\n  }\n}\n".to_string(),
            &["workspace_id", "\"not-a-ws-id\" is not a workspace ID", "\"ws-\" followed by"],
        ),
        (
            "malformed timeout",
            resource_with(
                "  apply {\n    manual_confirm = false\n  }\n  timeouts {\n    create = \"10 minutes\"\n  }",
            ),
            &["timeouts.create", "not a valid duration"],
        ),
    ];
    let overrides = DevOverrides::new();
    for cli in all_clis() {
        for (name, config, expected) in cases {
            let dir = workdir_with(&[("main.tf", config)]);
            let out = validate(&cli, dir.path(), &overrides);
            assert!(
                !out.success,
                "{}: {name}: validate should fail\n{}",
                cli.label,
                out.combined()
            );
            for needle in *expected {
                assert!(
                    out.combined().contains(needle),
                    "{}: {name}: expected {needle:?} in\n{}",
                    cli.label,
                    out.combined()
                );
            }
        }
    }
}

const SIMPLE: &str = "resource \"tfe_workspace_run\" \"r\" {\n  workspace_id = \"ws-123\"\n  apply {\n    manual_confirm = false\n  }\n}\n";

#[test]
fn missing_token_is_a_clear_error_and_cli_credentials_are_used() {
    let without = DevOverrides::new();
    let with = DevOverrides::with_extra(
        "credentials \"app.terraform.io\" {\n  token = \"from-cli-config\"\n}\n",
    );
    for cli in all_clis() {
        let dir = workdir_with(&[("main.tf", SIMPLE)]);
        let out = plan(&cli, dir.path(), &without, &[]);
        assert!(
            !out.success,
            "{}: plan without a token should fail\n{}",
            cli.label,
            out.combined()
        );
        assert!(
            out.combined().contains("No API token found"),
            "{}:\n{}",
            cli.label,
            out.combined()
        );
        assert!(
            out.combined().contains("TFE_TOKEN"),
            "{}:\n{}",
            cli.label,
            out.combined()
        );

        let out = plan(&cli, dir.path(), &with, &[]);
        assert!(
            out.success,
            "{}: plan with CLI credentials failed\n{}",
            cli.label,
            out.combined()
        );
    }
}

/// Whether a plan changes no value: "No changes.", or (Terraform 1.11 and later, planning official state
/// without a refresh, as these offline plans do) an in-place update in which no attribute changes. The
/// official state records no sensitive paths, and this schema adds sensitive attributes (`outputs`,
/// `apply.variables`); without a refresh Terraform does not mark the prior state with the schema's
/// sensitivity, so it plans an update of the marks alone, which queues nothing and records them. With a
/// refresh (a plain `terraform plan`) there is no such update: see side_by_side.rs.
fn changes_nothing(plan: &str) -> bool {
    if plan.contains("No changes.") {
        return true;
    }
    let actions = plan
        .split_once("will perform the following actions:")
        .map_or("", |(_, actions)| actions);
    let changed_values = actions.lines().map(str::trim_start).filter(|l| {
        (l.starts_with("~ ") || l.starts_with("+ ") || l.starts_with("- "))
            && !l.starts_with("~ resource ")
    });
    plan.contains("Plan: 0 to add, 1 to change, 0 to destroy.") && changed_values.count() == 0
}

/// State as HashiCorp's own provider writes it (SDKv2: unset message stored as "").
fn official_state(workspace_id: &str) -> String {
    official_state_with(workspace_id, Some(""))
}

/// `message: None` is state from official releases before `message` existed (v0.74.0).
fn official_state_with(workspace_id: &str, message: Option<&str>) -> String {
    let mut apply = serde_json::json!({
        "manual_confirm": false, "retry": true, "retry_attempts": 3,
        "retry_backoff_min": 1, "retry_backoff_max": 30, "wait_for_run": true
    });
    if let Some(message) = message {
        apply["message"] = message.into();
    }
    serde_json::json!({
        "version": 4,
        "terraform_version": "1.0.3",
        "serial": 1,
        "lineage": "6f0d5f1e-2a4b-4c3d-9e8f-0a1b2c3d4e5f",
        "outputs": {},
        "resources": [{
            "mode": "managed",
            "type": "tfe_workspace_run",
            "name": "r",
            "provider": "provider[\"registry.terraform.io/hashicorp/tfe\"]",
            "instances": [{
                "schema_version": 1,
                "attributes": {
                    "id": "run-abc123",
                    "workspace_id": workspace_id,
                    "apply": [apply],
                    "destroy": []
                },
                "sensitive_attributes": [],
                "private": "bnVsbA=="
            }]
        }]
    })
    .to_string()
}

#[test]
fn message_state_variants_plan_no_changes() {
    let explicit_empty = SIMPLE.replace(
        "manual_confirm = false",
        "manual_confirm = false\n    message = \"\"",
    );
    let with_message = SIMPLE.replace(
        "manual_confirm = false",
        "manual_confirm = false\n    message = \"hi\"",
    );
    let cases = [
        (
            "state without message",
            SIMPLE.to_string(),
            official_state_with("ws-123", None),
        ),
        (
            "explicit empty message",
            explicit_empty,
            official_state_with("ws-123", Some("")),
        ),
        (
            "a message",
            with_message,
            official_state_with("ws-123", Some("hi")),
        ),
    ];
    let overrides = DevOverrides::new();
    for cli in all_clis() {
        for (name, config, state) in &cases {
            let dir = workdir_with(&[("main.tf", config), ("terraform.tfstate", state)]);
            let out = plan_offline(&cli, dir.path(), &overrides, TOKEN);
            assert!(out.success, "{}: {name}:\n{}", cli.label, out.combined());
            assert!(
                changes_nothing(&out.stdout),
                "{}: {name}: expected no changes\n{}",
                cli.label,
                out.stdout
            );
        }
    }
}

#[test]
fn state_from_the_official_provider_plans_no_changes_and_workspace_change_replaces() {
    let overrides = DevOverrides::new();
    for cli in all_clis() {
        let dir = workdir_with(&[
            ("main.tf", SIMPLE),
            ("terraform.tfstate", &official_state("ws-123")),
        ]);
        let out = plan_offline(&cli, dir.path(), &overrides, TOKEN);
        assert!(out.success, "{}:\n{}", cli.label, out.combined());
        assert!(
            changes_nothing(&out.stdout),
            "{}: expected no changes\n{}",
            cli.label,
            out.combined()
        );

        let dir = workdir_with(&[
            ("main.tf", SIMPLE),
            ("terraform.tfstate", &official_state("ws-old")),
        ]);
        let out = plan_offline(&cli, dir.path(), &overrides, TOKEN);
        assert!(out.success, "{}:\n{}", cli.label, out.combined());
        assert!(
            out.stdout.contains("# forces replacement"),
            "{}:\n{}",
            cli.label,
            out.stdout
        );
        assert!(
            out.stdout
                .contains("Plan: 1 to add, 0 to change, 1 to destroy."),
            "{}:\n{}",
            cli.label,
            out.stdout
        );
    }
}

#[test]
fn debug_logs_show_under_the_provider_name_without_the_token() {
    let secret = "s3cr3t-token-value-for-log-test";
    let overrides = DevOverrides::new();
    for cli in all_clis() {
        let dir = workdir_with(&[("main.tf", SIMPLE)]);
        let out = plan(
            &cli,
            dir.path(),
            &overrides,
            &[("TFE_TOKEN", secret), ("TF_LOG", "DEBUG")],
        );
        assert!(out.success, "{}:\n{}", cli.label, out.combined());
        assert!(
            out.stderr
                .contains("provider.terraform-provider-tfe: ConfigureProvider"),
            "{}: provider logs missing\n{}",
            cli.label,
            out.stderr
        );
        assert!(
            !out.stderr.contains(secret),
            "{}: the token leaked into the logs",
            cli.label
        );
        // Lines Terraform could not parse as JSON would show up raw with our keys in them.
        assert!(
            !out.stderr.contains("\"@level\""),
            "{}: a log line was not parsed\n{}",
            cli.label,
            out.stderr
        );
    }
}

#[test]
fn apply_against_an_unreachable_host_fails_with_a_clear_error() {
    let overrides = DevOverrides::new();
    for cli in all_clis() {
        let dir = workdir_with(&[("main.tf", SIMPLE)]);
        let out = run_terraform(
            &cli,
            dir.path(),
            &overrides,
            APPLY,
            // Nothing listens on port 1: the client fails at discovery, before any run.
            // The client retries a refused connection within its budget; keep the budget short.
            &[
                ("TFE_TOKEN", "test-token-not-used"),
                ("TFE_HOSTNAME", "127.0.0.1:1"),
                ("TFE_RETRY_MAX_ELAPSED", "2s"),
            ],
        );
        assert!(
            !out.success,
            "{}: apply should fail\n{}",
            cli.label,
            out.combined()
        );
        assert!(
            out.combined().contains("Cannot reach the TFE API"),
            "{}:\n{}",
            cli.label,
            out.combined()
        );
        assert!(
            out.combined().contains("127.0.0.1:1"),
            "{}:\n{}",
            cli.label,
            out.combined()
        );
        // A protocol mistake would show up as a provider bug report instead.
        assert!(
            !out.combined().contains("Provider produced"),
            "{}:\n{}",
            cli.label,
            out.combined()
        );
        assert!(
            !out.combined().contains("Plugin did not respond"),
            "{}:\n{}",
            cli.label,
            out.combined()
        );
    }
}

#[test]
fn terraform_sees_the_official_schema_shape() {
    let overrides = DevOverrides::new();
    for cli in all_clis() {
        let dir = workdir_with(&[("main.tf", SIMPLE)]);
        let out = run_terraform(
            &cli,
            dir.path(),
            &overrides,
            &["providers", "schema", "-json"],
            TOKEN,
        );
        assert!(out.success, "{}:\n{}", cli.label, out.combined());
        let json: serde_json::Value = serde_json::from_str(&out.stdout).expect("schema JSON");
        let provider = &json["provider_schemas"]["registry.terraform.io/hashicorp/tfe"];
        let config = &provider["provider"]["block"]["attributes"];
        for name in ["hostname", "token", "organization", "ssl_skip_verify"] {
            assert_eq!(
                config[name]["optional"], true,
                "{}: provider {name}",
                cli.label
            );
        }
        assert_eq!(config["token"]["sensitive"], true);

        let run = &provider["resource_schemas"]["tfe_workspace_run"];
        // Version 2: the official 1 plus optional arguments and computed attributes, state upgraded.
        assert_eq!(run["version"], 2, "{}", cli.label);
        let attrs = &run["block"]["attributes"];
        assert_eq!(attrs["id"]["computed"], true);
        assert_eq!(
            (
                attrs["workspace_id"]["type"].as_str(),
                &attrs["workspace_id"]["required"]
            ),
            (Some("string"), &true.into())
        );
        // What this provider adds is optional or computed only, so official configurations still fit.
        for (name, attr) in attrs.as_object().unwrap() {
            if name != "workspace_id" {
                assert_ne!(attr["required"], true, "{}: {name}", cli.label);
            }
        }
        assert_eq!(attrs["triggers"]["optional"], true);
        assert_eq!(attrs["outputs"]["type"], "dynamic");
        assert_eq!(attrs["outputs"]["sensitive"], true);
        assert_eq!(attrs["nonsensitive_outputs"]["computed"], true);
        for phase in ["apply", "destroy"] {
            let block = &run["block"]["block_types"][phase];
            assert_eq!(block["nesting_mode"], "list", "{}: {phase}", cli.label);
            assert_eq!(block["max_items"], 1, "{}: {phase}", cli.label);
            let fields = &block["block"]["attributes"];
            let official = [
                ("manual_confirm", "bool"),
                ("message", "string"),
                ("retry", "bool"),
                ("retry_attempts", "number"),
                ("retry_backoff_min", "number"),
                ("retry_backoff_max", "number"),
                ("wait_for_run", "bool"),
            ];
            for (name, ty) in official {
                assert_eq!(fields[name]["type"], ty, "{}: {phase}.{name}", cli.label);
            }
            assert_eq!(fields["manual_confirm"]["required"], true);
            let mut added: Vec<&str> = fields
                .as_object()
                .unwrap()
                .keys()
                .map(String::as_str)
                .filter(|name| !official.iter().any(|(o, _)| o == name))
                .collect();
            added.sort();
            let mut expected = vec![
                "allow_empty_apply",
                "replace_addrs",
                "target_addrs",
                "variables",
            ];
            if phase == "apply" {
                expected.push("refresh_only");
                expected.sort();
            }
            assert_eq!(added, expected, "{}: {phase}", cli.label);
            for name in added {
                assert_eq!(
                    fields[name]["optional"], true,
                    "{}: {phase}.{name}",
                    cli.label
                );
            }
            assert_eq!(fields["variables"]["sensitive"], true);
        }
        // Terraform 1.11 knows write-only arguments: the apply block's variables never reach state.
        if cli.label != "terraform 1.0.3" {
            let variables =
                &run["block"]["block_types"]["apply"]["block"]["attributes"]["variables"];
            assert_eq!(variables["write_only"], true, "{}: {variables}", cli.label);
        }
        let timeouts = &run["block"]["block_types"]["timeouts"];
        assert_eq!(timeouts["nesting_mode"], "single");
        assert_eq!(timeouts["block"]["attributes"]["create"]["optional"], true);
    }
}

#[test]
fn import_of_something_that_is_not_a_run_id_is_refused() {
    let overrides = DevOverrides::new();
    for cli in all_clis() {
        let dir = workdir_with(&[("main.tf", SIMPLE)]);
        let out = run_terraform(
            &cli,
            dir.path(),
            &overrides,
            &[
                "import",
                "-input=false",
                "-no-color",
                "-lock=false",
                "tfe_workspace_run.r",
                "ws-abc123",
            ],
            TOKEN,
        );
        assert!(
            !out.success,
            "{}: import should fail\n{}",
            cli.label,
            out.combined()
        );
        assert!(
            out.combined().contains("is not a run ID"),
            "{}:\n{}",
            cli.label,
            out.combined()
        );
        assert!(
            out.combined().contains("ws-abc123"),
            "{}:\n{}",
            cli.label,
            out.combined()
        );
    }
}
