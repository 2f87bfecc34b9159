//! Pieces the CRUD resources share: the client, API errors as diagnostics, the organization
//! fallback, and the warning for attributes the TFE API subset cannot apply.

use crate::provider::client::LazyClient;
use crate::provider::{SharedConfig, configured};
use tfe_client::{TfeClient, TfeError};
use tfplugin::{AttributePath, Diagnostics, Value};

/// The shared client, or the diagnostics saying why there is none.
pub async fn connect(client: &LazyClient) -> Result<&TfeClient, Diagnostics> {
    client.get().await.map_err(|e| e.into_diagnostics())
}

pub fn is_not_found(error: &TfeError) -> bool {
    error.status() == Some(404)
}

/// The resource's `organization`, else the provider's (argument or TFE_ORGANIZATION).
pub fn organization(value: &Value, config: &SharedConfig) -> Result<String, Diagnostics> {
    if let Some(org) = value
        .attr("organization")
        .as_str()
        .filter(|o| !o.is_empty())
    {
        return Ok(org.to_string());
    }
    configured(config)?
        .organization
        .clone()
        .filter(|o| !o.is_empty())
        .ok_or_else(|| {
            Diagnostics::from_error(
                "No organization",
                "Set `organization` on the resource, or on the provider block (or TFE_ORGANIZATION).",
            )
        })
}

/// In a plan: an unknown `organization` (not configured) becomes the provider's, when it is set.
pub fn plan_organization_fallback(
    planned: &mut Value,
    config_value: &Value,
    config: &SharedConfig,
) {
    if config_value.attr("organization").is_null()
        && planned.attr("organization").is_unknown()
        && let Some(org) = config.get().and_then(|c| c.organization.clone())
        && !org.is_empty()
    {
        planned.set_attr("organization", Value::string(org));
    }
}

/// Warns about each configured attribute whose value differs from `accepted` (its default, or
/// null): the API subset this provider speaks has no field for it, so it is only kept in state.
pub fn warn_unsupported(config: &Value, names: &[(&str, Value)], diags: &mut Diagnostics) {
    for (name, accepted) in names {
        let v = config.attr(name);
        if v.is_null() || v.is_unknown() || v == accepted || is_empty_collection(v) {
            continue;
        }
        diags.attribute_warning(
            AttributePath::root(name),
            "Attribute not applied remotely",
            format!(
                "`{name}` is kept in state as configured, but the TFE API subset this provider speaks \
                 has no field for it, so the server does not see it."
            ),
        );
    }
}

fn is_empty_collection(v: &Value) -> bool {
    matches!(v, Value::List(x) | Value::Set(x) if x.is_empty())
        || matches!(v, Value::Map(m) if m.is_empty())
}

/// `api` for state, but an empty or missing API string stays unset when the prior value was unset,
/// so an unset optional attribute shows no diff.
pub fn refreshed_string(prior: Option<&str>, api: Option<&str>) -> Option<String> {
    match api {
        Some(s) if !s.is_empty() || prior.is_some() => Some(s.to_owned()),
        _ => prior.map(|_| String::new()),
    }
}

/// A known, non-null value of `state`, or `fallback` (for unknowns after create or nulls after import).
pub fn known_or(value: &Value, fallback: Value) -> Value {
    if value.is_null() || value.is_unknown() {
        fallback
    } else {
        value.clone()
    }
}

pub fn path(name: &str) -> AttributePath {
    AttributePath::root(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_empty_api_string_keeps_an_unset_attribute_null() {
        assert_eq!(refreshed_string(None, Some("")), None);
        assert_eq!(refreshed_string(None, None), None);
        assert_eq!(
            refreshed_string(None, Some("main")).as_deref(),
            Some("main")
        );
        assert_eq!(refreshed_string(Some("dev"), Some("")).as_deref(), Some(""));
        assert_eq!(refreshed_string(Some("dev"), None).as_deref(), Some(""));
    }

    #[test]
    fn the_organization_falls_back_to_the_provider_and_says_so_when_missing() {
        let config: SharedConfig = Default::default();
        let _ = config.set(crate::provider::config::ProviderConfig {
            hostname: "h".into(),
            token: crate::provider::config::Token::new("t"),
            token_source: crate::provider::config::TokenSource::Unknown,
            organization: Some("from-provider".into()),
            ssl_skip_verify: false,
        });
        let own = Value::object([("organization", Value::string("own"))]);
        assert_eq!(organization(&own, &config).unwrap(), "own");
        let unset = Value::object([("organization", Value::Null)]);
        assert_eq!(organization(&unset, &config).unwrap(), "from-provider");
        let mut planned = Value::object([("organization", Value::Unknown)]);
        plan_organization_fallback(&mut planned, &unset, &config);
        assert_eq!(
            planned.attr("organization"),
            &Value::string("from-provider")
        );

        let bare: SharedConfig = Default::default();
        let _ = bare.set(crate::provider::config::ProviderConfig {
            hostname: "h".into(),
            token: crate::provider::config::Token::new("t"),
            token_source: crate::provider::config::TokenSource::Unknown,
            organization: None,
            ssl_skip_verify: false,
        });
        let err = organization(&unset, &bare).unwrap_err();
        assert!(err.0[0].detail.contains("TFE_ORGANIZATION"));
    }
}
