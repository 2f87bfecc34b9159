//! Discovery (`/.well-known/terraform.json`) and ping.

use super::*;

pub(super) async fn discovery() -> Response {
    let mut response =
        json!({"tfe.v2": "/api/v2/", "tfe.v2.1": "/api/v2/", "tfe.v2.2": "/api/v2/", "modules.v1": "/api/registry/v1/modules/"})
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
