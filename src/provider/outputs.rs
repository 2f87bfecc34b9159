//! A workspace's state outputs as Terraform values: what `tfe_outputs` returns and what
//! `tfe_workspace_run` hands back after its apply.
//!
//! Two things are shared here so that both read outputs the same way:
//! - [`output_values`] turns the API's outputs into two values for `dynamic` attributes, every output and the
//!   outputs the state does not mark sensitive, keeping each output's Terraform type (the API's `detailed-type`
//!   tells a list from a tuple and a map from an object, which the JSON value alone cannot);
//! - [`processed_outputs`] waits until the server has extracted the outputs of the current state version.
//!   HCP Terraform does that after the run ends, so a read straight after "applied" can see none or stale ones
//!   (hashicorp/terraform-provider-tfe#578, hashicorp/terraform#35105).

use std::collections::BTreeMap;
use std::time::Duration;

use tfe_client::{CurrentOutputs, OutputValue, TfeClient, TfeError};
use tfplugin::codec::decode_json;
use tfplugin::{Type, Value};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

/// How often [`processed_outputs`] looks again while the server is still processing the state.
const PROCESSING_POLL: Duration = Duration::from_millis(500);

/// A workspace's outputs as values of `dynamic` attributes: objects keyed by output name.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct OutputValues {
    /// Every output, sensitive ones included (the attribute holding it is sensitive as a whole).
    pub(crate) all: Value,
    /// Only the outputs the state does not mark sensitive.
    pub(crate) nonsensitive: Value,
}

impl OutputValues {
    /// No outputs: two empty objects (not null, so that `outputs["x"]` is an error naming `x`, as with an
    /// empty state).
    pub(crate) fn empty() -> OutputValues {
        OutputValues {
            all: Value::Object(BTreeMap::new()),
            nonsensitive: Value::Object(BTreeMap::new()),
        }
    }
}

/// Why an output could not be turned into a Terraform value. Names the output, never its value.
#[derive(Debug, thiserror::Error)]
pub(crate) enum OutputError {
    /// The server's `detailed-type` is not a Terraform type constraint.
    #[error("output {name:?} has a type the provider cannot read ({reason})")]
    BadType {
        /// The output's name.
        name: String,
        /// What is wrong with the type.
        reason: String,
    },
    /// The value does not have the type the server gave for it.
    #[error("output {name:?} does not hold a value of its stated type {ty} ({reason})")]
    Mismatch {
        /// The output's name.
        name: String,
        /// The stated type, in Terraform's JSON type syntax.
        ty: String,
        /// Where and how it differs (no values).
        reason: String,
    },
}

/// The outputs as two object values, each output with its own type.
pub(crate) fn output_values(outputs: &[OutputValue]) -> Result<OutputValues, OutputError> {
    let mut all = BTreeMap::new();
    let mut nonsensitive = BTreeMap::new();
    for output in outputs {
        let value = output_value(output)?;
        if !output.sensitive {
            nonsensitive.insert(output.name.clone(), value.clone());
        }
        all.insert(output.name.clone(), value);
    }
    Ok(OutputValues {
        all: Value::Object(all),
        nonsensitive: Value::Object(nonsensitive),
    })
}

fn output_value(output: &OutputValue) -> Result<Value, OutputError> {
    let ty = match &output.detailed_type {
        Some(detailed) => Type::from_json(detailed).map_err(|e| OutputError::BadType {
            name: output.name.clone(),
            reason: e.to_string(),
        })?,
        None => inferred_type(&output.value),
    };
    let json = serde_json::to_vec(&output.value).expect("a JSON value serializes");
    decode_json(&json, &ty).map_err(|e| OutputError::Mismatch {
        name: output.name.clone(),
        ty: ty.to_json().to_string(),
        // The codec's message names the path and the two types only, never the value.
        reason: e.to_string(),
    })
}

/// The type Terraform gives a JSON value it reads without a type (as `jsondecode` does): arrays are tuples and
/// objects are objects, element by element.
fn inferred_type(json: &serde_json::Value) -> Type {
    use serde_json::Value as J;
    match json {
        J::Null => Type::Dynamic,
        J::Bool(_) => Type::Bool,
        J::Number(_) => Type::Number,
        J::String(_) => Type::String,
        J::Array(items) => Type::Tuple(items.iter().map(inferred_type).collect()),
        J::Object(attrs) => Type::Object(
            attrs
                .iter()
                .map(|(name, value)| (name.clone(), inferred_type(value)))
                .collect(),
        ),
    }
}

/// Why [`processed_outputs`] ended without outputs.
#[derive(Debug, thiserror::Error)]
pub(crate) enum WaitError {
    /// Reading the state version failed.
    #[error(transparent)]
    Api(#[from] TfeError),
    /// Terraform asked the provider to stop.
    #[error("stopped while waiting for the workspace's outputs to be processed")]
    Stopped,
    /// The deadline passed while the server was still processing the state.
    #[error(
        "the workspace's state version {state_version} was still being processed after {waited:?}"
    )]
    TimedOut {
        /// The state version whose outputs were not ready.
        state_version: String,
        /// How long the wait lasted.
        waited: Duration,
    },
}

/// The workspace's current outputs once the server has processed them; `None` when the workspace has no state
/// version. Looks again every half second until `deadline` (if any) or until `stop` is cancelled.
pub(crate) async fn processed_outputs(
    client: &TfeClient,
    workspace_id: &str,
    stop: &CancellationToken,
    deadline: Option<Instant>,
) -> Result<Option<CurrentOutputs>, WaitError> {
    let started = Instant::now();
    loop {
        let read = tokio::select! {
            biased;
            _ = stop.cancelled() => return Err(WaitError::Stopped),
            read = client.current_outputs(workspace_id) => read?,
        };
        let current = match read {
            Some(current) if !current.processed() => current,
            done => return Ok(done),
        };
        let next = Instant::now() + PROCESSING_POLL;
        if deadline.is_some_and(|at| next > at) {
            return Err(WaitError::TimedOut {
                state_version: current.state_version.id,
                waited: started.elapsed(),
            });
        }
        tokio::select! {
            biased;
            _ = stop.cancelled() => return Err(WaitError::Stopped),
            _ = tokio::time::sleep_until(next) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn output(name: &str, value: serde_json::Value, ty: Option<serde_json::Value>) -> OutputValue {
        OutputValue {
            name: name.into(),
            value,
            sensitive: false,
            detailed_type: ty,
        }
    }

    #[test]
    fn numbers_lists_and_objects_keep_their_types() {
        let outputs = [
            output("count", json!(3), Some(json!("number"))),
            output("zones", json!(["a", "b"]), Some(json!(["list", "string"]))),
            output(
                "pair",
                json!(["a", 1]),
                Some(json!(["tuple", ["string", "number"]])),
            ),
            output(
                "tags",
                json!({"env": "prod"}),
                Some(json!(["map", "string"])),
            ),
            output(
                "endpoint",
                json!({"host": "h", "port": 443}),
                Some(json!(["object", {"host": "string", "port": "number"}])),
            ),
        ];
        let values = output_values(&outputs).unwrap();
        assert_eq!(values.all.attr("count"), &Value::int(3));
        assert_eq!(
            values.all.attr("zones"),
            &Value::List(vec![Value::string("a"), Value::string("b")])
        );
        assert_eq!(
            values.all.attr("pair"),
            &Value::Tuple(vec![Value::string("a"), Value::int(1)])
        );
        assert!(matches!(values.all.attr("tags"), Value::Map(_)));
        assert_eq!(
            values.all.attr("endpoint").inferred_type(),
            Type::Object(BTreeMap::from([
                ("host".to_string(), Type::String),
                ("port".to_string(), Type::Number)
            ]))
        );
        assert_eq!(values.all, values.nonsensitive);
    }

    #[test]
    fn sensitive_outputs_are_only_in_the_whole_set() {
        let mut secret = output("password", json!("hunter2"), Some(json!("string")));
        secret.sensitive = true;
        let outputs = [secret, output("name", json!("web"), Some(json!("string")))];
        let values = output_values(&outputs).unwrap();
        assert_eq!(values.all.attr("password"), &Value::string("hunter2"));
        assert_eq!(values.nonsensitive.attr("password"), &Value::Null);
        assert_eq!(values.nonsensitive.attr("name"), &Value::string("web"));
        let Value::Object(nonsensitive) = &values.nonsensitive else {
            panic!("an object")
        };
        assert_eq!(nonsensitive.len(), 1);
    }

    #[test]
    fn without_a_stated_type_arrays_read_as_tuples_and_objects_as_objects() {
        let outputs = [output("mixed", json!({"ids": [1, "x"], "ok": true}), None)];
        let values = output_values(&outputs).unwrap();
        assert_eq!(
            values.all.attr("mixed").attr("ids"),
            &Value::Tuple(vec![Value::int(1), Value::string("x")])
        );
        assert_eq!(values.all.attr("mixed").attr("ok"), &Value::Bool(true));
    }

    #[test]
    fn a_value_that_does_not_fit_its_type_names_the_output_and_not_the_value() {
        let mut secret = output("token", json!({"a": "s3cr3t"}), Some(json!("number")));
        secret.sensitive = true;
        let error = output_values(&[secret]).unwrap_err().to_string();
        assert!(error.contains("\"token\""), "{error}");
        assert!(error.contains("\"number\""), "{error}");
        assert!(!error.contains("s3cr3t"), "{error}");
    }

    #[test]
    fn a_type_that_is_not_a_type_is_refused() {
        let error = output_values(&[output("x", json!(1), Some(json!(["nonsense"])))])
            .unwrap_err()
            .to_string();
        assert!(
            error.contains("\"x\"") && error.contains("cannot read"),
            "{error}"
        );
    }

    #[test]
    fn no_outputs_are_two_empty_objects() {
        assert_eq!(output_values(&[]).unwrap(), OutputValues::empty());
    }

    /// An emulator workspace whose applies write `outputs`, processed `processing_ms` after the apply.
    fn workspace_with_outputs(
        emu: &test_support::emulator::TestEmulator,
        processing_ms: u64,
    ) -> String {
        emu.seed_workspace_with(
            "acme",
            "network",
            json!({"knobs": {"plan_ms": 50, "apply_ms": 50,
                             "outputs": {"vpc_id": "vpc-1", "size": 3},
                             "state_processing_ms": processing_ms}}),
        )
    }

    async fn apply(client: &TfeClient, workspace_id: &str) {
        let run = client
            .create_run(tfe_client::CreateRun {
                workspace_id: workspace_id.to_string(),
                auto_apply: Some(true),
                ..Default::default()
            })
            .await
            .expect("create run");
        test_support::api::wait_for(client, &run.id, tfe_client::RunStatus::Applied).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_wait_ends_when_the_server_has_processed_the_outputs() {
        let emu = test_support::emulator::TestEmulator::start();
        let ws = workspace_with_outputs(&emu, 1_500);
        let client = emu.client().await;
        let stop = CancellationToken::new();
        assert!(
            processed_outputs(&client, &ws, &stop, None)
                .await
                .unwrap()
                .is_none(),
            "no state version before the first apply"
        );
        apply(&client, &ws).await;
        let unprocessed = client
            .current_outputs(&ws)
            .await
            .unwrap()
            .expect("a state version");
        assert!(!unprocessed.processed() && unprocessed.outputs.is_empty());

        let deadline = Instant::now() + Duration::from_secs(20);
        let current = processed_outputs(&client, &ws, &stop, Some(deadline))
            .await
            .unwrap()
            .expect("outputs");
        assert!(current.processed());
        let values = output_values(&current.outputs).unwrap();
        assert_eq!(values.all.attr("vpc_id"), &Value::string("vpc-1"));
        assert_eq!(values.all.attr("size"), &Value::int(3));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_wait_is_bounded_by_its_deadline_and_by_a_stop() {
        let emu = test_support::emulator::TestEmulator::start();
        let ws = workspace_with_outputs(&emu, 60_000);
        let client = emu.client().await;
        apply(&client, &ws).await;
        let stop = CancellationToken::new();

        let deadline = Instant::now() + Duration::from_secs(1);
        let started = Instant::now();
        let error = processed_outputs(&client, &ws, &stop, Some(deadline))
            .await
            .unwrap_err();
        assert!(matches!(error, WaitError::TimedOut { .. }), "{error}");
        assert!(
            started.elapsed() < Duration::from_secs(3),
            "{:?}",
            started.elapsed()
        );
        assert!(
            error.to_string().contains("still being processed"),
            "{error}"
        );

        let stopper = stop.clone();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(300)).await;
            stopper.cancel();
        });
        let error = processed_outputs(&client, &ws, &stop, None)
            .await
            .unwrap_err();
        assert!(matches!(error, WaitError::Stopped), "{error}");
    }
}
