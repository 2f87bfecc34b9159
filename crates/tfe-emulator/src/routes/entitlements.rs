//! `GET /organizations/:org/entitlement-set`: what the organization may use. Terraform's `cloud` and `remote`
//! backends read it to check that the organization exists (and whether it has remote operations). Every
//! entitlement is granted unless the organization's `entitlements` knob says otherwise.

use super::*;

pub(super) async fn entitlement_set(
    State(emu): State<Shared>,
    Path(org): Path<String>,
) -> ApiResult {
    let store = emu.store.lock().unwrap();
    let organization = store
        .organizations
        .get(&org)
        .ok_or_else(|| ApiError::not_found("organization"))?;
    ok(json!({"data": render::entitlement_set(&store, organization)}))
}

/// `GET /entitlement-sets/:id` (an organization's external id): the set's `links.self`.
pub(super) async fn read_entitlement_set(
    State(emu): State<Shared>,
    Path(id): Path<String>,
) -> ApiResult {
    let store = emu.store.lock().unwrap();
    let organization = store
        .organizations
        .values()
        .find(|o| o.external_id == id)
        .ok_or_else(|| ApiError::not_found("entitlement set"))?;
    ok(json!({"data": render::entitlement_set(&store, organization)}))
}
