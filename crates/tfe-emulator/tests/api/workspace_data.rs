//! What a workspace holds beyond its runs, as the emulator serves it and this project's client reads it: the
//! state versions an apply writes (outputs, sensitivity, the processing delay, the state file, and Terraform's
//! own `terraform_remote_state` reading them with both CLIs over TLS), workspace variables and the API's 422s,
//! the required-variables knob failing a plan as Terraform does, run options on the wire, a configuration that
//! has not arrived yet, and the request log's record of requests no route serves.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use test_support::emulator::{TestEmulator, http_client};
use tfe_client::models::VariableCategory;
use tfe_client::{CreateRun, Run, RunStatus, RunVariable, TfeClient, TfeError, VariableOptions};

/// Plans and applies that take 50 ms, so runs end quickly.
fn fast() -> Value {
    json!({"plan_ms": 50, "apply_ms": 50})
}

/// `fast()` with the keys of `extra` over it.
fn fast_with(extra: Value) -> Value {
    let mut knobs = fast();
    for (key, value) in extra.as_object().cloned().unwrap_or_default() {
        knobs[key] = value;
    }
    knobs
}

/// Polls `run_id` until it is final; fails after 10 s.
async fn final_status(client: &TfeClient, run_id: &str) -> Run {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let run = client.run(run_id).await.expect("read run");
        if run.attributes.status.is_final() {
            return run;
        }
        assert!(
            Instant::now() < deadline,
            "run {run_id} is {} after 10 s",
            run.attributes.status
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Creates a run with `options` (its workspace set) and waits for it to end.
async fn run_to_end(client: &TfeClient, workspace_id: &str, options: CreateRun) -> Run {
    let run = client
        .create_run(CreateRun {
            workspace_id: workspace_id.to_string(),
            ..options
        })
        .await
        .expect("create run");
    final_status(client, &run.id).await
}

/// An auto-applied run that must end `applied`.
async fn apply(client: &TfeClient, workspace_id: &str) -> Run {
    let run = run_to_end(
        client,
        workspace_id,
        CreateRun {
            auto_apply: Some(true),
            ..Default::default()
        },
    )
    .await;
    assert_eq!(run.attributes.status, RunStatus::Applied, "{run:?}");
    run
}

/// A raw API request with the emulator's token: (status, JSON body).
async fn raw(emu: &TestEmulator, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
    let client = http_client(Some(&emu.ca_file));
    let method = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
    let mut request = client
        .request(method, format!("{}{path}", emu.base_url))
        .bearer_auth(&emu.token)
        .header("content-type", "application/vnd.api+json");
    if let Some(body) = body {
        request = request.body(body.to_string());
    }
    let response = request.send().await.expect("request");
    let status = response.status().as_u16();
    let text = response.text().await.unwrap_or_default();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_applied_run_writes_a_state_version_with_its_outputs_and_a_destroy_one_without() {
    let emu = TestEmulator::start();
    let ws = emu.seed_workspace_with(
        "acme",
        "network",
        json!({"knobs": fast_with(json!({
            "outputs": {"vpc_id": "vpc-123", "subnets": ["a", "b"], "size": 3,
                        "tags": {"team": "net"}, "db_password": "hunter2", "gone": null},
            "sensitive_outputs": ["db_password"]}))}),
    );
    let client = emu.client().await;
    assert_eq!(
        client.current_state_version(&ws).await.unwrap(),
        None,
        "no state before the first apply"
    );
    assert!(client.current_outputs(&ws).await.unwrap().is_none());

    let run = apply(&client, &ws).await;
    let sv = client
        .current_state_version(&ws)
        .await
        .unwrap()
        .expect("a state version after the apply");
    assert!(sv.id.starts_with("sv-"), "{}", sv.id);
    assert_eq!(sv.run_id(), Some(run.id.as_str()));
    assert_eq!(sv.attributes.serial, 1);
    assert!(sv.attributes.resources_processed);
    assert_eq!(sv.attributes.status.as_deref(), Some("finalized"));
    assert_eq!(sv.attributes.state_version, Some(4));
    assert_eq!(client.state_version(&sv.id).await.unwrap(), sv);
    assert_eq!(
        client
            .workspace(&ws)
            .await
            .unwrap()
            .current_state_version_id(),
        Some(sv.id.as_str())
    );

    // The list gives every output but the null one, sensitive values null, with the API's types.
    let listed = client.state_version_outputs(&sv.id).await.unwrap();
    let by_name = |name: &str| {
        listed
            .iter()
            .find(|o| o.attributes.name == name)
            .unwrap_or_else(|| panic!("no output {name} in {listed:?}"))
    };
    assert_eq!(listed.len(), 5, "{listed:?}");
    assert_eq!(sv.output_ids().len(), 5);
    assert_eq!(by_name("vpc_id").attributes.value, json!("vpc-123"));
    assert_eq!(by_name("vpc_id").attributes.output_type, "string");
    assert_eq!(by_name("subnets").attributes.output_type, "array");
    assert_eq!(
        by_name("subnets").attributes.detailed_type,
        Some(json!(["tuple", ["string", "string"]]))
    );
    assert_eq!(by_name("size").attributes.value, json!(3));
    assert_eq!(
        by_name("tags").attributes.detailed_type,
        Some(json!(["object", {"team": "string"}]))
    );
    let password = by_name("db_password");
    assert!(password.attributes.sensitive);
    assert_eq!(
        password.attributes.value,
        Value::Null,
        "listed sensitive values are null"
    );
    let revealed = client.state_version_output(&password.id).await.unwrap();
    assert_eq!(
        revealed.attributes.value,
        json!("hunter2"),
        "the show gives it"
    );
    let current = client.current_state_version_outputs(&ws).await.unwrap();
    assert_eq!(current.len(), 5);
    assert!(
        current
            .iter()
            .all(|o| !o.attributes.sensitive || o.attributes.value.is_null())
    );

    // The client's one call gives every value, the sensitive one included, and never prints it.
    let outputs = client.current_outputs(&ws).await.unwrap().expect("outputs");
    assert!(outputs.processed());
    let value_of = |name: &str| {
        outputs
            .outputs
            .iter()
            .find(|o| o.name == name)
            .map(|o| o.value.clone())
    };
    assert_eq!(value_of("db_password"), Some(json!("hunter2")));
    assert_eq!(value_of("tags"), Some(json!({"team": "net"})));
    assert!(!format!("{outputs:?}").contains("hunter2"));

    // The state file is Terraform's, format 4.
    let state: Value = serde_json::from_slice(
        &client
            .download_state(sv.attributes.hosted_state_download_url.as_deref().unwrap())
            .await
            .unwrap(),
    )
    .unwrap();
    assert_eq!(state["version"], 4);
    assert_eq!(state["serial"], 1);
    assert_eq!(state["terraform_version"], "1.9.8");
    assert_eq!(state["resources"], json!([]));
    let lineage = state["lineage"].as_str().expect("a lineage").to_string();
    assert_eq!(lineage.len(), 36, "a UUID: {lineage}");
    assert_eq!(
        state["outputs"]["db_password"],
        json!({"value": "hunter2", "type": "string", "sensitive": true})
    );
    assert_eq!(
        state["outputs"]["subnets"],
        json!({"value": ["a", "b"], "type": ["tuple", ["string", "string"]]})
    );
    assert!(
        state["outputs"].get("gone").is_none(),
        "null outputs are dropped"
    );
    let shown = client
        .download_state(
            sv.attributes
                .hosted_json_state_download_url
                .as_deref()
                .unwrap(),
        )
        .await
        .unwrap();
    let shown: Value = serde_json::from_slice(&shown).unwrap();
    assert_eq!(shown["values"]["outputs"]["size"]["value"], 3);

    // The next apply's state has the next serial and the same lineage; a destroy leaves no outputs.
    apply(&client, &ws).await;
    let destroy = run_to_end(
        &client,
        &ws,
        CreateRun {
            is_destroy: true,
            auto_apply: Some(true),
            ..Default::default()
        },
    )
    .await;
    assert_eq!(destroy.attributes.status, RunStatus::Applied);
    let after = client.current_state_version(&ws).await.unwrap().unwrap();
    assert_eq!(after.attributes.serial, 3);
    assert_eq!(after.run_id(), Some(destroy.id.as_str()));
    assert!(
        client
            .state_version_outputs(&after.id)
            .await
            .unwrap()
            .is_empty()
    );
    let emptied: Value = serde_json::from_slice(
        &client
            .download_state(
                after
                    .attributes
                    .hosted_state_download_url
                    .as_deref()
                    .unwrap(),
            )
            .await
            .unwrap(),
    )
    .unwrap();
    assert_eq!(emptied["lineage"], json!(lineage));
    assert_eq!(emptied["outputs"], json!({}));
    assert!(
        client
            .current_outputs(&ws)
            .await
            .unwrap()
            .unwrap()
            .outputs
            .is_empty()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn outputs_are_not_there_until_the_state_version_is_processed() {
    let emu = TestEmulator::start();
    let ws = emu.seed_workspace_with(
        "acme",
        "slow",
        json!({"knobs": fast_with(json!({"outputs": {"url": "https://x"}, "state_processing_ms": 1500}))}),
    );
    let client = emu.client().await;
    apply(&client, &ws).await;
    let sv = client.current_state_version(&ws).await.unwrap().unwrap();
    assert!(!sv.attributes.resources_processed, "{sv:?}");
    assert!(sv.output_ids().is_empty());
    assert_eq!(sv.attributes.resources, None, "not extracted yet");
    assert!(
        client
            .state_version_outputs(&sv.id)
            .await
            .unwrap()
            .is_empty()
    );
    let pending = client.current_outputs(&ws).await.unwrap().unwrap();
    assert!(!pending.processed() && pending.outputs.is_empty());
    // The workspace's current outputs answer 503 meanwhile, as the API documents.
    let (status, body) = raw(
        &emu,
        "GET",
        &format!("/api/v2/workspaces/{ws}/current-state-version-outputs"),
        None,
    )
    .await;
    assert_eq!(status, 503, "{body}");
    // The state file itself is there at once: Terraform's remote-state reader does not wait.
    assert!(
        !client
            .download_state(sv.attributes.hosted_state_download_url.as_deref().unwrap())
            .await
            .unwrap()
            .is_empty()
    );

    let deadline = Instant::now() + Duration::from_secs(5);
    let outputs = loop {
        let outputs = client.current_outputs(&ws).await.unwrap().unwrap();
        if outputs.processed() {
            break outputs;
        }
        assert!(Instant::now() < deadline, "still not processed after 5 s");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(outputs.outputs.len(), 1);
    assert_eq!(outputs.outputs[0].value, json!("https://x"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn state_versions_answer_includes_lists_and_missing_ones_as_the_api_does() {
    let emu = TestEmulator::start();
    let ws = emu.seed_workspace_with(
        "acme",
        "app",
        json!({"knobs": fast_with(json!({"outputs": {"a": 1, "s": "x"}, "sensitive_outputs": ["s"]}))}),
    );
    let (status, _) = raw(
        &emu,
        "GET",
        &format!("/api/v2/workspaces/{ws}/current-state-version"),
        None,
    )
    .await;
    assert_eq!(status, 404, "no state version yet");
    let client = emu.client().await;
    let run = apply(&client, &ws).await;

    let (status, doc) = raw(
        &emu,
        "GET",
        &format!("/api/v2/workspaces/{ws}/current-state-version?include=outputs,run,created_by"),
        None,
    )
    .await;
    assert_eq!(status, 200, "{doc}");
    let included = doc["included"].as_array().unwrap();
    let types: Vec<&str> = included
        .iter()
        .map(|i| i["type"].as_str().unwrap())
        .collect();
    assert_eq!(
        types,
        [
            "state-version-outputs",
            "state-version-outputs",
            "runs",
            "users"
        ]
    );
    assert_eq!(included[2]["id"], json!(run.id));
    let secret = included
        .iter()
        .find(|i| i["attributes"]["name"] == "s")
        .unwrap();
    assert_eq!(secret["attributes"]["value"], Value::Null);
    let (status, bad) = raw(
        &emu,
        "GET",
        &format!("/api/v2/workspaces/{ws}/current-state-version?include=resources"),
        None,
    )
    .await;
    assert_eq!(status, 400, "{bad}");

    // The organization-wide list by workspace name, as pytfe lists them.
    let (status, list) = raw(
        &emu,
        "GET",
        "/api/v2/state-versions?filter%5Bworkspace%5D%5Bname%5D=app&filter%5Borganization%5D%5Bname%5D=acme",
        None,
    )
    .await;
    assert_eq!(status, 200, "{list}");
    assert_eq!(list["data"].as_array().unwrap().len(), 1);
    assert_eq!(list["meta"]["pagination"]["total-count"], 1);
    let (status, _) = raw(&emu, "GET", "/api/v2/state-versions", None).await;
    assert_eq!(status, 422, "the two filters are required");

    // The workspace links its current state version and shows the outputs as workspace-outputs.
    let (_, workspace) = raw(
        &emu,
        "GET",
        &format!("/api/v2/workspaces/{ws}?include=current_state_version,outputs"),
        None,
    )
    .await;
    let outputs: Vec<&Value> = workspace["included"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i["type"] == "workspace-outputs")
        .collect();
    assert_eq!(outputs.len(), 2);
    assert!(
        outputs
            .iter()
            .any(|o| o["attributes"]["name"] == "s" && o["attributes"]["value"].is_null())
    );
    assert!(
        outputs
            .iter()
            .any(|o| o["attributes"]["output-type"] == "number" && o["attributes"]["value"] == 1)
    );
    assert_eq!(
        workspace["data"]["relationships"]["current-state-version"]["data"]["type"],
        "state-versions"
    );

    for path in [
        "/api/v2/state-versions/sv-nope",
        "/api/v2/state-versions/sv-nope/outputs",
        "/api/v2/state-version-outputs/wsout-nope",
        "/api/v2/workspaces/ws-nope/current-state-version",
    ] {
        assert_eq!(raw(&emu, "GET", path, None).await.0, 404, "{path}");
    }
    // Deleting the workspace takes its state with it.
    let sv = client.current_state_version(&ws).await.unwrap().unwrap();
    client.delete_workspace(&ws).await.unwrap();
    assert!(matches!(
        client.state_version(&sv.id).await,
        Err(TfeError::NotFound { .. })
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn variables_are_created_listed_updated_and_deleted_and_sensitive_values_never_return() {
    let emu = TestEmulator::start();
    let ws = emu.seed_workspace("acme", "app");
    let client = emu.client().await;
    let region = client
        .create_variable(
            &ws,
            &VariableOptions {
                key: Some("region".into()),
                value: Some("\"eu-west-1\"".into()),
                description: Some("where it runs".into()),
                category: Some(VariableCategory::Terraform),
                hcl: Some(true),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert!(region.id.starts_with("var-"));
    assert_eq!(region.workspace_id(), Some(ws.as_str()));
    assert_eq!(region.attributes.value.as_deref(), Some("\"eu-west-1\""));
    assert!(region.attributes.hcl && !region.attributes.sensitive);
    let token = client
        .create_variable(
            &ws,
            &VariableOptions {
                key: Some("API_TOKEN".into()),
                value: Some("s3cr3t".into()),
                category: Some(VariableCategory::Env),
                sensitive: Some(true),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(
        token.attributes.value, None,
        "a sensitive value is never returned"
    );
    assert_eq!(token.attributes.category, VariableCategory::Env);

    let listed = client.variables(&ws).await.unwrap();
    assert_eq!(
        listed.iter().map(|v| v.id.as_str()).collect::<Vec<_>>(),
        [region.id.as_str(), token.id.as_str()],
        "creation order"
    );
    assert_eq!(
        client
            .variable(&ws, &token.id)
            .await
            .unwrap()
            .attributes
            .value,
        None
    );
    let (_, body) = raw(&emu, "GET", &format!("/api/v2/workspaces/{ws}/vars"), None).await;
    assert!(!body.to_string().contains("s3cr3t"), "{body}");
    assert!(body.get("meta").is_none(), "the list is not paginated");
    assert_eq!(
        body["data"][1]["attributes"]["value"],
        Value::Null,
        "null, not left out"
    );
    let (_, workspace) = raw(&emu, "GET", &format!("/api/v2/workspaces/{ws}"), None).await;
    assert_eq!(
        workspace["data"]["relationships"]["vars"]["data"]
            .as_array()
            .unwrap()
            .len(),
        2
    );

    // Updates change what they set, and every one gives a new version-id.
    let updated = client
        .update_variable(
            &ws,
            &region.id,
            &VariableOptions {
                value: Some("\"us-east-1\"".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(updated.attributes.value.as_deref(), Some("\"us-east-1\""));
    assert_eq!(
        updated.attributes.description.as_deref(),
        Some("where it runs")
    );
    assert_ne!(updated.attributes.version_id, region.attributes.version_id);
    let unchanged = client
        .update_variable(&ws, &region.id, &VariableOptions::default())
        .await
        .unwrap();
    assert_ne!(
        unchanged.attributes.version_id,
        updated.attributes.version_id
    );
    let hidden = client
        .update_variable(
            &ws,
            &region.id,
            &VariableOptions {
                sensitive: Some(true),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(
        hidden.attributes.value, None,
        "made sensitive, no longer shown"
    );

    client.delete_variable(&ws, &token.id).await.unwrap();
    assert!(matches!(
        client.delete_variable(&ws, &token.id).await,
        Err(TfeError::NotFound { .. })
    ));
    assert_eq!(client.variables(&ws).await.unwrap().len(), 1);
    let other = emu.seed_workspace("acme", "other");
    assert!(
        matches!(
            client.variable(&other, &region.id).await,
            Err(TfeError::NotFound { .. })
        ),
        "a variable is found through its own workspace only"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn variables_are_refused_with_the_apis_422s() {
    let emu = TestEmulator::start();
    let ws = emu.seed_workspace("acme", "app");
    let client = emu.client().await;
    let create = |key: &str, category: VariableCategory| VariableOptions {
        key: Some(key.into()),
        value: Some("v".into()),
        category: Some(category),
        ..Default::default()
    };
    client
        .create_variable(&ws, &create("region", VariableCategory::Terraform))
        .await
        .unwrap();
    let taken = client
        .create_variable(&ws, &create("region", VariableCategory::Terraform))
        .await
        .unwrap_err();
    assert!(
        matches!(&taken, TfeError::Unprocessable { detail } if detail == "Key has already been taken"),
        "{taken}"
    );
    client
        .create_variable(&ws, &create("region", VariableCategory::Env))
        .await
        .expect("the same key in the other category is another variable");
    let other = emu.seed_workspace("acme", "other");
    client
        .create_variable(&other, &create("region", VariableCategory::Terraform))
        .await
        .expect("and so is the same key in another workspace");

    // The error documents are the API's: title "invalid attribute", a pointer to the attribute.
    let (status, doc) = raw(
        &emu,
        "POST",
        &format!("/api/v2/workspaces/{ws}/vars"),
        Some(json!({"data": {"type": "vars", "attributes": {"key": "x", "category": "secret"}}})),
    )
    .await;
    assert_eq!(status, 422);
    assert_eq!(
        doc["errors"][0],
        json!({"status": "422", "title": "invalid attribute",
            "detail": "Category is not included in the list",
            "source": {"pointer": "/data/attributes/category"}})
    );
    for (attributes, detail) in [
        (json!({"category": "env"}), "Key can't be blank"),
        (json!({"key": "k"}), "Category can't be blank"),
        (
            json!({"key": "k", "category": "env", "description": "d".repeat(513)}),
            "Description is too long (maximum is 512 characters)",
        ),
    ] {
        let (status, doc) = raw(
            &emu,
            "POST",
            &format!("/api/v2/workspaces/{ws}/vars"),
            Some(json!({"data": {"type": "vars", "attributes": attributes}})),
        )
        .await;
        assert_eq!(
            (status, doc["errors"][0]["detail"].as_str()),
            (422, Some(detail))
        );
    }
    // An update onto a taken key is refused too, and changes nothing.
    let size = client
        .create_variable(&ws, &create("size", VariableCategory::Terraform))
        .await
        .unwrap();
    let clash = client
        .update_variable(
            &ws,
            &size.id,
            &VariableOptions {
                key: Some("region".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap_err();
    assert!(matches!(clash, TfeError::Unprocessable { .. }), "{clash}");
    assert_eq!(
        client.variable(&ws, &size.id).await.unwrap().attributes.key,
        "size"
    );
    // The client refuses a create it knows the API would refuse, without sending it.
    let before = emu.total_requests();
    assert!(matches!(
        client
            .create_variable(&ws, &VariableOptions::default())
            .await,
        Err(TfeError::Config(_))
    ));
    assert_eq!(emu.total_requests(), before);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_plan_without_a_required_variable_errors_as_terraform_does_until_something_sets_it() {
    let emu = TestEmulator::start();
    let ws = emu.seed_workspace_with(
        "acme",
        "app",
        json!({"knobs": fast_with(json!({"required_variables": ["region", "size"]}))}),
    );
    let client = emu.client().await;
    let failed = run_to_end(&client, &ws, CreateRun::default()).await;
    assert_eq!(failed.attributes.status, RunStatus::Errored);
    let plan = client.plan(failed.plan_id().unwrap()).await.unwrap();
    let log = client
        .read_log(plan.attributes.log_read_url.as_deref().unwrap())
        .await
        .unwrap();
    assert!(log.complete);
    assert_eq!(
        log.text
            .matches("│ Error: No value for required variable")
            .count(),
        2,
        "{}",
        log.text
    );
    assert!(
        log.text.contains(
            "│   on variables.tf line 5:\n│    5: variable \"size\" {\n│ \n│ The root module input variable \"size\" is not set, and has no default value. Use a -var or -var-file command line argument to provide a value for this variable.\n╵\n"
        ),
        "{}",
        log.text
    );
    let summary = emu.admin("GET", "/_emulator/runs", None);
    assert_eq!(
        summary["runs"][0]["plan_failure"],
        "No value for required variable: region, size"
    );

    // A Terraform variable of the workspace sets one; an environment variable TF_VAR_size the other.
    let set = |key: &str, category: VariableCategory| VariableOptions {
        key: Some(key.into()),
        value: Some("x".into()),
        category: Some(category),
        ..Default::default()
    };
    client
        .create_variable(&ws, &set("region", VariableCategory::Terraform))
        .await
        .unwrap();
    let still = run_to_end(&client, &ws, CreateRun::default()).await;
    assert_eq!(
        still.attributes.status,
        RunStatus::Errored,
        "size is still missing"
    );
    client
        .create_variable(&ws, &set("TF_VAR_size", VariableCategory::Env))
        .await
        .unwrap();
    apply(&client, &ws).await;

    // A run's own variables count too.
    let bare = emu.seed_workspace_with(
        "acme",
        "bare",
        json!({"knobs": fast_with(json!({"required_variables": ["region"]}))}),
    );
    let run = run_to_end(
        &client,
        &bare,
        CreateRun {
            auto_apply: Some(true),
            variables: vec![RunVariable {
                key: "region".into(),
                value: "\"eu-west-1\"".into(),
            }],
            ..Default::default()
        },
    )
    .await;
    assert_eq!(run.attributes.status, RunStatus::Applied);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn run_options_travel_on_the_wire_and_the_apis_refusals_hold() {
    let emu = TestEmulator::start();
    let ws = emu.seed_workspace_with("acme", "app", json!({"knobs": fast()}));
    let client = emu.client().await;
    let created = client
        .create_run(CreateRun {
            workspace_id: ws.clone(),
            variables: vec![RunVariable {
                key: "replicas".into(),
                value: "2".into(),
            }],
            target_addrs: vec!["null_resource.a".into()],
            replace_addrs: vec!["null_resource.b".into()],
            allow_empty_apply: true,
            auto_apply: Some(true),
            ..Default::default()
        })
        .await
        .unwrap();
    for run in [created.clone(), client.run(&created.id).await.unwrap()] {
        let a = &run.attributes;
        assert_eq!(
            a.variables,
            [RunVariable {
                key: "replicas".into(),
                value: "2".into()
            }]
        );
        assert_eq!(
            a.target_addrs.as_deref(),
            Some(&["null_resource.a".to_string()][..])
        );
        assert_eq!(
            a.replace_addrs.as_deref(),
            Some(&["null_resource.b".to_string()][..])
        );
        assert!(a.allow_empty_apply && a.auto_apply && !a.refresh_only);
    }
    final_status(&client, &created.id).await;

    // Refresh-only: nothing to change, so the run ends after its plan, unless an empty apply is allowed.
    let refreshed = run_to_end(
        &client,
        &ws,
        CreateRun {
            refresh_only: true,
            auto_apply: Some(true),
            ..Default::default()
        },
    )
    .await;
    assert!(refreshed.attributes.refresh_only);
    assert_eq!(refreshed.attributes.status, RunStatus::PlannedAndFinished);
    assert!(!refreshed.attributes.has_changes);
    let before = client.current_state_version(&ws).await.unwrap().unwrap();
    let empty_apply = run_to_end(
        &client,
        &ws,
        CreateRun {
            refresh_only: true,
            allow_empty_apply: true,
            auto_apply: Some(true),
            ..Default::default()
        },
    )
    .await;
    assert_eq!(empty_apply.attributes.status, RunStatus::Applied);
    let after = client.current_state_version(&ws).await.unwrap().unwrap();
    assert_eq!(after.attributes.serial, before.attributes.serial + 1);

    // What the API refuses.
    let both = client
        .create_run(CreateRun {
            workspace_id: ws.clone(),
            refresh_only: true,
            is_destroy: true,
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert!(
        matches!(&both, TfeError::Unprocessable { detail } if detail.contains("refresh-only and is-destroy are mutually exclusive")),
        "{both}"
    );
    let version = client
        .create_run(CreateRun {
            workspace_id: ws.clone(),
            terraform_version: Some("1.9.5".into()),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert!(
        matches!(&version, TfeError::Unprocessable { detail } if detail.contains("only valid when plan-only")),
        "{version}"
    );
    let speculative = client
        .create_run(CreateRun {
            workspace_id: ws.clone(),
            terraform_version: Some("1.9.5".into()),
            plan_only: true,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(
        speculative.attributes.terraform_version.as_deref(),
        Some("1.9.5")
    );
    let (status, doc) = raw(
        &emu,
        "POST",
        "/api/v2/runs",
        Some(
            json!({"data": {"attributes": {"variables": [{"key": "n", "value": 2}]},
            "relationships": {"workspace": {"data": {"type": "workspaces", "id": ws}}}}}),
        ),
    )
    .await;
    assert_eq!(status, 422);
    assert!(
        doc["errors"][0]["detail"]
            .as_str()
            .unwrap()
            .contains("attribute variables must be a list"),
        "{doc}"
    );
    let runs = emu.workspace_runs(&ws);
    assert_eq!(runs.len(), 4, "refused runs were not created");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_queued_before_its_configuration_arrives_errors_and_one_queued_after_applies() {
    let emu = TestEmulator::start();
    // A VCS workspace whose configuration takes 1.5 s to fetch.
    let ws = emu.seed_workspace_with(
        "acme",
        "vcs",
        json!({"knobs": fast_with(json!({"configuration_upload_ms": 1500}))}),
    );
    let client = emu.client().await;
    let cv = client
        .latest_configuration_version(&ws)
        .await
        .unwrap()
        .expect("the VCS workspace has a configuration version");
    assert_eq!(cv.attributes.status, "fetching");
    assert!(cv.is_on_its_way() && !cv.is_uploaded());
    let early = run_to_end(&client, &ws, CreateRun::default()).await;
    assert_eq!(early.attributes.status, RunStatus::Errored);
    let plan = client.plan(early.plan_id().unwrap()).await.unwrap();
    let log = client
        .read_log(plan.attributes.log_read_url.as_deref().unwrap())
        .await
        .unwrap();
    assert!(
        log.text
            .contains("│ Error: Failed to retrieve configuration")
            && log.text.contains(&cv.id),
        "{}",
        log.text
    );

    // Waiting for it, as a careful client does, then queuing.
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let now = client
            .latest_configuration_version(&ws)
            .await
            .unwrap()
            .unwrap();
        if now.is_uploaded() {
            assert!(now.attributes.status_timestamps.contains_key("uploaded-at"));
            break;
        }
        assert!(Instant::now() < deadline, "never uploaded");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    apply(&client, &ws).await;

    // An API upload stays pending while it is processed, then queues its run.
    let uploaded = emu.seed_workspace_with(
        "acme",
        "api",
        json!({"vcs": false, "knobs": fast_with(json!({"configuration_upload_ms": 600}))}),
    );
    assert!(matches!(
        client.create_run(CreateRun {
            workspace_id: uploaded.clone(),
            ..Default::default()
        }).await,
        Err(e) if e.is_configuration_version_missing()
    ));
    let cv = client
        .create_configuration_version(&uploaded, true, false)
        .await
        .unwrap();
    client
        .upload_configuration(
            cv.attributes.upload_url.as_deref().unwrap(),
            b"tar".to_vec(),
        )
        .await
        .unwrap();
    assert_eq!(
        client
            .configuration_version(&cv.id)
            .await
            .unwrap()
            .attributes
            .status,
        "pending"
    );
    assert!(
        emu.workspace_runs(&uploaded).is_empty(),
        "no run before it is processed"
    );
    let deadline = Instant::now() + Duration::from_secs(5);
    while emu.workspace_runs(&uploaded).is_empty() {
        assert!(Instant::now() < deadline, "the upload queued no run");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(
        client
            .configuration_version(&cv.id)
            .await
            .unwrap()
            .is_uploaded()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_no_route_serves_are_in_the_request_log() {
    let emu = TestEmulator::start();
    emu.reset_requests();
    assert_eq!(
        raw(
            &emu,
            "GET",
            "/api/v2/workspaces/ws-1/assessment-results",
            None
        )
        .await
        .0,
        404
    );
    assert_eq!(raw(&emu, "PUT", "/api/v2/organizations", None).await.0, 405);
    let log = emu.requests();
    let entries = log["requests"].as_array().unwrap();
    assert_eq!(entries.len(), 2, "{log}");
    assert_eq!(
        entries[0]["path"],
        "/api/v2/workspaces/ws-1/assessment-results"
    );
    assert_eq!(entries[0]["status"], 404);
    assert_eq!(entries[0]["unserved"], true);
    assert_eq!(entries[1]["method"], "PUT");
    assert_eq!(entries[1]["status"], 405);
    assert_eq!(
        emu.request_count("GET /api/v2/workspaces/ws-1/assessment-results"),
        1
    );
    assert_eq!(log["counters"]["by_status"]["404"], 1);
}

// ---------- Terraform's own remote-state reader ----------

/// The repository root (two levels above this crate).
fn repository_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The Terraform CLIs: `terraform` on PATH and `.tools/bin/terraform-1.0.3`; a missing one fails the test
/// saying how to install it.
fn terraform_clis() -> Vec<PathBuf> {
    let on_path = std::env::var_os("PATH")
        .and_then(|paths| {
            std::env::split_paths(&paths)
                .map(|dir| dir.join("terraform"))
                .find(|p| p.is_file())
        })
        .unwrap_or_else(|| {
            panic!("the Terraform CLI `terraform` was not found on PATH: run `make tools` to install it")
        });
    let old = repository_root().join(".tools/bin/terraform-1.0.3");
    assert!(
        old.is_file(),
        "Terraform 1.0.3 was not found at {}: run `make tools` to install it",
        old.display()
    );
    vec![on_path, old]
}

/// Runs `cli args` in `dir` with only the given CLI configuration and CA: nothing of the caller's Terraform
/// setup (TF_*, ~/.terraformrc) leaks in.
fn terraform(cli: &Path, dir: &Path, args: &[&str], cli_config: &Path, ca: &Path) -> String {
    let mut command = Command::new(cli);
    command.args(args).current_dir(dir);
    for (key, _) in std::env::vars() {
        if key.starts_with("TF_") || key.starts_with("TFE_") {
            command.env_remove(&key);
        }
    }
    let output = command
        .env("TF_CLI_CONFIG_FILE", cli_config)
        .env("HOME", dir)
        .env("SSL_CERT_FILE", ca)
        .env("CHECKPOINT_DISABLE", "1")
        .env("TF_IN_AUTOMATION", "1")
        .env("TF_INPUT", "0")
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", cli.display()));
    let text = format!(
        "{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        output.status.success(),
        "{} {args:?} failed:\n{text}",
        cli.display()
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn terraform_remote_state_reads_a_workspaces_outputs_with_both_clis_over_tls() {
    let clis = terraform_clis();
    let emu = TestEmulator::start();
    let ws = emu.seed_workspace_with(
        "acme",
        "parent",
        json!({"knobs": fast_with(json!({
            "outputs": {"endpoint": "https://cluster.example", "replicas": 3,
                        "zones": ["a", "b"], "labels": {"tier": "web"}, "token": "t0ps3cr3t"},
            "sensitive_outputs": ["token"]}))}),
    );
    let client = emu.client().await;
    apply(&client, &ws).await;

    let dir = tempfile::tempdir().unwrap();
    // The token as a user gives it to Terraform: the CLI configuration's credentials for the host.
    let cli_config = dir.path().join("cli.tfrc");
    std::fs::write(
        &cli_config,
        format!(
            "credentials {:?} {{\n  token = {:?}\n}}\n",
            emu.hostname, emu.token
        ),
    )
    .unwrap();
    let config = format!(
        r#"
data "terraform_remote_state" "parent" {{
  backend = "remote"
  config = {{
    hostname     = "{host}"
    organization = "acme"
    workspaces = {{
      name = "parent"
    }}
  }}
}}

output "endpoint" {{
  value = data.terraform_remote_state.parent.outputs.endpoint
}}
output "replicas" {{
  value = data.terraform_remote_state.parent.outputs.replicas
}}
output "zones" {{
  value = data.terraform_remote_state.parent.outputs.zones
}}
output "tier" {{
  value = data.terraform_remote_state.parent.outputs.labels.tier
}}
output "token" {{
  value     = data.terraform_remote_state.parent.outputs.token
  sensitive = true
}}
"#,
        host = emu.hostname
    );
    for cli in &clis {
        let work = tempfile::tempdir().unwrap();
        std::fs::write(work.path().join("main.tf"), &config).unwrap();
        emu.reset_requests();
        terraform(
            cli,
            work.path(),
            &["init", "-input=false"],
            &cli_config,
            &emu.ca_file,
        );
        let applied = terraform(
            cli,
            work.path(),
            &["apply", "-input=false", "-auto-approve", "-no-color"],
            &cli_config,
            &emu.ca_file,
        );
        assert!(
            applied.contains("token = <sensitive>"),
            "the state marks it sensitive and Terraform honours that:\n{applied}"
        );
        let outputs: Value = serde_json::from_str(&terraform(
            cli,
            work.path(),
            &["output", "-json"],
            &cli_config,
            &emu.ca_file,
        ))
        .unwrap();
        let label = cli.display();
        assert_eq!(
            outputs["endpoint"]["value"], "https://cluster.example",
            "{label}"
        );
        assert_eq!(
            outputs["replicas"]["value"], 3,
            "{label}: a number stays a number"
        );
        assert_eq!(outputs["replicas"]["type"], "number", "{label}");
        assert_eq!(outputs["zones"]["value"], json!(["a", "b"]), "{label}");
        assert_eq!(outputs["tier"]["value"], "web", "{label}");
        assert_eq!(outputs["token"]["value"], "t0ps3cr3t", "{label}");
        assert_eq!(outputs["token"]["sensitive"], true, "{label}");
        // What Terraform's remote backend asked for: discovery, the workspace by name, the current state
        // version and the state file behind its download URL.
        for route in [
            "GET /.well-known/terraform.json",
            "GET /api/v2/organizations/{org}/workspaces/{name}",
            "GET /api/v2/workspaces/{id}/current-state-version",
            "GET /_archivist/v1/object/{secret}",
        ] {
            assert!(emu.request_count(route) >= 1, "{label} never asked {route}");
        }
        let unserved: Vec<Value> = emu.requests()["requests"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|r| r["unserved"] == true)
            .cloned()
            .collect();
        assert!(
            unserved.is_empty(),
            "{label} asked for what the emulator lacks: {unserved:?}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_workspace_list_page_shows_what_each_last_run_did() {
    let emu = TestEmulator::start();
    let applied = emu.seed_workspace_with(
        "acme",
        "applied",
        json!({"knobs": fast_with(json!({
            "outputs": {"endpoint": "https://k8s", "nodes": 3, "token": "s3cret"},
            "sensitive_outputs": ["token"]}))}),
    );
    let untouched = emu.seed_workspace_with("acme", "untouched", json!({"knobs": fast()}));
    let client = emu.client().await;
    let run = apply(&client, &applied).await;

    let page = client
        .organization_workspace_results(
            "acme",
            tfe_client::PageRequest {
                number: 1,
                size: 100,
            },
        )
        .await
        .expect("the results page");
    let of = |id: &str| {
        page.items
            .iter()
            .find(|r| r.workspace.id == id)
            .unwrap_or_else(|| panic!("{id} not listed"))
    };
    let done = of(&applied);
    let current = done.current_run.as_ref().expect("the current run included");
    assert_eq!(current.id, run.id);
    assert_eq!(current.attributes.status, RunStatus::Applied);
    let plan = done.current_plan.as_ref().expect("its plan included");
    assert_eq!(Some(plan.id.as_str()), current.plan_id());
    assert_eq!(plan.attributes.status.as_str(), "finished");
    let state = done
        .state_version
        .as_ref()
        .expect("the state version included");
    assert_eq!(state.run_id(), Some(run.id.as_str()));
    assert!(state.attributes.resources_processed);
    let outputs = done.outputs.as_ref().expect("every output included");
    let by_name = |name: &str| {
        &outputs
            .iter()
            .find(|o| o.attributes.name == name)
            .unwrap_or_else(|| panic!("no output {name}"))
            .attributes
    };
    assert_eq!(by_name("nodes").value, json!(3));
    assert_eq!(by_name("nodes").output_type, "number");
    assert_eq!(by_name("endpoint").value, json!("https://k8s"));
    assert!(by_name("token").sensitive);
    assert_eq!(by_name("token").value, Value::Null, "a list hides it");

    let fresh = of(&untouched);
    assert!(fresh.current_run.is_none() && fresh.current_plan.is_none());
    assert!(fresh.state_version.is_none());
    assert_eq!(fresh.outputs.as_deref().map(<[_]>::len), Some(0));
}
