//! `GET /organizations/:org/entitlement-set`: what the organization may use. Terraform's `cloud` and `remote`
//! backends read it to check that the organization exists (and whether it has remote operations). Every
//! entitlement is granted unless the organization's `entitlements` knob says otherwise.

use super::*;

pub(super) async fn entitlement_set(
    State(emu): State<Shared>,
    Path(org): Path<String>,
) -> ApiResult {
    let store = emu.store.lock().unwrap();
    if !store.organizations.contains_key(&org) {
        return Err(ApiError::not_found("organization"));
    }
    let granted = store.org_knobs(&org).entitlements.unwrap_or_default();
    let attributes: serde_json::Map<String, Value> = granted
        .attributes()
        .into_iter()
        .map(|(name, on)| (name.to_string(), Value::Bool(on)))
        .collect();
    ok(
        json!({"data": {"id": format!("org-{org}"), "type": "entitlement-sets",
        "attributes": attributes,
        "links": {"self": format!("/api/v2/entitlement-sets/org-{org}")}}}),
    )
}
