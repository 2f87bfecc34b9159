//! The tfplugin6 `Provider` gRPC service, kept thin (as plugin-go's tf6server): each RPC decodes its request
//! with the schemas, hands the plugin layer's own values to the framework (its `framework` module), and
//! encodes what comes back. Domain problems always travel as diagnostics in an OK response.

use std::sync::Arc;

use tokio_util::sync::CancellationToken;
use tonic::{Request, Response, Status};

use super::diagnostics::Diagnostics;
use super::framework::Framework;
use super::proto::tfplugin6 as pb;
use super::proto::tfplugin6::provider_server;
use super::resource::{ApplyRequest, Provider};
use super::wire::{
    decode, diagnostics_to_proto, encode_or_report, path_to_proto, schema_to_proto,
    write_only_allowed,
};

/// Serves one [`Provider`] over tfplugin6.
pub struct ProviderService {
    framework: Framework,
}

impl ProviderService {
    /// A service serving `provider`.
    pub fn new(provider: Arc<dyn Provider>) -> Self {
        ProviderService {
            framework: Framework::new(provider),
        }
    }

    /// The token handed to the call starting now.
    pub fn cancellation_token(&self) -> CancellationToken {
        self.framework.cancellation_token()
    }

    /// Cancels work in flight; calls that start afterwards get a fresh token.
    pub fn stop_all(&self) {
        self.framework.stop_all()
    }

    fn capabilities() -> pb::ServerCapabilities {
        // plan_destroy: we handle a null proposed state. Schemas are static, so a cached copy is fine.
        pb::ServerCapabilities {
            plan_destroy: true,
            get_provider_schema_optional: true,
            move_resource_state: false,
        }
    }
}

#[tonic::async_trait]
impl provider_server::Provider for ProviderService {
    async fn get_metadata(
        &self,
        _request: Request<pb::get_metadata::Request>,
    ) -> Result<Response<pb::get_metadata::Response>, Status> {
        tracing::debug!("GetMetadata");
        Ok(Response::new(pb::get_metadata::Response {
            server_capabilities: Some(Self::capabilities()),
            diagnostics: Vec::new(),
            data_sources: self
                .framework
                .data_sources
                .keys()
                .map(|name| pb::get_metadata::DataSourceMetadata {
                    type_name: name.clone(),
                })
                .collect(),
            resources: self
                .framework
                .resources
                .keys()
                .map(|name| pb::get_metadata::ResourceMetadata {
                    type_name: name.clone(),
                })
                .collect(),
        }))
    }

    async fn get_provider_schema(
        &self,
        _request: Request<pb::get_provider_schema::Request>,
    ) -> Result<Response<pb::get_provider_schema::Response>, Status> {
        tracing::debug!("GetProviderSchema");
        Ok(Response::new(pb::get_provider_schema::Response {
            provider: Some(schema_to_proto(&self.framework.provider_schema)),
            resource_schemas: self
                .framework
                .resources
                .iter()
                .map(|(k, e)| (k.clone(), schema_to_proto(&e.schema)))
                .collect(),
            data_source_schemas: self
                .framework
                .data_sources
                .iter()
                .map(|(k, e)| (k.clone(), schema_to_proto(&e.schema)))
                .collect(),
            diagnostics: Vec::new(),
            provider_meta: None,
            server_capabilities: Some(Self::capabilities()),
        }))
    }

    async fn validate_provider_config(
        &self,
        request: Request<pb::validate_provider_config::Request>,
    ) -> Result<Response<pb::validate_provider_config::Response>, Status> {
        let req = request.into_inner();
        let mut diags = Diagnostics::new();
        let ty = self.framework.provider_schema.value_type();
        if let Some(config) = decode(
            req.config.as_ref(),
            &ty,
            "provider configuration",
            &mut diags,
        ) {
            self.framework.validate_provider_config(&config, &mut diags);
        }
        tracing::debug!(diagnostics = diags.0.len(), "ValidateProviderConfig");
        Ok(Response::new(pb::validate_provider_config::Response {
            diagnostics: diagnostics_to_proto(&diags),
        }))
    }

    async fn validate_resource_config(
        &self,
        request: Request<pb::validate_resource_config::Request>,
    ) -> Result<Response<pb::validate_resource_config::Response>, Status> {
        let req = request.into_inner();
        self.framework
            .note_write_only_allowed(write_only_allowed(req.client_capabilities.as_ref()));
        let mut diags = Diagnostics::new();
        if let Some(entry) = self.framework.resource(&req.type_name, &mut diags)
            && let Some(config) = decode(
                req.config.as_ref(),
                &entry.ty,
                "resource configuration",
                &mut diags,
            )
        {
            entry.validate_config(&config, &mut diags);
        }
        tracing::debug!(type_name = %req.type_name, diagnostics = diags.0.len(), "ValidateResourceConfig");
        Ok(Response::new(pb::validate_resource_config::Response {
            diagnostics: diagnostics_to_proto(&diags),
        }))
    }

    async fn validate_data_resource_config(
        &self,
        request: Request<pb::validate_data_resource_config::Request>,
    ) -> Result<Response<pb::validate_data_resource_config::Response>, Status> {
        let req = request.into_inner();
        let mut diags = Diagnostics::new();
        if let Some(entry) = self.framework.data_source(&req.type_name, &mut diags)
            && let Some(config) = decode(
                req.config.as_ref(),
                &entry.ty,
                "data source configuration",
                &mut diags,
            )
        {
            entry.validate_config(&config, &mut diags);
        }
        Ok(Response::new(pb::validate_data_resource_config::Response {
            diagnostics: diagnostics_to_proto(&diags),
        }))
    }

    async fn upgrade_resource_state(
        &self,
        request: Request<pb::upgrade_resource_state::Request>,
    ) -> Result<Response<pb::upgrade_resource_state::Response>, Status> {
        let req = request.into_inner();
        let mut diags = Diagnostics::new();
        let mut upgraded_state = None;
        if let Some(entry) = self.framework.resource(&req.type_name, &mut diags) {
            let raw = req.raw_state.unwrap_or_default();
            if let Some(state) = entry.upgrade_state(
                req.version,
                &raw.json,
                !raw.flatmap.is_empty(),
                self.framework.write_only_allowed(),
                &mut diags,
            ) {
                upgraded_state = encode_or_report(&state, &entry.ty, "upgraded state", &mut diags);
            }
        }
        tracing::debug!(type_name = %req.type_name, version = req.version, "UpgradeResourceState");
        Ok(Response::new(pb::upgrade_resource_state::Response {
            upgraded_state,
            diagnostics: diagnostics_to_proto(&diags),
        }))
    }

    async fn configure_provider(
        &self,
        request: Request<pb::configure_provider::Request>,
    ) -> Result<Response<pb::configure_provider::Response>, Status> {
        let req = request.into_inner();
        self.framework
            .note_write_only_allowed(write_only_allowed(req.client_capabilities.as_ref()));
        let mut diags = Diagnostics::new();
        let ty = self.framework.provider_schema.value_type();
        if let Some(config) = decode(
            req.config.as_ref(),
            &ty,
            "provider configuration",
            &mut diags,
        ) {
            tracing::debug!(terraform_version = %req.terraform_version, "ConfigureProvider");
            diags.extend(
                self.framework
                    .configure(req.terraform_version, config)
                    .await,
            );
        }
        Ok(Response::new(pb::configure_provider::Response {
            diagnostics: diagnostics_to_proto(&diags),
        }))
    }

    async fn read_resource(
        &self,
        request: Request<pb::read_resource::Request>,
    ) -> Result<Response<pb::read_resource::Response>, Status> {
        let req = request.into_inner();
        // Taken on arrival, so a StopProvider sent while the request is decoded still cancels it.
        let cancel = self.cancellation_token();
        self.framework
            .note_write_only_allowed(write_only_allowed(req.client_capabilities.as_ref()));
        let mut diags = Diagnostics::new();
        let mut response = pb::read_resource::Response::default();
        if let Some(entry) = self.framework.resource(&req.type_name, &mut diags)
            && let Some(current_state) = decode(
                req.current_state.as_ref(),
                &entry.ty,
                "current state",
                &mut diags,
            )
        {
            tracing::debug!(type_name = %req.type_name, "ReadResource");
            let (new_state, private) = entry
                .read(
                    current_state,
                    req.private,
                    cancel,
                    self.framework.write_only_allowed(),
                    &mut diags,
                )
                .await;
            response.new_state = encode_or_report(&new_state, &entry.ty, "new state", &mut diags);
            response.private = private;
        }
        response.diagnostics = diagnostics_to_proto(&diags);
        Ok(Response::new(response))
    }

    async fn plan_resource_change(
        &self,
        request: Request<pb::plan_resource_change::Request>,
    ) -> Result<Response<pb::plan_resource_change::Response>, Status> {
        let req = request.into_inner();
        self.framework
            .note_write_only_allowed(write_only_allowed(req.client_capabilities.as_ref()));
        let mut diags = Diagnostics::new();
        let mut response = pb::plan_resource_change::Response::default();
        if let Some(entry) = self.framework.resource(&req.type_name, &mut diags)
            && let Some(prior) = decode(
                req.prior_state.as_ref(),
                &entry.ty,
                "prior state",
                &mut diags,
            )
            && let Some(proposed) = decode(
                req.proposed_new_state.as_ref(),
                &entry.ty,
                "proposed state",
                &mut diags,
            )
            && let Some(config) =
                decode(req.config.as_ref(), &entry.ty, "configuration", &mut diags)
        {
            let plan = entry.plan(
                &req.type_name,
                &prior,
                &proposed,
                &config,
                &req.prior_private,
                self.framework.write_only_allowed(),
                &mut diags,
            );
            response.planned_state =
                encode_or_report(&plan.planned_state, &entry.ty, "planned state", &mut diags);
            response.requires_replace = plan.requires_replace.iter().map(path_to_proto).collect();
            response.planned_private = plan.planned_private;
        }
        response.diagnostics = diagnostics_to_proto(&diags);
        Ok(Response::new(response))
    }

    async fn apply_resource_change(
        &self,
        request: Request<pb::apply_resource_change::Request>,
    ) -> Result<Response<pb::apply_resource_change::Response>, Status> {
        let req = request.into_inner();
        // Taken on arrival, so a StopProvider sent while the request is decoded still cancels it.
        let cancel = self.cancellation_token();
        let mut diags = Diagnostics::new();
        let mut response = pb::apply_resource_change::Response::default();
        if let Some(entry) = self.framework.resource(&req.type_name, &mut diags)
            && let Some(prior_state) = decode(
                req.prior_state.as_ref(),
                &entry.ty,
                "prior state",
                &mut diags,
            )
            && let Some(planned_state) = decode(
                req.planned_state.as_ref(),
                &entry.ty,
                "planned state",
                &mut diags,
            )
            && let Some(config) =
                decode(req.config.as_ref(), &entry.ty, "configuration", &mut diags)
        {
            let apply = ApplyRequest {
                prior_state,
                planned_state,
                config,
                planned_private: req.planned_private,
                cancel,
            };
            let write_only = self.framework.write_only_allowed();
            let (new_state, private) = entry
                .apply(&req.type_name, apply, write_only, &mut diags)
                .await;
            response.new_state = encode_or_report(&new_state, &entry.ty, "new state", &mut diags);
            response.private = private;
        }
        response.diagnostics = diagnostics_to_proto(&diags);
        Ok(Response::new(response))
    }

    async fn import_resource_state(
        &self,
        request: Request<pb::import_resource_state::Request>,
    ) -> Result<Response<pb::import_resource_state::Response>, Status> {
        let req = request.into_inner();
        // Taken on arrival, so a StopProvider sent while the request is decoded still cancels it.
        let cancel = self.cancellation_token();
        self.framework
            .note_write_only_allowed(write_only_allowed(req.client_capabilities.as_ref()));
        let mut diags = Diagnostics::new();
        let mut imported_resources = Vec::new();
        if let Some(entry) = self.framework.resource(&req.type_name, &mut diags) {
            tracing::debug!(type_name = %req.type_name, "ImportResourceState");
            let imported = self
                .framework
                .import(entry, &req.type_name, req.id, cancel, &mut diags)
                .await;
            for one in imported {
                let state = encode_or_report(&one.state, one.ty, "imported state", &mut diags);
                imported_resources.push(pb::import_resource_state::ImportedResource {
                    type_name: one.type_name,
                    state,
                    private: one.private,
                });
            }
        }
        Ok(Response::new(pb::import_resource_state::Response {
            imported_resources,
            diagnostics: diagnostics_to_proto(&diags),
        }))
    }

    async fn read_data_source(
        &self,
        request: Request<pb::read_data_source::Request>,
    ) -> Result<Response<pb::read_data_source::Response>, Status> {
        let req = request.into_inner();
        // Taken on arrival, so a StopProvider sent while the request is decoded still cancels it.
        let cancel = self.cancellation_token();
        let mut diags = Diagnostics::new();
        let mut state = None;
        if let Some(entry) = self.framework.data_source(&req.type_name, &mut diags)
            && let Some(config) = decode(
                req.config.as_ref(),
                &entry.ty,
                "data source configuration",
                &mut diags,
            )
        {
            tracing::debug!(type_name = %req.type_name, "ReadDataSource");
            let value = entry.read(config, cancel, &mut diags).await;
            state = encode_or_report(&value, &entry.ty, "data source state", &mut diags);
        }
        Ok(Response::new(pb::read_data_source::Response {
            state,
            diagnostics: diagnostics_to_proto(&diags),
        }))
    }

    async fn stop_provider(
        &self,
        _request: Request<pb::stop_provider::Request>,
    ) -> Result<Response<pb::stop_provider::Response>, Status> {
        tracing::info!("StopProvider: cancelling work in flight");
        self.stop_all();
        Ok(Response::new(pb::stop_provider::Response {
            error: String::new(),
        }))
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use async_trait::async_trait;

    use super::*;
    use crate::codec;
    use crate::resource::{
        ApplyResponse, ConfigureRequest, DataSource, ImportRequest, ImportResponse,
        ImportedResource, ReadDataRequest, Resource,
    };
    use crate::schema::{Attribute, Block, Schema};
    use crate::value::Type;
    use crate::{Diagnostics, Value};
    use provider_server::Provider as _;

    /// A resource whose create waits until cancelled, then returns partial state plus an error.
    struct SlowResource;

    #[async_trait]
    impl Resource for SlowResource {
        fn type_name(&self) -> &str {
            "test_slow"
        }

        fn schema(&self) -> Schema {
            Schema {
                version: 2,
                block: Block {
                    attributes: vec![
                        Attribute::computed("id", Type::String),
                        Attribute::required("name", Type::String).force_new(),
                    ],
                    ..Block::default()
                },
            }
        }

        async fn create(&self, request: ApplyRequest) -> ApplyResponse {
            request.cancel.cancelled().await;
            let mut state = request.planned_state;
            state.set_attr("id", Value::string("remote-1"));
            ApplyResponse::failed(
                state,
                Diagnostics::from_error("Cancelled", "stopped while waiting"),
            )
        }

        fn plan_destroy(&self, prior_state: &Value, diagnostics: &mut Diagnostics) {
            let id = prior_state.attr("id").as_str().unwrap_or_default();
            diagnostics.warning("Removal planned", format!("{id} goes"));
        }

        async fn delete(&self, _request: ApplyRequest) -> Diagnostics {
            Diagnostics::new()
        }

        async fn import(&self, request: ImportRequest) -> ImportResponse {
            ImportResponse {
                imported: vec![ImportedResource {
                    type_name: None,
                    state: Value::object([
                        ("id", Value::string(request.id)),
                        ("name", Value::Unknown),
                    ]),
                    private: b"imported".to_vec(),
                }],
                diagnostics: Diagnostics::new(),
            }
        }
    }

    /// A resource with a write-only attribute at the top and in a nested block; its create records in `seen`
    /// whether the configuration carried the secret.
    struct SecretResource;

    #[async_trait]
    impl Resource for SecretResource {
        fn type_name(&self) -> &str {
            "test_secret"
        }

        fn schema(&self) -> Schema {
            let inner = Block {
                attributes: vec![
                    Attribute::optional("token", Type::String)
                        .sensitive()
                        .write_only(),
                ],
                ..Block::default()
            };
            Schema {
                version: 0,
                block: Block {
                    attributes: vec![
                        Attribute::computed("seen", Type::String),
                        Attribute::optional("secret", Type::String)
                            .sensitive()
                            .write_only(),
                    ],
                    blocks: vec![crate::NestedBlock {
                        type_name: "inner".into(),
                        nesting: crate::NestingMode::List,
                        block: inner,
                        min_items: 0,
                        max_items: 1,
                    }],
                    ..Block::default()
                },
            }
        }

        async fn create(&self, request: ApplyRequest) -> ApplyResponse {
            let mut state = request.planned_state;
            let seen = request
                .config
                .attr("secret")
                .as_str()
                .unwrap_or("none")
                .len();
            state.set_attr("seen", Value::string(format!("{seen} bytes")));
            ApplyResponse::ok(state)
        }

        async fn delete(&self, _request: ApplyRequest) -> Diagnostics {
            Diagnostics::new()
        }
    }

    /// A data source that echoes its input with a computed greeting.
    struct Greeting;

    #[async_trait]
    impl DataSource for Greeting {
        fn type_name(&self) -> &str {
            "test_greeting"
        }

        fn schema(&self) -> Schema {
            Schema {
                version: 0,
                block: Block {
                    attributes: vec![
                        Attribute::required("name", Type::String),
                        Attribute::computed("greeting", Type::String),
                    ],
                    ..Block::default()
                },
            }
        }

        async fn read(&self, request: ReadDataRequest) -> (Value, Diagnostics) {
            let mut state = request.config.clone();
            let name = request
                .config
                .attr("name")
                .as_str()
                .unwrap_or_default()
                .to_string();
            state.set_attr("greeting", Value::string(format!("hello {name}")));
            (state, Diagnostics::new())
        }
    }

    struct TestProvider;

    #[async_trait]
    impl Provider for TestProvider {
        fn schema(&self) -> Schema {
            Schema::default()
        }

        async fn configure(&self, _request: ConfigureRequest) -> Diagnostics {
            Diagnostics::new()
        }

        fn resources(&self) -> Vec<Arc<dyn Resource>> {
            vec![Arc::new(SlowResource), Arc::new(SecretResource)]
        }

        fn data_sources(&self) -> Vec<Arc<dyn DataSource>> {
            vec![Arc::new(Greeting)]
        }
    }

    #[tokio::test]
    async fn data_sources_are_validated_and_read() {
        let svc = service();
        let ty = svc.framework.data_sources["test_greeting"].ty.clone();
        let config = Value::object([("name", Value::string("tfe")), ("greeting", Value::Null)]);
        let response = svc
            .read_data_source(Request::new(pb::read_data_source::Request {
                type_name: "test_greeting".into(),
                config: dv(&config, &ty),
                provider_meta: None,
                client_capabilities: None,
            }))
            .await
            .unwrap()
            .into_inner();
        let state = codec::decode_msgpack(&response.state.unwrap().msgpack, &ty).unwrap();
        assert_eq!(state.attr("greeting"), &Value::string("hello tfe"));

        let missing = Value::object([("name", Value::Null), ("greeting", Value::Null)]);
        let response = svc
            .validate_data_resource_config(Request::new(
                pb::validate_data_resource_config::Request {
                    type_name: "test_greeting".into(),
                    config: dv(&missing, &ty),
                },
            ))
            .await
            .unwrap()
            .into_inner();
        assert_eq!(response.diagnostics.len(), 1);
        assert_eq!(response.diagnostics[0].summary, "Missing required argument");

        let metadata = svc
            .get_metadata(Request::new(pb::get_metadata::Request {}))
            .await
            .unwrap()
            .into_inner();
        assert_eq!(metadata.data_sources[0].type_name, "test_greeting");
        let mut resources: Vec<&str> = metadata
            .resources
            .iter()
            .map(|r| r.type_name.as_str())
            .collect();
        resources.sort();
        assert_eq!(resources, ["test_secret", "test_slow"]);
    }

    fn dv(value: &Value, ty: &Type) -> Option<pb::DynamicValue> {
        Some(pb::DynamicValue {
            msgpack: codec::encode_msgpack(value, ty).unwrap(),
            json: Vec::new(),
        })
    }

    fn service() -> Arc<ProviderService> {
        Arc::new(ProviderService::new(Arc::new(TestProvider)))
    }

    fn create_request(svc: &ProviderService) -> pb::apply_resource_change::Request {
        let ty = svc.framework.resources["test_slow"].ty.clone();
        let planned = Value::object([("id", Value::Unknown), ("name", Value::string("n"))]);
        pb::apply_resource_change::Request {
            type_name: "test_slow".into(),
            prior_state: dv(&Value::Null, &ty),
            planned_state: dv(&planned, &ty),
            config: dv(
                &Value::object([("id", Value::Null), ("name", Value::string("n"))]),
                &ty,
            ),
            ..Default::default()
        }
    }

    #[tokio::test]
    async fn stop_provider_cancels_work_in_flight_and_later_calls_get_a_fresh_token() {
        let svc = service();
        let ty = svc.framework.resources["test_slow"].ty.clone();
        let apply = {
            let svc = svc.clone();
            let request = create_request(&svc);
            tokio::spawn(async move { svc.apply_resource_change(Request::new(request)).await })
        };
        tokio::time::sleep(Duration::from_millis(20)).await;
        assert!(!apply.is_finished(), "create should wait for cancellation");
        let stop = svc
            .stop_provider(Request::new(pb::stop_provider::Request {}))
            .await
            .unwrap()
            .into_inner();
        assert_eq!(stop.error, "");

        let response = tokio::time::timeout(Duration::from_secs(1), apply)
            .await
            .unwrap()
            .unwrap()
            .unwrap()
            .into_inner();
        // Partial state and the error travel together.
        let state = codec::decode_msgpack(&response.new_state.unwrap().msgpack, &ty).unwrap();
        assert_eq!(state.attr("id"), &Value::string("remote-1"));
        assert_eq!(response.diagnostics[0].summary, "Cancelled");

        assert!(
            !svc.cancellation_token().is_cancelled(),
            "a later call must not start cancelled"
        );
    }

    #[tokio::test]
    async fn plan_marks_computed_unknown_and_reports_forced_replacement() {
        let svc = service();
        let ty = svc.framework.resources["test_slow"].ty.clone();
        let prior = Value::object([
            ("id", Value::string("remote-1")),
            ("name", Value::string("old")),
        ]);
        let config = Value::object([("id", Value::Null), ("name", Value::string("new"))]);
        let proposed = Value::object([
            ("id", Value::string("remote-1")),
            ("name", Value::string("new")),
        ]);
        let response = svc
            .plan_resource_change(Request::new(pb::plan_resource_change::Request {
                type_name: "test_slow".into(),
                prior_state: dv(&prior, &ty),
                proposed_new_state: dv(&proposed, &ty),
                config: dv(&config, &ty),
                prior_private: b"p".to_vec(),
                provider_meta: None,
                client_capabilities: None,
            }))
            .await
            .unwrap()
            .into_inner();
        let planned = codec::decode_msgpack(&response.planned_state.unwrap().msgpack, &ty).unwrap();
        assert_eq!(planned.attr("id"), &Value::Unknown);
        assert_eq!(response.requires_replace.len(), 1);
        assert_eq!(response.planned_private, b"p");
        assert!(!response.legacy_type_system);

        // Destroy plan (proposed null) is a null plan.
        let response = svc
            .plan_resource_change(Request::new(pb::plan_resource_change::Request {
                type_name: "test_slow".into(),
                prior_state: dv(&prior, &ty),
                proposed_new_state: None,
                config: None,
                ..Default::default()
            }))
            .await
            .unwrap()
            .into_inner();
        assert_eq!(
            codec::decode_msgpack(&response.planned_state.unwrap().msgpack, &ty).unwrap(),
            Value::Null
        );
        // The resource's plan_destroy hook saw the prior state; its warning is in the response.
        assert_eq!(response.diagnostics.len(), 1, "{:?}", response.diagnostics);
        assert_eq!(response.diagnostics[0].summary, "Removal planned");
        assert!(response.diagnostics[0].detail.ends_with(" goes"));
    }

    #[tokio::test]
    async fn delete_returns_null_state_and_import_returns_state_and_private() {
        let svc = service();
        let ty = svc.framework.resources["test_slow"].ty.clone();
        let prior = Value::object([
            ("id", Value::string("remote-1")),
            ("name", Value::string("n")),
        ]);
        let response = svc
            .apply_resource_change(Request::new(pb::apply_resource_change::Request {
                type_name: "test_slow".into(),
                prior_state: dv(&prior, &ty),
                planned_state: None,
                ..Default::default()
            }))
            .await
            .unwrap()
            .into_inner();
        assert_eq!(
            codec::decode_msgpack(&response.new_state.unwrap().msgpack, &ty).unwrap(),
            Value::Null
        );

        let response = svc
            .import_resource_state(Request::new(pb::import_resource_state::Request {
                type_name: "test_slow".into(),
                id: "remote-9".into(),
                client_capabilities: None,
            }))
            .await
            .unwrap()
            .into_inner();
        let imported = &response.imported_resources[0];
        assert_eq!(imported.type_name, "test_slow");
        assert_eq!(imported.private, b"imported");
        let state = codec::decode_msgpack(&imported.state.as_ref().unwrap().msgpack, &ty).unwrap();
        // Unknowns never reach state.
        assert_eq!(
            state,
            Value::object([("id", Value::string("remote-9")), ("name", Value::Null)])
        );
    }

    /// Terraform 1.11 and later (capability announced) get write-only values null in plan and state, and the
    /// resource still reads them from the configuration; Terraform 1.0 (no capabilities) keeps them, as
    /// ordinary attributes, or its plan would not match the configuration.
    #[tokio::test]
    async fn write_only_values_stay_out_of_plan_and_state_only_for_a_terraform_that_knows_them() {
        for announced in [false, true] {
            let svc = service();
            let ty = svc.framework.resources["test_secret"].ty.clone();
            let config = Value::object([
                ("seen", Value::Null),
                ("secret", Value::string("s3cr3t")),
                (
                    "inner",
                    Value::List(vec![Value::object([("token", Value::string("t0k"))])]),
                ),
            ]);
            let capabilities = announced.then_some(pb::ClientCapabilities {
                deferral_allowed: false,
                write_only_attributes_allowed: true,
            });
            let configured = svc
                .configure_provider(Request::new(pb::configure_provider::Request {
                    terraform_version: if announced { "1.11.4" } else { "1.0.3" }.into(),
                    config: None,
                    client_capabilities: capabilities,
                }))
                .await
                .unwrap()
                .into_inner();
            assert!(
                configured.diagnostics.is_empty(),
                "{:?}",
                configured.diagnostics
            );
            let plan = svc
                .plan_resource_change(Request::new(pb::plan_resource_change::Request {
                    type_name: "test_secret".into(),
                    prior_state: dv(&Value::Null, &ty),
                    proposed_new_state: dv(&config, &ty),
                    config: dv(&config, &ty),
                    client_capabilities: capabilities,
                    ..Default::default()
                }))
                .await
                .unwrap()
                .into_inner();
            let planned = codec::decode_msgpack(&plan.planned_state.unwrap().msgpack, &ty).unwrap();
            let (secret, token) = if announced {
                (Value::Null, Value::Null)
            } else {
                (Value::string("s3cr3t"), Value::string("t0k"))
            };
            assert_eq!(planned.attr("secret"), &secret, "announced: {announced}");
            assert_eq!(
                planned.attr("inner").elements()[0].attr("token"),
                &token,
                "announced: {announced}"
            );
            let applied = svc
                .apply_resource_change(Request::new(pb::apply_resource_change::Request {
                    type_name: "test_secret".into(),
                    prior_state: dv(&Value::Null, &ty),
                    planned_state: dv(&planned, &ty),
                    config: dv(&config, &ty),
                    ..Default::default()
                }))
                .await
                .unwrap()
                .into_inner();
            let state = codec::decode_msgpack(&applied.new_state.unwrap().msgpack, &ty).unwrap();
            assert_eq!(state.attr("seen"), &Value::string("6 bytes"));
            assert_eq!(state.attr("secret"), &secret, "announced: {announced}");
            assert_eq!(state.attr("inner").elements()[0].attr("token"), &token);
        }
    }

    #[test]
    fn the_schema_tells_terraform_which_attributes_are_write_only() {
        let svc = ProviderService::new(Arc::new(TestProvider));
        let schema = schema_to_proto(&svc.framework.resources["test_secret"].schema);
        let block = schema.block.unwrap();
        let secret = block
            .attributes
            .iter()
            .find(|a| a.name == "secret")
            .unwrap();
        assert!(secret.write_only && secret.sensitive && secret.optional);
        let seen = block.attributes.iter().find(|a| a.name == "seen").unwrap();
        assert!(!seen.write_only);
        assert!(block.block_types[0].block.as_ref().unwrap().attributes[0].write_only);
    }

    #[tokio::test]
    async fn upgrade_reads_json_state_ignoring_removed_attributes() {
        let svc = service();
        let ty = svc.framework.resources["test_slow"].ty.clone();
        let response = svc
            .upgrade_resource_state(Request::new(pb::upgrade_resource_state::Request {
                type_name: "test_slow".into(),
                version: 1,
                raw_state: Some(pb::RawState {
                    json: br#"{"id":"remote-1","name":"n","removed_long_ago":42}"#.to_vec(),
                    flatmap: Default::default(),
                }),
            }))
            .await
            .unwrap()
            .into_inner();
        assert!(response.diagnostics.is_empty());
        let state = codec::decode_msgpack(&response.upgraded_state.unwrap().msgpack, &ty).unwrap();
        assert_eq!(
            state,
            Value::object([
                ("id", Value::string("remote-1")),
                ("name", Value::string("n"))
            ])
        );
    }

    #[tokio::test]
    async fn state_from_a_newer_schema_version_is_refused_naming_both_versions() {
        let svc = service();
        let response = svc
            .upgrade_resource_state(Request::new(pb::upgrade_resource_state::Request {
                type_name: "test_slow".into(),
                version: 3,
                raw_state: Some(pb::RawState {
                    json: br#"{"id":"remote-1","name":"n"}"#.to_vec(),
                    flatmap: Default::default(),
                }),
            }))
            .await
            .unwrap()
            .into_inner();
        assert!(response.upgraded_state.is_none());
        assert_eq!(response.diagnostics.len(), 1);
        let diagnostic = &response.diagnostics[0];
        assert_eq!(diagnostic.summary, "State from a newer provider");
        assert!(
            diagnostic.detail.contains(
                "test_slow state has schema version 3; this provider understands up to 2"
            ),
            "{}",
            diagnostic.detail
        );
    }
}
