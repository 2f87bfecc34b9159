//! OAuth clients listed by organization, and their tokens: listed by organization or by client, updated
//! (the private SSH key used to clone: `has-ssh-key` follows it) and deleted.

use super::*;
use tfe_client::requests::OAuthTokenOptions;

pub(super) async fn list_oauth_clients(
    State(emu): State<Shared>,
    Path(org): Path<String>,
    Query(q): Params,
    OriginalUri(uri): OriginalUri,
) -> ApiResult {
    let store = emu.store.lock().unwrap();
    if !store.organizations.contains_key(&org) {
        return Err(ApiError::not_found("organization"));
    }
    let items = store
        .oauth_clients
        .values()
        .filter(|c| c.organization == org)
        .map(|c| render::oauth_client(&store, c))
        .collect();
    ok(paginate(items, &q, true, ListUrl::of(&emu, &uri))?)
}

/// Every token of the organization's OAuth clients.
pub(super) async fn list_org_oauth_tokens(
    State(emu): State<Shared>,
    Path(org): Path<String>,
    Query(q): Params,
    OriginalUri(uri): OriginalUri,
) -> ApiResult {
    let store = emu.store.lock().unwrap();
    if !store.organizations.contains_key(&org) {
        return Err(ApiError::not_found("organization"));
    }
    let items = store
        .oauth_clients
        .values()
        .filter(|c| c.organization == org)
        .filter_map(|c| c.token_id.as_ref().map(|t| render::oauth_token(c, t)))
        .collect();
    ok(paginate(items, &q, true, ListUrl::of(&emu, &uri))?)
}

pub(super) async fn list_client_oauth_tokens(
    State(emu): State<Shared>,
    Path(id): Path<String>,
    Query(q): Params,
    OriginalUri(uri): OriginalUri,
) -> ApiResult {
    let store = emu.store.lock().unwrap();
    let c = store
        .oauth_clients
        .get(&id)
        .ok_or_else(|| ApiError::not_found("oauth client"))?;
    let items = c
        .token_id
        .iter()
        .map(|t| render::oauth_token(c, t))
        .collect();
    ok(paginate(items, &q, true, ListUrl::of(&emu, &uri))?)
}

fn client_of_token<'a>(
    store: &'a mut Store,
    token_id: &str,
) -> Result<&'a mut OAuthClient, ApiError> {
    store
        .oauth_clients
        .values_mut()
        .find(|c| c.token_id.as_deref() == Some(token_id))
        .ok_or_else(|| ApiError::not_found("oauth token"))
}

/// A PEM private key: `-----BEGIN … PRIVATE KEY-----`, base64 lines (and RFC 1421 headers), the matching
/// END line.
fn is_pem_private_key(text: &str) -> bool {
    let text = text.trim();
    let Some(rest) = text.strip_prefix("-----BEGIN ") else {
        return false;
    };
    let Some((label, body)) = rest.split_once("-----") else {
        return false;
    };
    if !label.ends_with("PRIVATE KEY") {
        return false;
    }
    let Some(body) = body.strip_suffix(&format!("-----END {label}-----")) else {
        return false;
    };
    let lines: Vec<&str> = body
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.contains(':'))
        .collect();
    !lines.is_empty()
        && lines.iter().all(|l| {
            l.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '+' || c == '/' || c == '=')
        })
}

pub(super) async fn update_oauth_token(
    State(emu): State<Shared>,
    Path(id): Path<String>,
    body: Bytes,
) -> ApiResult {
    let OAuthTokenOptions {
        ssh_key,
        clear_ssh_key,
    } = document(&body)?;
    let mut store = emu.store.lock().unwrap();
    let client = client_of_token(&mut store, &id)?;
    match ssh_key {
        Some(key) if !key.trim().is_empty() => {
            if !is_pem_private_key(&key) {
                return Err(ApiError::unprocessable("Ssh key is invalid"));
            }
            client.token_has_ssh_key = true;
        }
        // An empty key or `null` removes it.
        Some(_) => client.token_has_ssh_key = false,
        None if clear_ssh_key.0 => client.token_has_ssh_key = false,
        None => {}
    }
    ok(json!({"data": render::oauth_token(client, &id)}))
}

pub(super) async fn delete_oauth_token(
    State(emu): State<Shared>,
    Path(id): Path<String>,
) -> ApiResult {
    let mut store = emu.store.lock().unwrap();
    let client = client_of_token(&mut store, &id)?;
    client.token_id = None;
    client.token_has_ssh_key = false;
    Ok(axum::http::StatusCode::NO_CONTENT.into_response())
}

#[cfg(test)]
mod tests {
    use super::is_pem_private_key;

    #[test]
    fn only_pem_private_keys_pass() {
        let key = "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\nBG5vbmU=\n-----END OPENSSH PRIVATE KEY-----\n";
        assert!(is_pem_private_key(key));
        assert!(is_pem_private_key(&key.replace("OPENSSH ", "RSA ")));
        assert!(!is_pem_private_key("ssh-rsa AAAAB3NzaC1yc2E user@host"));
        assert!(!is_pem_private_key(
            &key.replace("PRIVATE KEY", "CERTIFICATE")
        ));
        assert!(!is_pem_private_key(
            "-----BEGIN RSA PRIVATE KEY-----\n-----END RSA PRIVATE KEY-----"
        ));
        assert!(!is_pem_private_key(
            "-----BEGIN RSA PRIVATE KEY-----\nAAAA\n-----END EC PRIVATE KEY-----"
        ));
    }
}
