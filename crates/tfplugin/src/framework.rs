//! The framework behind the gRPC service, in this crate's own types (as terraform-plugin-framework's
//! fwserver sits behind plugin-go's tf6server): the resources and data sources with their schemas, the
//! StopProvider token, generic validation and planning, state upgrades, and the create/update/delete
//! dispatch. Nothing here knows protobuf: [`server`](crate::server) decodes each request, calls in here
//! and encodes the answer.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use tokio_util::sync::CancellationToken;

use crate::diagnostics::{AttributePath, Diagnostics};
use crate::plan::{GenericPlan, plan_resource};
use crate::resource::{
    ApplyRequest, ConfigureRequest, DataSource, ImportRequest, PlanRequest, Provider,
    ReadDataRequest, ReadRequest, Resource,
};
use crate::schema::Schema;
use crate::validate::validate_block;
use crate::value::{Type, Value};

pub(crate) struct ResourceEntry {
    pub(crate) resource: Arc<dyn Resource>,
    pub(crate) schema: Schema,
    pub(crate) ty: Type,
}

pub(crate) struct DataSourceEntry {
    pub(crate) data_source: Arc<dyn DataSource>,
    pub(crate) schema: Schema,
    pub(crate) ty: Type,
}

/// One resource an import produced, with the type to encode its state with.
pub(crate) struct Imported<'a> {
    pub(crate) type_name: String,
    pub(crate) state: Value,
    pub(crate) private: Vec<u8>,
    pub(crate) ty: &'a Type,
}

/// One [`Provider`] with its schemas, as every RPC needs them.
pub(crate) struct Framework {
    provider: Arc<dyn Provider>,
    pub(crate) provider_schema: Schema,
    pub(crate) resources: HashMap<String, ResourceEntry>,
    pub(crate) data_sources: HashMap<String, DataSourceEntry>,
    /// Cancelled by StopProvider, then replaced so later calls are not cancelled.
    stop: Mutex<CancellationToken>,
    /// Whether the Terraform this process serves said it understands write-only attributes (1.11 and later
    /// say so in ConfigureProvider, before any plan or apply, and in PlanResourceChange and ReadResource;
    /// ApplyResourceChange and UpgradeResourceState carry no capabilities, so the process remembers).
    write_only_allowed: AtomicBool,
}

impl Framework {
    pub(crate) fn new(provider: Arc<dyn Provider>) -> Self {
        let resources = provider
            .resources()
            .into_iter()
            .map(|resource| {
                let schema = resource.schema();
                let ty = schema.value_type();
                (
                    resource.type_name().to_string(),
                    ResourceEntry {
                        resource,
                        schema,
                        ty,
                    },
                )
            })
            .collect();
        let data_sources = provider
            .data_sources()
            .into_iter()
            .map(|data_source| {
                let schema = data_source.schema();
                let ty = schema.value_type();
                (
                    data_source.type_name().to_string(),
                    DataSourceEntry {
                        data_source,
                        schema,
                        ty,
                    },
                )
            })
            .collect();
        Framework {
            provider_schema: provider.schema(),
            provider,
            resources,
            data_sources,
            stop: Mutex::new(CancellationToken::new()),
            write_only_allowed: AtomicBool::new(false),
        }
    }

    /// Records what a request's client capabilities said about write-only attributes. One process serves one
    /// Terraform, so once it said yes the answer holds for every later call.
    pub(crate) fn note_write_only_allowed(&self, allowed: bool) {
        if allowed {
            self.write_only_allowed.store(true, Ordering::Relaxed);
        }
    }

    /// Whether write-only attributes are to be kept out of plan and state (see [`crate::Attribute::write_only`]).
    pub(crate) fn write_only_allowed(&self) -> bool {
        self.write_only_allowed.load(Ordering::Relaxed)
    }

    /// The token handed to the call starting now.
    pub(crate) fn cancellation_token(&self) -> CancellationToken {
        self.stop.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Cancels work in flight; calls that start afterwards get a fresh token.
    pub(crate) fn stop_all(&self) {
        let mut guard = self.stop.lock().unwrap_or_else(|p| p.into_inner());
        guard.cancel();
        *guard = CancellationToken::new();
    }

    pub(crate) fn resource(
        &self,
        type_name: &str,
        diags: &mut Diagnostics,
    ) -> Option<&ResourceEntry> {
        let entry = self.resources.get(type_name);
        if entry.is_none() {
            diags.error(
                "Unknown resource type",
                format!("This provider does not have a resource type {type_name:?}."),
            );
        }
        entry
    }

    pub(crate) fn data_source(
        &self,
        type_name: &str,
        diags: &mut Diagnostics,
    ) -> Option<&DataSourceEntry> {
        let entry = self.data_sources.get(type_name);
        if entry.is_none() {
            diags.error(
                "Unknown data source",
                format!("This provider does not have a data source {type_name:?}."),
            );
        }
        entry
    }

    pub(crate) fn validate_provider_config(&self, config: &Value, diags: &mut Diagnostics) {
        validate(&self.provider_schema, config, diags);
        diags.extend(self.provider.validate_config(config));
    }

    pub(crate) async fn configure(&self, terraform_version: String, config: Value) -> Diagnostics {
        self.provider
            .configure(ConfigureRequest {
                terraform_version,
                config,
            })
            .await
    }

    /// Imports `id` as `type_name`; each imported resource comes with the type of its own resource.
    pub(crate) async fn import(
        &self,
        entry: &ResourceEntry,
        type_name: &str,
        id: String,
        cancel: CancellationToken,
        diags: &mut Diagnostics,
    ) -> Vec<Imported<'_>> {
        let out = entry.resource.import(ImportRequest { id, cancel }).await;
        diags.extend(out.diagnostics);
        let mut imported_resources = Vec::new();
        for imported in out.imported {
            let type_name = imported.type_name.unwrap_or_else(|| type_name.to_string());
            let ty = match self.resources.get(&type_name) {
                Some(e) => &e.ty,
                None => {
                    diags.error("Provider bug: imported an unknown resource type", type_name);
                    continue;
                }
            };
            let mut state = imported.state;
            state.unknowns_to_null();
            imported_resources.push(Imported {
                type_name,
                state,
                private: imported.private,
                ty,
            });
        }
        imported_resources
    }
}

fn validate(schema: &Schema, config: &Value, diags: &mut Diagnostics) {
    validate_block(&schema.block, config, &AttributePath::default(), diags);
}

impl ResourceEntry {
    pub(crate) fn validate_config(&self, config: &Value, diags: &mut Diagnostics) {
        validate(&self.schema, config, diags);
        diags.extend(self.resource.validate_config(config));
    }

    /// Stored state (JSON, or the flatmap of Terraform 0.11, which is refused) read with this schema
    /// and upgraded by the resource; state from a newer schema version is refused before the resource
    /// sees it, as terraform-plugin-framework does. `None` when there is nothing to return.
    pub(crate) fn upgrade_state(
        &self,
        version: i64,
        json: &[u8],
        has_flatmap: bool,
        write_only_allowed: bool,
        diags: &mut Diagnostics,
    ) -> Option<Value> {
        let decoded = if !json.is_empty() {
            crate::codec::decode_json(json, &self.ty).map_err(|e| {
                diags.error("Could not read the stored state", e.to_string());
            })
        } else if has_flatmap {
            diags.error(
                "Unsupported state format",
                "This state was written by Terraform 0.11 or older (flatmap); upgrade it with a Terraform 0.12-era provider first.",
            );
            Err(())
        } else {
            Ok(Value::Null)
        };
        let state = decoded.ok()?;
        // Written by a newer release of the provider: nothing here can know what it means.
        if version > self.schema.version {
            diags.error(
                "State from a newer provider",
                format!(
                    "This {} state has schema version {version}; this provider understands up to {}. Use a newer \
                     provider.",
                    self.resource.type_name(),
                    self.schema.version
                ),
            );
            return None;
        }
        match self.resource.upgrade_state(version, state) {
            // State an older Terraform wrote may hold write-only values: not for this one.
            Ok(mut state) => {
                if write_only_allowed {
                    self.schema.block.null_write_only(&mut state);
                }
                Some(state)
            }
            Err(d) => {
                diags.extend(d);
                None
            }
        }
    }

    /// The resource's read, with unknowns in what it returns made null.
    pub(crate) async fn read(
        &self,
        current_state: Value,
        private: Vec<u8>,
        cancel: CancellationToken,
        write_only_allowed: bool,
        diags: &mut Diagnostics,
    ) -> (Value, Vec<u8>) {
        let out = self
            .resource
            .read(ReadRequest {
                current_state,
                private,
                cancel,
            })
            .await;
        diags.extend(out.diagnostics);
        let mut new_state = out.new_state;
        new_state.unknowns_to_null();
        if write_only_allowed {
            self.schema.block.null_write_only(&mut new_state);
        }
        (new_state, out.private)
    }

    /// The generic plan (defaults, unknown computed values, forced replacement), then the resource's own
    /// changes to it unless the resource is being destroyed; write-only values made null when the calling
    /// Terraform understands them (it sends them in the configuration only).
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn plan(
        &self,
        type_name: &str,
        prior: &Value,
        proposed: &Value,
        config: &Value,
        prior_private: &[u8],
        write_only_allowed: bool,
        diags: &mut Diagnostics,
    ) -> GenericPlan {
        let mut plan = plan_resource(&self.schema, prior, proposed, config);
        plan.planned_private = prior_private.to_vec();
        if !proposed.is_null() {
            let plan_request = PlanRequest {
                prior_state: prior,
                proposed_new_state: proposed,
                config,
                prior_private,
            };
            self.resource.modify_plan(&plan_request, &mut plan, diags);
        } else if !prior.is_null() {
            self.resource.plan_destroy(prior, diags);
        }
        if write_only_allowed {
            self.schema.block.null_write_only(&mut plan.planned_state);
        }
        tracing::debug!(
            type_name = %type_name,
            create = prior.is_null(),
            replace = plan.requires_replace.len(),
            private_bytes = plan.planned_private.len(),
            "PlanResourceChange"
        );
        plan
    }

    /// Delete when the planned state is null, else create or update; returns the new state and private
    /// data, with unknowns made null.
    pub(crate) async fn apply(
        &self,
        type_name: &str,
        apply: ApplyRequest,
        write_only_allowed: bool,
        diags: &mut Diagnostics,
    ) -> (Value, Vec<u8>) {
        let (new_state, private) = if apply.planned_state.is_null() {
            tracing::debug!(
                type_name = %type_name,
                private_bytes = apply.planned_private.len(),
                "ApplyResourceChange: delete"
            );
            let prior = apply.prior_state.clone();
            let prior_private = apply.planned_private.clone();
            let delete_diags = self.resource.delete(apply).await;
            // Terraform requires null after a successful delete; on failure the object stays,
            // with the private data it had.
            let kept = if delete_diags.has_errors() {
                (prior, prior_private)
            } else {
                (Value::Null, Vec::new())
            };
            diags.extend(delete_diags);
            kept
        } else {
            let create = apply.prior_state.is_null();
            tracing::debug!(type_name = %type_name, create, "ApplyResourceChange");
            let out = if create {
                self.resource.create(apply).await
            } else {
                self.resource.update(apply).await
            };
            diags.extend(out.diagnostics);
            (out.new_state, out.private)
        };
        let mut new_state = new_state;
        if new_state.unknowns_to_null() && !diags.has_errors() {
            tracing::warn!(type_name = %type_name, "apply left unknown values; stored as null");
        }
        if write_only_allowed {
            self.schema.block.null_write_only(&mut new_state);
        }
        (new_state, private)
    }
}

impl DataSourceEntry {
    pub(crate) fn validate_config(&self, config: &Value, diags: &mut Diagnostics) {
        validate(&self.schema, config, diags);
        diags.extend(self.data_source.validate_config(config));
    }

    pub(crate) async fn read(
        &self,
        config: Value,
        cancel: CancellationToken,
        diags: &mut Diagnostics,
    ) -> Value {
        let (value, d) = self
            .data_source
            .read(ReadDataRequest { config, cancel })
            .await;
        diags.extend(d);
        value
    }
}
