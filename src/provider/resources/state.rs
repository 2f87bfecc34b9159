//! How the CRUD resources (`tfe_workspace`, `tfe_organization`, `tfe_oauth_client`) build their state
//! from the API's answers: refreshed strings that keep an unset attribute unset, known-or-fallback
//! values, and the warning for attributes the TFE API subset cannot apply (kept in state only).

use tfplugin::{AttributePath, Diagnostics, Value};

/// Warns about each configured attribute whose value differs from `accepted` (its default, or
/// null): the API subset this provider speaks has no field for it, so it is only kept in state.
pub(crate) fn warn_unsupported(config: &Value, names: &[(&str, Value)], diags: &mut Diagnostics) {
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
pub(crate) fn refreshed_string(prior: Option<&str>, api: Option<&str>) -> Option<String> {
    match api {
        Some(s) if !s.is_empty() || prior.is_some() => Some(s.to_owned()),
        _ => prior.map(|_| String::new()),
    }
}

/// A known, non-null value of `state`, or `fallback` (for unknowns after create or nulls after import).
pub(crate) fn known_or(value: &Value, fallback: Value) -> Value {
    if value.is_null() || value.is_unknown() {
        fallback
    } else {
        value.clone()
    }
}

pub(crate) fn path(name: &str) -> AttributePath {
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
}
