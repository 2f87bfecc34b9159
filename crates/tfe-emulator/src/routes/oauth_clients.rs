//! OAuth clients and their tokens.

use super::*;

pub(super) async fn create_oauth_client(
    State(emu): State<Shared>,
    Path(org): Path<String>,
    body: Bytes,
) -> ApiResult {
    let CreateOAuthClient {
        service_provider,
        http_url,
        api_url,
        oauth_token_string: token,
        name,
        organization_scoped,
    } = document(&body)?;
    let mut store = emu.store.lock().unwrap();
    if !store.organizations.contains_key(&org) {
        return Err(ApiError::not_found("organization"));
    }
    let client = OAuthClient {
        id: format!("oc-{}", new_suffix()),
        organization: org,
        name,
        service_provider,
        http_url,
        api_url,
        organization_scoped: organization_scoped.unwrap_or(true),
        token_id: token
            .filter(|t| !t.is_empty())
            .map(|_| format!("ot-{}", new_suffix())),
        token_has_ssh_key: false,
        created_at: now(),
        callback_id: crate::store::new_uuid(),
    };
    let doc = json!({"data": render::oauth_client(&store, &client)});
    store.oauth_clients.insert(client.id.clone(), client);
    Ok(jsonapi(201, doc))
}

pub(super) async fn read_oauth_client(
    State(emu): State<Shared>,
    Path(id): Path<String>,
    Query(q): Params,
) -> ApiResult {
    let store = emu.store.lock().unwrap();
    let c = store
        .oauth_clients
        .get(&id)
        .ok_or_else(|| ApiError::not_found("oauth client"))?;
    let mut doc = json!({"data": render::oauth_client(&store, c)});
    if includes(&store, &q, &["oauth_tokens", "organization"])?
        .contains(&"oauth_tokens".to_string())
    {
        doc["included"] = json!(
            c.token_id
                .iter()
                .map(|t| render::oauth_token(c, t))
                .collect::<Vec<_>>()
        );
    }
    ok(doc)
}

pub(super) async fn read_oauth_token(
    State(emu): State<Shared>,
    Path(id): Path<String>,
) -> ApiResult {
    let store = emu.store.lock().unwrap();
    let c = store
        .oauth_clients
        .values()
        .find(|c| c.token_id.as_deref() == Some(id.as_str()))
        .ok_or_else(|| ApiError::not_found("oauth token"))?;
    ok(json!({"data": render::oauth_token(c, &id)}))
}

pub(super) async fn delete_oauth_client(
    State(emu): State<Shared>,
    Path(id): Path<String>,
) -> ApiResult {
    emu.store
        .lock()
        .unwrap()
        .oauth_clients
        .remove(&id)
        .ok_or_else(|| ApiError::not_found("oauth client"))?;
    Ok(axum::http::StatusCode::NO_CONTENT.into_response())
}
