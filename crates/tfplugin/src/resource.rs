//! The traits a provider implements, in the spirit of terraform-plugin-go plus a thin framework:
//! the plugin server decodes every request with the schema, runs the generic checks and planning,
//! and hands resources plain [`Value`]s, a cancellation token and room for diagnostics.

use std::sync::Arc;

use async_trait::async_trait;
use tokio_util::sync::CancellationToken;

use super::diagnostics::Diagnostics;
use super::plan::GenericPlan;
use super::schema::Schema;
use super::value::Value;

/// A provider: its own configuration plus the resources and data sources it serves.
#[async_trait]
pub trait Provider: Send + Sync + 'static {
    /// The provider configuration block's schema.
    fn schema(&self) -> Schema;

    /// Extra checks of the provider configuration (after the schema's generic checks).
    fn validate_config(&self, _config: &Value) -> Diagnostics {
        Diagnostics::new()
    }

    /// Called once per process before any resource call. Must not touch the network: plans
    /// have to work offline.
    async fn configure(&self, request: ConfigureRequest) -> Diagnostics;

    /// The managed resource types this provider serves.
    fn resources(&self) -> Vec<Arc<dyn Resource>>;

    /// The data source types this provider serves; none by default.
    fn data_sources(&self) -> Vec<Arc<dyn DataSource>> {
        Vec::new()
    }
}

/// What [`Provider::configure`] receives.
pub struct ConfigureRequest {
    /// The version of the Terraform CLI calling, e.g. `1.9.5`.
    pub terraform_version: String,
    /// The provider block, decoded with [`Provider::schema`]. May hold unknowns.
    pub config: Value,
}

/// Called for work that can take long. `cancel` fires when Terraform sends StopProvider; each
/// later call gets a fresh, uncancelled token.
pub struct ReadRequest {
    /// The state Terraform holds, already upgraded to the current schema.
    pub current_state: Value,
    /// The private data the last apply or read returned (opaque to Terraform).
    pub private: Vec<u8>,
    /// Fires when Terraform sends StopProvider.
    pub cancel: CancellationToken,
}

/// What [`Resource::read`] returns.
pub struct ReadResponse {
    /// Null means the remote object is gone; Terraform then plans to create it again.
    pub new_state: Value,
    /// Private data to store beside the state; Terraform hands it to the next read, plan and apply.
    pub private: Vec<u8>,
    /// Errors and warnings of the refresh.
    pub diagnostics: Diagnostics,
}

impl ReadResponse {
    /// The refreshed state, or the prior state kept unchanged beside the errors when the refresh
    /// failed (so a failed read never drops the object from state).
    pub fn refreshed(prior: Value, private: Vec<u8>, result: Result<Value, Diagnostics>) -> Self {
        match result {
            Ok(new_state) => ReadResponse {
                new_state,
                private,
                diagnostics: Diagnostics::new(),
            },
            Err(diagnostics) => ReadResponse {
                new_state: prior,
                private,
                diagnostics,
            },
        }
    }
}

/// What [`Resource::modify_plan`] sees of the plan request.
pub struct PlanRequest<'a> {
    /// The state before this plan; null when the resource is to be created.
    pub prior_state: &'a Value,
    /// Terraform's proposal: the configuration, with the prior state's values for the computed attributes it leaves unset.
    pub proposed_new_state: &'a Value,
    /// The resource's configuration; may hold unknowns.
    pub config: &'a Value,
    /// The private data stored with the prior state.
    pub prior_private: &'a [u8],
}

/// Create, update and delete all receive this.
pub struct ApplyRequest {
    /// Null on create.
    pub prior_state: Value,
    /// Null on delete.
    pub planned_state: Value,
    /// Null on delete.
    pub config: Value,
    /// The private data the plan returned ([`GenericPlan::planned_private`]).
    pub planned_private: Vec<u8>,
    /// Fires when Terraform sends StopProvider.
    pub cancel: CancellationToken,
}

/// What an apply produced. On failure return the partial state (e.g. with the remote ID) together
/// with error diagnostics: Terraform saves it and marks the instance tainted.
pub struct ApplyResponse {
    /// The state to save; null when nothing exists remotely.
    pub new_state: Value,
    /// Private data to store beside the state.
    pub private: Vec<u8>,
    /// Errors (the apply failed) and warnings.
    pub diagnostics: Diagnostics,
}

impl ApplyResponse {
    /// Success with nothing to say.
    pub fn ok(new_state: Value) -> Self {
        ApplyResponse {
            new_state,
            private: Vec::new(),
            diagnostics: Diagnostics::new(),
        }
    }

    /// Success that still has something to say: `warnings` should hold no error, or Terraform treats the
    /// apply as failed.
    pub fn with_warnings(new_state: Value, warnings: Diagnostics) -> Self {
        ApplyResponse {
            new_state,
            private: Vec::new(),
            diagnostics: warnings,
        }
    }

    /// Failure: `diagnostics` say why, and `new_state` is what exists remotely now (null if nothing).
    pub fn failed(new_state: Value, diagnostics: Diagnostics) -> Self {
        ApplyResponse {
            new_state,
            private: Vec::new(),
            diagnostics,
        }
    }

    /// The answer to an apply whose work came to `result`: success with `warnings` (gathered before
    /// or beside the work), or failure with the warnings followed by the errors, keeping
    /// `state_on_error`, what exists remotely after the failure (null after a failed create, the prior
    /// state after a failed update).
    pub fn from_result(
        result: Result<Value, Diagnostics>,
        warnings: Diagnostics,
        state_on_error: Value,
    ) -> Self {
        match result {
            Ok(new_state) => Self::with_warnings(new_state, warnings),
            Err(errors) => {
                let mut diagnostics = warnings;
                diagnostics.extend(errors);
                Self::failed(state_on_error, diagnostics)
            }
        }
    }
}

/// What [`Resource::import`] receives, from `terraform import` or an `import` block.
pub struct ImportRequest {
    /// The ID the user gave, in whatever form the resource type documents.
    pub id: String,
    /// Fires when Terraform sends StopProvider.
    pub cancel: CancellationToken,
}

/// One object an import produced.
pub struct ImportedResource {
    /// Another resource type the import produced; `None` is the importing resource's own type.
    pub type_name: Option<String>,
    /// Its state; Terraform reads it right after, so it can be partial as long as the read fills it in.
    pub state: Value,
    /// Private data to store beside the state.
    pub private: Vec<u8>,
}

/// What [`Resource::import`] returns.
pub struct ImportResponse {
    /// The imported objects; empty when the import failed.
    pub imported: Vec<ImportedResource>,
    /// Why the import failed, or warnings.
    pub diagnostics: Diagnostics,
}

impl ImportResponse {
    /// The import of one object of the importing resource's own type, whose state `result` holds, or
    /// the diagnostics saying why there is none.
    pub fn from_result(result: Result<Value, Diagnostics>) -> Self {
        match result {
            Ok(state) => ImportResponse {
                imported: vec![ImportedResource {
                    type_name: None,
                    state,
                    private: Vec::new(),
                }],
                diagnostics: Diagnostics::new(),
            },
            Err(diagnostics) => ImportResponse {
                imported: Vec::new(),
                diagnostics,
            },
        }
    }
}

/// A managed resource type.
#[async_trait]
pub trait Resource: Send + Sync + 'static {
    /// Full type name, e.g. `tfe_workspace_run`.
    fn type_name(&self) -> &str;

    /// The resource's schema, used to decode and check every request.
    fn schema(&self) -> Schema;

    /// Extra checks after the schema's generic ones. Values may be unknown.
    fn validate_config(&self, _config: &Value) -> Diagnostics {
        Diagnostics::new()
    }

    /// Adjusts state read from storage (already decoded with the current schema, unknown
    /// attributes dropped, missing ones null) that was written with schema `version`, at most the
    /// schema's own (the framework refuses state from a newer one).
    fn upgrade_state(&self, _version: i64, state: Value) -> Result<Value, Diagnostics> {
        Ok(state)
    }

    /// Adjusts the generic plan (defaults, unknown computed attributes, replacements).
    fn modify_plan(
        &self,
        _request: &PlanRequest<'_>,
        _plan: &mut GenericPlan,
        _diagnostics: &mut Diagnostics,
    ) {
    }

    /// Called when Terraform plans the removal of an instance (a null proposed state, sent by
    /// Terraform 1.3 and later thanks to the `plan_destroy` capability): room for warnings about
    /// what the destroy will do. The plan itself stays null.
    fn plan_destroy(&self, _prior_state: &Value, _diagnostics: &mut Diagnostics) {}

    /// Refreshes the state from the remote object. Default: the state unchanged.
    async fn read(&self, request: ReadRequest) -> ReadResponse {
        ReadResponse {
            new_state: request.current_state,
            private: request.private,
            diagnostics: Diagnostics::new(),
        }
    }

    /// Creates the remote object from `request.planned_state` (where computed attributes are unknown).
    async fn create(&self, request: ApplyRequest) -> ApplyResponse;

    /// Default: the plan is the new state (nothing remote to change).
    async fn update(&self, request: ApplyRequest) -> ApplyResponse {
        ApplyResponse {
            new_state: request.planned_state,
            private: request.planned_private,
            diagnostics: Diagnostics::new(),
        }
    }

    /// The server always reports a null state after a delete without errors.
    async fn delete(&self, request: ApplyRequest) -> Diagnostics;

    /// Default: an error saying the type cannot be imported.
    async fn import(&self, _request: ImportRequest) -> ImportResponse {
        let mut diagnostics = Diagnostics::new();
        diagnostics.error(
            "Import not supported",
            format!("The resource type {} cannot be imported.", self.type_name()),
        );
        ImportResponse {
            imported: Vec::new(),
            diagnostics,
        }
    }
}

/// What [`DataSource::read`] receives.
pub struct ReadDataRequest {
    /// The data source's configuration.
    pub config: Value,
    /// Fires when Terraform sends StopProvider.
    pub cancel: CancellationToken,
}

/// A data source type.
#[async_trait]
pub trait DataSource: Send + Sync + 'static {
    /// Full type name, e.g. `tfe_workspace`.
    fn type_name(&self) -> &str;

    /// The data source's schema, used to decode and check every request.
    fn schema(&self) -> Schema;

    /// Extra checks after the schema's generic ones. Values may be unknown.
    fn validate_config(&self, _config: &Value) -> Diagnostics {
        Diagnostics::new()
    }

    /// Returns the full state (config plus computed attributes) and diagnostics.
    async fn read(&self, request: ReadDataRequest) -> (Value, Diagnostics);
}
