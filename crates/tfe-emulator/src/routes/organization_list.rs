//! `GET /organizations`: the organizations, by name, paginated with totals. `q` filters on the name or the
//! email (a substring, case-insensitive), `q[name]` and `q[email]` on one of them, as go-tfe sends them.

use super::*;

pub(super) async fn list_organizations(
    State(emu): State<Shared>,
    Query(q): Params,
    OriginalUri(uri): OriginalUri,
) -> ApiResult {
    let store = emu.store.lock().unwrap();
    let needle = |name: &str| param(&q, name).map(str::to_lowercase);
    let (any, by_name, by_email) = (needle("q"), needle("q[name]"), needle("q[email]"));
    let has = |text: &str, n: &Option<String>| {
        n.as_ref()
            .is_none_or(|n| text.to_lowercase().contains(n.as_str()))
    };
    let items = store
        .organizations
        .values()
        .filter(|o| {
            let name_or_email = any.as_ref().is_none_or(|n| {
                o.name.to_lowercase().contains(n.as_str())
                    || o.email.to_lowercase().contains(n.as_str())
            });
            name_or_email && has(&o.name, &by_name) && has(&o.email, &by_email)
        })
        .map(|o| render::organization(&store, o))
        .collect();
    ok(paginate(items, &q, true, ListUrl::of(&emu, &uri))?)
}
