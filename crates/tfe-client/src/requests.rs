//! The request documents the client sends and the emulator reads: each attribute's wire name is spelled
//! once, here.
//!
//! A request type is declared with the `request_document!` macro: its attributes (`data.attributes`) and
//! relationships (`data.relationships.<name>.data.id`). The field's Rust type says what an absent attribute
//! means: `Option<T>` is "not sent", `bool` is `false`, `Vec<String>` is empty, `String` is required.
//! Reading is lenient the way the real API is: snake_case names are accepted beside kebab-case (pytfe sends
//! some that way) and `null` counts as absent.

use serde_json::{Map, Value, json};

use crate::models::{RunVariable, VariableCategory, VcsRepo};

/// Why a request document could not be read; the text is what the API answers with its 422.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RequestError {
    /// An attribute has the wrong JSON type.
    #[error("attribute {name} must be {expected}, got {got}")]
    WrongType {
        /// The attribute's wire name.
        name: &'static str,
        /// What it must be, for example "a boolean".
        expected: &'static str,
        /// The value sent, cut to a readable length.
        got: String,
    },
    /// A required attribute is absent, null or empty.
    #[error("{name} is required")]
    Missing {
        /// The attribute's wire name.
        name: &'static str,
    },
    /// A required relationship is absent.
    #[error("relationships.{name}.data.id is required")]
    MissingRelationship {
        /// The relationship's wire name.
        name: &'static str,
    },
}

/// One attribute value type: how it reads from and writes to JSON.
pub trait AttributeValue: Sized {
    /// Named in the error when a value has another type, e.g. "a boolean".
    const EXPECTED: &'static str;
    /// The value, or `None` when the JSON has another type.
    fn from_json(value: &Value) -> Option<Self>;
    /// The JSON sent.
    fn to_json(&self) -> Value;
}

impl AttributeValue for bool {
    const EXPECTED: &'static str = "a boolean";
    fn from_json(value: &Value) -> Option<Self> {
        value.as_bool()
    }
    fn to_json(&self) -> Value {
        Value::Bool(*self)
    }
}

impl AttributeValue for String {
    const EXPECTED: &'static str = "a string";
    fn from_json(value: &Value) -> Option<Self> {
        value.as_str().map(str::to_owned)
    }
    fn to_json(&self) -> Value {
        Value::String(self.clone())
    }
}

impl AttributeValue for Vec<String> {
    const EXPECTED: &'static str = "a list of strings";
    fn from_json(value: &Value) -> Option<Self> {
        value
            .as_array()?
            .iter()
            .map(|v| v.as_str().map(str::to_owned))
            .collect()
    }
    fn to_json(&self) -> Value {
        json!(self)
    }
}

impl AttributeValue for VcsRepo {
    const EXPECTED: &'static str = "a VCS repository object";
    fn from_json(value: &Value) -> Option<Self> {
        serde_json::from_value(value.clone()).ok()
    }
    fn to_json(&self) -> Value {
        serde_json::to_value(self).unwrap_or(Value::Null)
    }
}

impl AttributeValue for VariableCategory {
    const EXPECTED: &'static str = "a string (terraform or env)";
    fn from_json(value: &Value) -> Option<Self> {
        // Any text reads: one the API does not know is refused by whoever reads the request, in its words.
        value.as_str().map(VariableCategory::parse)
    }
    fn to_json(&self) -> Value {
        Value::String(self.as_str().to_string())
    }
}

impl AttributeValue for Vec<RunVariable> {
    const EXPECTED: &'static str = "a list of {\"key\", \"value\"} objects with string values";
    fn from_json(value: &Value) -> Option<Self> {
        value
            .as_array()?
            .iter()
            .map(|item| {
                Some(RunVariable {
                    key: item.get("key")?.as_str()?.to_owned(),
                    value: item.get("value")?.as_str()?.to_owned(),
                })
            })
            .collect()
    }
    fn to_json(&self) -> Value {
        json!(self)
    }
}

impl AttributeValue for u64 {
    const EXPECTED: &'static str = "a non-negative integer";
    fn from_json(value: &Value) -> Option<Self> {
        value.as_u64()
    }
    fn to_json(&self) -> Value {
        json!(self)
    }
}

/// A field of a request type: what absence means for it, and whether it is sent.
pub trait RequestField: Sized {
    /// Reads the field from the attribute's JSON (`None`: absent or null).
    fn read(name: &'static str, value: Option<&Value>) -> Result<Self, RequestError>;
    /// The JSON to send, or `None` to leave the attribute out.
    fn write(&self) -> Option<Value>;
    /// Reads the field from the whole `attributes` object; by default from [`attribute`] (null is absent).
    fn read_in(name: &'static str, attributes: &Value) -> Result<Self, RequestError> {
        Self::read(name, attribute(attributes, name))
    }
}

/// An attribute sent as an explicit `null` (`"vcs-repo": null`), which the API reads as "remove it": a
/// second field beside the attribute's value field, under the same wire name. `Cleared(true)` sends the
/// `null` (and wins over the value field, which is then left out).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Cleared(pub bool);

impl RequestField for Cleared {
    fn read(_name: &'static str, _value: Option<&Value>) -> Result<Self, RequestError> {
        Ok(Cleared(false))
    }
    fn write(&self) -> Option<Value> {
        self.0.then_some(Value::Null)
    }
    fn read_in(name: &'static str, attributes: &Value) -> Result<Self, RequestError> {
        let sent = attributes
            .get(name)
            .or_else(|| attributes.get(name.replace('-', "_")));
        Ok(Cleared(sent.is_some_and(Value::is_null)))
    }
}

fn typed<T: AttributeValue>(name: &'static str, value: &Value) -> Result<T, RequestError> {
    T::from_json(value).ok_or_else(|| {
        let mut got = value.to_string();
        if got.len() > 80 {
            let cut = (0..=80)
                .rev()
                .find(|i| got.is_char_boundary(*i))
                .unwrap_or(0);
            got.truncate(cut);
            got.push_str("...");
        }
        RequestError::WrongType {
            name,
            expected: T::EXPECTED,
            got,
        }
    })
}

impl<T: AttributeValue> RequestField for Option<T> {
    fn read(name: &'static str, value: Option<&Value>) -> Result<Self, RequestError> {
        value.map(|v| typed(name, v)).transpose()
    }
    fn write(&self) -> Option<Value> {
        self.as_ref().map(T::to_json)
    }
}

impl RequestField for bool {
    fn read(name: &'static str, value: Option<&Value>) -> Result<Self, RequestError> {
        Ok(<Option<bool> as RequestField>::read(name, value)?.unwrap_or(false))
    }
    fn write(&self) -> Option<Value> {
        Some(Value::Bool(*self))
    }
}

impl RequestField for Vec<String> {
    fn read(name: &'static str, value: Option<&Value>) -> Result<Self, RequestError> {
        Ok(<Option<Vec<String>> as RequestField>::read(name, value)?.unwrap_or_default())
    }
    fn write(&self) -> Option<Value> {
        (!self.is_empty()).then(|| self.to_json())
    }
}

impl RequestField for Vec<RunVariable> {
    fn read(name: &'static str, value: Option<&Value>) -> Result<Self, RequestError> {
        Ok(<Option<Vec<RunVariable>> as RequestField>::read(name, value)?.unwrap_or_default())
    }
    fn write(&self) -> Option<Value> {
        (!self.is_empty()).then(|| self.to_json())
    }
}

impl RequestField for String {
    fn read(name: &'static str, value: Option<&Value>) -> Result<Self, RequestError> {
        <Option<String> as RequestField>::read(name, value)?
            .filter(|s| !s.is_empty())
            .ok_or(RequestError::Missing { name })
    }
    fn write(&self) -> Option<Value> {
        Some(self.to_json())
    }
}

/// A relationship field: `String` is required, `Option<String>` optional.
pub trait RelationshipField: Sized {
    /// Reads the related id (`None`: the relationship is absent).
    fn read(name: &'static str, id: Option<&str>) -> Result<Self, RequestError>;
    /// The related id to send, if any.
    fn id(&self) -> Option<&str>;
}

impl RelationshipField for String {
    fn read(name: &'static str, id: Option<&str>) -> Result<Self, RequestError> {
        id.map(str::to_owned)
            .ok_or(RequestError::MissingRelationship { name })
    }
    fn id(&self) -> Option<&str> {
        Some(self)
    }
}

impl RelationshipField for Option<String> {
    fn read(_name: &'static str, id: Option<&str>) -> Result<Self, RequestError> {
        Ok(id.map(str::to_owned))
    }
    fn id(&self) -> Option<&str> {
        self.as_deref()
    }
}

/// An attribute by its kebab-case name, or its snake_case spelling; `null` is absent.
pub fn attribute<'a>(attributes: &'a Value, name: &str) -> Option<&'a Value> {
    attributes
        .get(name)
        .or_else(|| attributes.get(name.replace('-', "_")))
        .filter(|v| !v.is_null())
}

/// A request document type: its JSON:API resource type and how it reads and writes.
pub trait RequestDocument: Sized {
    /// The JSON:API `type` of `data`.
    const RESOURCE_TYPE: &'static str;
    /// `data.attributes` as sent.
    fn attributes(&self) -> Map<String, Value>;
    /// `data.relationships` as sent (empty when the type has none).
    fn relationships(&self) -> Map<String, Value>;
    /// Reads a whole request body (a missing `data` or `attributes` reads as `{}`).
    fn from_document(body: &Value) -> Result<Self, RequestError>;

    /// The whole request body.
    fn to_document(&self) -> Value {
        let mut data = json!({"type": Self::RESOURCE_TYPE, "attributes": self.attributes()});
        let relationships = self.relationships();
        if !relationships.is_empty() {
            data["relationships"] = Value::Object(relationships);
        }
        json!({ "data": data })
    }
}

/// Declares a request type with its JSON:API resource type, attributes and relationships.
macro_rules! request_document {
    (
        $(#[$meta:meta])*
        pub struct $name:ident = $resource_type:literal $( redacting [$($redacted:literal),*] )? {
            $( $(#[$field_meta:meta])* pub $field:ident : $ty:ty = $wire:literal, )*
        }
        $( relationships {
            $( $(#[$rel_meta:meta])* pub $rel:ident : $rel_ty:ty = $rel_wire:literal of $rel_type:literal, )*
        } )?
    ) => {
        $(#[$meta])*
        #[derive(Clone, Default, PartialEq)]
        pub struct $name {
            $( $(#[$field_meta])* pub $field: $ty, )*
            $( $( $(#[$rel_meta])* pub $rel: $rel_ty, )* )?
        }

        /// Shows every field but the redacted ones (secrets such as VCS tokens), so that logging a
        /// request cannot leak them.
        impl std::fmt::Debug for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                let redacted: &[&str] = &[$($($redacted),*)?];
                let mut out = f.debug_struct(stringify!($name));
                $( if redacted.contains(&$wire) {
                    out.field(stringify!($field), &"<redacted>");
                } else {
                    out.field(stringify!($field), &self.$field);
                } )*
                $( $( out.field(stringify!($rel), &self.$rel); )* )?
                out.finish()
            }
        }

        impl RequestDocument for $name {
            const RESOURCE_TYPE: &'static str = $resource_type;

            fn attributes(&self) -> Map<String, Value> {
                let mut attributes = Map::new();
                $( if let Some(v) = RequestField::write(&self.$field) {
                    attributes.insert($wire.into(), v);
                } )*
                attributes
            }

            #[allow(unused_mut)]
            fn relationships(&self) -> Map<String, Value> {
                let mut relationships = Map::new();
                $( $( if let Some(id) = RelationshipField::id(&self.$rel) {
                    relationships.insert(
                        $rel_wire.into(),
                        json!({"data": {"type": $rel_type, "id": id}}),
                    );
                } )* )?
                relationships
            }

            fn from_document(body: &Value) -> Result<Self, RequestError> {
                let empty = Value::Object(Map::new());
                let attributes = body.pointer("/data/attributes").unwrap_or(&empty);
                Ok(Self {
                    $( $field: RequestField::read_in($wire, attributes)?, )*
                    $( $( $rel: RelationshipField::read(
                        $rel_wire,
                        body.pointer(concat!("/data/relationships/", $rel_wire, "/data/id"))
                            .and_then(Value::as_str),
                    )?, )* )?
                })
            }
        }
    };
}

request_document! {
    /// `POST /organizations` and `PATCH /organizations/:name` (unset fields are not sent).
    pub struct OrganizationOptions = "organizations" {
        /// The organization's name, which becomes its id.
        pub name: Option<String> = "name",
        /// The owners' notification email; required on create.
        pub email: Option<String> = "email",
        /// Whether runs get a cost estimate after the plan.
        pub cost_estimation_enabled: Option<bool> = "cost-estimation-enabled",
        /// Minutes of inactivity after which a session ends (`None`: not sent).
        pub session_timeout: Option<u64> = "session-timeout",
        /// Minutes a session lasts at most.
        pub session_remember: Option<u64> = "session-remember",
    }
}

request_document! {
    /// `POST /organizations/:org/workspaces` and `PATCH /workspaces/:id` (unset fields are not sent).
    pub struct WorkspaceOptions = "workspaces" {
        /// The workspace's name, unique in its organization; required on create.
        pub name: Option<String> = "name",
        /// Whether runs apply without confirmation after a successful plan.
        pub auto_apply: Option<bool> = "auto-apply",
        /// `remote`, `local` or `agent`.
        pub execution_mode: Option<String> = "execution-mode",
        /// Whether a run is queued as soon as the workspace is created.
        pub queue_all_runs: Option<bool> = "queue-all-runs",
        /// Whether destroy plans may be queued.
        pub allow_destroy_plan: Option<bool> = "allow-destroy-plan",
        /// The Terraform version runs use, e.g. `1.9.5`.
        pub terraform_version: Option<String> = "terraform-version",
        /// The directory of the configuration, relative to its root, that Terraform runs in.
        pub working_directory: Option<String> = "working-directory",
        /// The repository to link.
        pub vcs_repo: Option<VcsRepo> = "vcs-repo",
        /// Sends `"vcs-repo": null`: the workspace loses its VCS connection.
        pub clear_vcs_repo: Cleared = "vcs-repo",
        /// Whether runs start only for changes under the working directory or the trigger prefixes
        /// (the API's default: true).
        pub file_triggers_enabled: Option<bool> = "file-triggers-enabled",
        /// Whether pull requests get speculative plans (default true).
        pub speculative_enabled: Option<bool> = "speculative-enabled",
        /// Directories whose changes start runs, beside the working directory (default none).
        pub trigger_prefixes: Option<Vec<String>> = "trigger-prefixes",
        /// Deprecated: true is execution mode `remote`, false `local`; execution-mode wins when both are sent.
        pub operations: Option<bool> = "operations",
        /// Whether runs show structured (JSON) output in the UI (default true).
        pub structured_run_output_enabled: Option<bool> = "structured-run-output-enabled",
    }
}

request_document! {
    /// `POST /workspaces/:id/configuration-versions`.
    pub struct ConfigurationVersionOptions = "configuration-versions" {
        /// `None`: the API's default, true.
        pub auto_queue_runs: Option<bool> = "auto-queue-runs",
        /// Runs made from it are plan-only.
        pub speculative: Option<bool> = "speculative",
        /// Keep it out of the workspace's current configuration until a run using it applies.
        pub provisional: Option<bool> = "provisional",
    }
}

request_document! {
    /// `POST /runs`. `variables` may hold secrets, so `Debug` leaves them out.
    pub struct CreateRun = "runs" redacting ["variables"] {
        /// A destroy run: plans to destroy every resource of the workspace.
        pub is_destroy: bool = "is-destroy",
        /// `None` uses the workspace's setting.
        pub auto_apply: Option<bool> = "auto-apply",
        /// `None`: the API's "Triggered via API".
        pub message: Option<String> = "message",
        /// A speculative run: it plans and can never apply.
        pub plan_only: bool = "plan-only",
        /// Whether a plan without changes may still be applied.
        pub allow_empty_apply: bool = "allow-empty-apply",
        /// `None`: the API's default, true.
        pub refresh: Option<bool> = "refresh",
        /// Update state to match the real resources, and change nothing.
        pub refresh_only: bool = "refresh-only",
        /// Resource addresses to limit the run to (`-target`); empty for all, and then not sent.
        pub target_addrs: Vec<String> = "target-addrs",
        /// Resource addresses to replace even if unchanged (`-replace`); not sent when empty.
        pub replace_addrs: Vec<String> = "replace-addrs",
        /// Run-scoped variable values (each an HCL literal), over the workspace's; not sent when empty.
        pub variables: Vec<RunVariable> = "variables",
        /// The Terraform version of a plan-only run; the API refuses it on other runs.
        pub terraform_version: Option<String> = "terraform-version",
    }
    relationships {
        /// The workspace to run in; required.
        pub workspace_id: String = "workspace" of "workspaces",
        /// `None`: the workspace's latest configuration version.
        pub configuration_version_id: Option<String> = "configuration-version" of "configuration-versions",
    }
}

request_document! {
    /// `POST /workspaces/:id/vars` (`key` and `category` required) and `PATCH /workspaces/:id/vars/:var_id`
    /// (unset fields are left as they are). `value` may be a secret, so `Debug` leaves it out.
    pub struct VariableOptions = "vars" redacting ["value"] {
        /// The variable's name.
        pub key: Option<String> = "key",
        /// Its value (for a Terraform variable with `hcl`, HCL source); the API's default is `""`.
        pub value: Option<String> = "value",
        /// What it is for, shown in the UI.
        pub description: Option<String> = "description",
        /// `terraform` or `env`.
        pub category: Option<VariableCategory> = "category",
        /// Whether a Terraform variable's value is HCL rather than a string.
        pub hcl: Option<bool> = "hcl",
        /// Whether the value is write-only: the API never shows it again.
        pub sensitive: Option<bool> = "sensitive",
    }
}

request_document! {
    /// `POST /organizations/:org/oauth-clients`.
    pub struct CreateOAuthClient = "oauth-clients" redacting ["oauth-token-string"] {
        /// `github`, `gitlab_hosted`, ...
        pub service_provider: String = "service-provider",
        /// The VCS provider's web URL, e.g. `https://github.com`.
        pub http_url: String = "http-url",
        /// The VCS provider's API URL, e.g. `https://api.github.com`.
        pub api_url: String = "api-url",
        /// A personal access token on the VCS provider, from which the client's OAuth token is made. Secret.
        pub oauth_token_string: Option<String> = "oauth-token-string",
        /// The name shown in the UI.
        pub name: Option<String> = "name",
        /// Whether every project and workspace of the organization may use the client.
        pub organization_scoped: Option<bool> = "organization-scoped",
    }
}

request_document! {
    /// `PATCH /oauth-tokens/:id`: set the private SSH key used to clone repositories (`ssh_key`), or remove
    /// it (`clear_ssh_key`, sent as `"ssh-key": null`; an empty string removes it too).
    pub struct OAuthTokenOptions = "oauth-tokens" redacting ["ssh-key"] {
        /// A PEM private key (`-----BEGIN … PRIVATE KEY-----`); `""` removes the key.
        pub ssh_key: Option<String> = "ssh-key",
        /// Sends `"ssh-key": null`: the token loses its key.
        pub clear_ssh_key: Cleared = "ssh-key",
    }
}

/// The body of a run action (`apply`, `discard`, `cancel`, `force-cancel`): a plain object, not JSON:API.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RunActionOptions {
    /// Shown in the run's timeline.
    pub comment: Option<String>,
}

impl RunActionOptions {
    /// The body sent.
    pub fn to_body(&self) -> Value {
        let mut body = Map::new();
        if let Some(comment) = &self.comment {
            body.insert("comment".into(), comment.to_json());
        }
        Value::Object(body)
    }

    /// Reads a body (`{}` or no body: no comment).
    pub fn from_body(body: &Value) -> Result<Self, RequestError> {
        Ok(Self {
            comment: RequestField::read("comment", attribute(body, "comment"))?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_run_create_round_trips_with_its_relationships() {
        let run = CreateRun {
            workspace_id: "ws-1".into(),
            is_destroy: true,
            message: Some("hello".into()),
            target_addrs: vec!["null_resource.a".into()],
            ..Default::default()
        };
        let body = run.to_document();
        assert_eq!(body["data"]["type"], "runs");
        assert_eq!(body["data"]["attributes"]["is-destroy"], true);
        assert_eq!(body["data"]["attributes"]["plan-only"], false);
        assert!(body["data"]["attributes"].get("auto-apply").is_none());
        assert!(body["data"]["attributes"].get("replace-addrs").is_none());
        assert_eq!(
            body["data"]["relationships"]["workspace"]["data"],
            json!({"type": "workspaces", "id": "ws-1"})
        );
        assert!(
            body["data"]["relationships"]
                .get("configuration-version")
                .is_none()
        );
        assert_eq!(CreateRun::from_document(&body).unwrap(), run);
    }

    #[test]
    fn reading_is_lenient_about_spelling_nulls_and_absent_parts() {
        let body = json!({"data": {"attributes": {"auto_apply": true, "name": null},
            "relationships": {}}});
        let ws = WorkspaceOptions::from_document(&body).unwrap();
        assert_eq!(ws.auto_apply, Some(true));
        assert_eq!(ws.name, None);
        assert_eq!(
            WorkspaceOptions::from_document(&json!({})).unwrap(),
            WorkspaceOptions::default()
        );
    }

    #[test]
    fn errors_name_the_attribute_and_what_it_must_be() {
        let wrong = json!({"data": {"attributes": {"is-destroy": "yes"},
            "relationships": {"workspace": {"data": {"id": "ws-1"}}}}});
        assert_eq!(
            CreateRun::from_document(&wrong).unwrap_err().to_string(),
            r#"attribute is-destroy must be a boolean, got "yes""#
        );
        let list = json!({"data": {"attributes": {"target-addrs": ["a", 1]},
            "relationships": {"workspace": {"data": {"id": "ws-1"}}}}});
        assert_eq!(
            CreateRun::from_document(&list).unwrap_err().to_string(),
            r#"attribute target-addrs must be a list of strings, got ["a",1]"#
        );
        assert_eq!(
            CreateRun::from_document(&json!({}))
                .unwrap_err()
                .to_string(),
            "relationships.workspace.data.id is required"
        );
        let blank = json!({"data": {"attributes": {"service-provider": "", "http-url": "h"}}});
        assert_eq!(
            CreateOAuthClient::from_document(&blank)
                .unwrap_err()
                .to_string(),
            "service-provider is required"
        );
        let long = json!({"data": {"attributes": {"name": "x".repeat(500)}}});
        let e =
            OrganizationOptions::from_document(&json!({"data": {"attributes": {"email": long}}}));
        assert!(e.unwrap_err().to_string().len() < 160);
    }

    #[test]
    fn debug_output_never_shows_a_vcs_token() {
        let client = CreateOAuthClient {
            service_provider: "github".into(),
            oauth_token_string: Some("ghp_secret".into()),
            ..Default::default()
        };
        let shown = format!("{client:?}");
        assert!(
            shown.contains("github") && shown.contains("<redacted>"),
            "{shown}"
        );
        assert!(!shown.contains("ghp_secret"), "{shown}");
    }

    #[test]
    fn run_variables_round_trip_and_never_show_in_debug() {
        let run = CreateRun {
            workspace_id: "ws-1".into(),
            variables: vec![RunVariable {
                key: "region".into(),
                value: "\"eu-west-1\"".into(),
            }],
            ..Default::default()
        };
        let body = run.to_document();
        assert_eq!(
            body["data"]["attributes"]["variables"],
            json!([{"key": "region", "value": "\"eu-west-1\""}])
        );
        assert_eq!(CreateRun::from_document(&body).unwrap(), run);
        assert!(!format!("{run:?}").contains("eu-west-1"), "{run:?}");
        assert!(
            CreateRun::default().to_document()["data"]["attributes"]
                .get("variables")
                .is_none(),
            "no variables, none sent"
        );
        let wrong = json!({"data": {"attributes": {"variables": [{"key": "n", "value": 3}]},
            "relationships": {"workspace": {"data": {"id": "ws-1"}}}}});
        assert_eq!(
            CreateRun::from_document(&wrong).unwrap_err().to_string(),
            r#"attribute variables must be a list of {"key", "value"} objects with string values, got [{"key":"n","value":3}]"#
        );
    }

    #[test]
    fn variable_options_send_only_what_is_set_and_hide_the_value() {
        let create = VariableOptions {
            key: Some("region".into()),
            value: Some("s3cr3t".into()),
            category: Some(VariableCategory::Terraform),
            sensitive: Some(true),
            ..Default::default()
        };
        let body = create.to_document();
        assert_eq!(body["data"]["type"], "vars");
        assert_eq!(
            body["data"]["attributes"],
            json!({"key": "region", "value": "s3cr3t", "category": "terraform", "sensitive": true})
        );
        assert_eq!(VariableOptions::from_document(&body).unwrap(), create);
        assert!(!format!("{create:?}").contains("s3cr3t"));
        let odd = json!({"data": {"attributes": {"category": "secret"}}});
        assert_eq!(
            VariableOptions::from_document(&odd).unwrap().category,
            Some(VariableCategory::Unknown("secret".into())),
            "an unknown category reads, for the server to refuse in its words"
        );
    }

    #[test]
    fn run_action_bodies_carry_only_a_comment() {
        assert_eq!(RunActionOptions::default().to_body(), json!({}));
        let with = RunActionOptions {
            comment: Some("ok".into()),
        };
        assert_eq!(with.to_body(), json!({"comment": "ok"}));
        assert_eq!(RunActionOptions::from_body(&with.to_body()).unwrap(), with);
    }
}
