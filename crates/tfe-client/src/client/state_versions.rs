//! State versions and their outputs: what a workspace's applies left behind, as `tfe_outputs`, a run's computed
//! outputs and Terraform's remote-state reader read it.
//!
//! HCP Terraform extracts a state's outputs after the apply that wrote it: until the state version's
//! `resources-processed` is true its outputs list is empty (and the workspace's current outputs answer 503),
//! which means "not known yet", not "none". Lists and the current outputs carry sensitive values as `null`;
//! only `GET /state-version-outputs/:id` gives them (to a token that may read the state), so
//! [`TfeClient::current_outputs`] reads each sensitive one by itself, as HashiCorp's `tfe_outputs` does.

use super::*;

/// One root module output with its value, whatever its sensitivity.
#[derive(Clone, PartialEq)]
pub struct OutputValue {
    /// The output's name.
    pub name: String,
    /// Its value as JSON (numbers, lists and objects keep their types).
    pub value: Value,
    /// Whether the configuration marks it sensitive.
    pub sensitive: bool,
    /// Its Terraform type in Terraform's JSON type syntax (`"string"`, `["tuple", ["string"]]`), when the server
    /// gives it: it tells a list from a tuple and a map from an object where the JSON value cannot.
    pub detailed_type: Option<Value>,
}

/// Shows a sensitive output's value as `<sensitive>`.
impl fmt::Debug for OutputValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let value: &dyn fmt::Debug = if self.sensitive {
            &"<sensitive>"
        } else {
            &self.value
        };
        f.debug_struct("OutputValue")
            .field("name", &self.name)
            .field("value", value)
            .field("sensitive", &self.sensitive)
            .field("detailed_type", &self.detailed_type)
            .finish()
    }
}

/// A workspace's current state version and, once it is processed, its outputs with their values.
#[derive(Debug, Clone, PartialEq)]
pub struct CurrentOutputs {
    /// The workspace's current state version.
    pub state_version: StateVersion,
    /// Its outputs with their values, sensitive ones included, in the server's order; empty (and not to be
    /// trusted as "no outputs") while [`CurrentOutputs::processed`] is false.
    pub outputs: Vec<OutputValue>,
}

impl CurrentOutputs {
    /// Whether the server has extracted the outputs (`resources-processed`); read again until it has.
    pub fn processed(&self) -> bool {
        self.state_version.attributes.resources_processed
    }
}

impl TfeClient {
    /// `GET /workspaces/:id/current-state-version`: the state the workspace's next run starts from. `None` when
    /// the workspace has no state version yet (the API's 404, which it also gives for a workspace that does not
    /// exist or that the token may not see: read the workspace to tell them apart).
    pub async fn current_state_version(
        &self,
        workspace_id: &str,
    ) -> Result<Option<StateVersion>, TfeError> {
        let read = self
            .get(
                &format!("workspaces/{}/current-state-version", seg(workspace_id)),
                &[],
            )
            .await;
        match read {
            Ok(state_version) => Ok(Some(state_version)),
            Err(TfeError::NotFound { .. }) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// `GET /state-versions/:id`.
    pub async fn state_version(&self, id: &str) -> Result<StateVersion, TfeError> {
        self.get(&format!("state-versions/{}", seg(id)), &[]).await
    }

    /// `GET /state-versions/:id/outputs`, every page: the state's outputs, sensitive values `null`; empty until
    /// the state version is processed.
    pub async fn state_version_outputs(
        &self,
        state_version_id: &str,
    ) -> Result<Vec<StateVersionOutput>, TfeError> {
        self.all_pages(&format!("state-versions/{}/outputs", seg(state_version_id)))
            .await
    }

    /// `GET /state-version-outputs/:id`: one output, its value included even when it is sensitive.
    pub async fn state_version_output(&self, id: &str) -> Result<StateVersionOutput, TfeError> {
        self.get(&format!("state-version-outputs/{}", seg(id)), &[])
            .await
    }

    /// `GET /workspaces/:id/current-state-version-outputs`: the current state's outputs, sensitive values
    /// `null`, for a token that may read outputs but not state. The API answers 503 while the outputs are being
    /// processed; the client retries that like any 5xx, within its retry budget.
    pub async fn current_state_version_outputs(
        &self,
        workspace_id: &str,
    ) -> Result<Vec<StateVersionOutput>, TfeError> {
        self.get(
            &format!(
                "workspaces/{}/current-state-version-outputs",
                seg(workspace_id)
            ),
            &[],
        )
        .await
    }

    /// The workspace's current outputs with every value, sensitive ones included: one request for the current
    /// state version with its outputs (`include=outputs`; their list if the server leaves them out), and once it
    /// is processed one read per sensitive output (whose value the list leaves out). `None` when the workspace
    /// has no state version yet; when the state version is not processed yet the outputs are empty and
    /// [`CurrentOutputs::processed`] is false, so the caller decides how long to wait (HCP Terraform processes
    /// outputs after the run has ended).
    pub async fn current_outputs(
        &self,
        workspace_id: &str,
    ) -> Result<Option<CurrentOutputs>, TfeError> {
        let path = format!("workspaces/{}/current-state-version", seg(workspace_id));
        let query = [("include".to_string(), "outputs".to_string())];
        let raw = match self
            .send(Method::GET, &path, &query, None, Retry::Idempotent)
            .await
        {
            Ok(raw) => raw,
            Err(TfeError::NotFound { .. }) => return Ok(None),
            Err(e) => return Err(e),
        };
        let (state_version, included): (StateVersion, Vec<Value>) =
            response::decode_with_includes(&raw.body, self.inner.api_base.as_str())?;
        if !state_version.attributes.resources_processed {
            return Ok(Some(CurrentOutputs {
                state_version,
                outputs: Vec::new(),
            }));
        }
        // In the relationship's order, from what was included: all of them, or (a server that leaves the
        // relationship's data or the included outputs out) the list is read instead.
        let listed_in_relationship = matches!(
            state_version.relationships.get("outputs").map(|r| &r.data),
            Some(RelationshipData::Many(_))
        );
        let wanted = state_version.related_ids("outputs");
        let from_include: Option<Vec<StateVersionOutput>> = wanted
            .iter()
            .map(|id| {
                included
                    .iter()
                    .find(|v| v["type"] == "state-version-outputs" && v["id"] == *id)
                    .and_then(|v| serde_json::from_value(v.clone()).ok())
            })
            .collect();
        let listed = match from_include {
            Some(outputs) if listed_in_relationship => outputs,
            _ => self.state_version_outputs(&state_version.id).await?,
        };
        let mut outputs = Vec::new();
        for listed in listed {
            let output = if listed.attributes.sensitive {
                self.state_version_output(&listed.id).await?
            } else {
                listed
            };
            let StateVersionOutputAttributes {
                name,
                sensitive,
                value,
                detailed_type,
                ..
            } = output.attributes;
            outputs.push(OutputValue {
                name,
                value,
                sensitive,
                detailed_type,
            });
        }
        Ok(Some(CurrentOutputs {
            state_version,
            outputs,
        }))
    }

    /// The raw state file behind a state version's `hosted-state-download-url` (Terraform's JSON state, format
    /// 4). The URL is its own credential, so no API token is sent; the download is retried like a read.
    pub async fn download_state(&self, download_url: &str) -> Result<Vec<u8>, TfeError> {
        let url = Url::parse(download_url)
            .map_err(|e| TfeError::Config(format!("state download URL {download_url:?}: {e}")))?;
        let raw = self
            .inner
            .wire
            .execute(Call {
                accept: "application/json",
                auth: false,
                ..Call::api(Method::GET, url, Payload::None, Retry::Idempotent)
            })
            .await?;
        Ok(raw.body.to_vec())
    }
}
