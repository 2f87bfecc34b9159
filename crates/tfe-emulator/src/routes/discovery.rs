//! Discovery (`/.well-known/terraform.json`) and ping. Terraform's `remote` backend (and `terraform_remote_state`
//! with it) looks up `tfe.v2.1`, or `state.v2` under `TF_FORCE_LOCAL_BACKEND`; the provider `tfe.v2.2`.

use super::*;

pub(super) async fn discovery() -> Response {
    let mut response = json!({"tfe.v2": "/api/v2/", "tfe.v2.1": "/api/v2/", "tfe.v2.2": "/api/v2/",
            "state.v2": "/api/v2/", "modules.v1": "/api/registry/v1/modules/"})
    .to_string()
    .into_response();
    response
        .headers_mut()
        .insert("content-type", HeaderValue::from_static("application/json"));
    response
}

pub(super) async fn ping() -> Response {
    axum::http::StatusCode::NO_CONTENT.into_response()
}
