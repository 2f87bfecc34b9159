//! Calls around organizations that Terraform's own backends and other clients make: the list of
//! organizations, an organization's entitlement set, and an update with every field (a rename, the session
//! settings).

use super::*;

impl TfeClient {
    /// `GET /organizations`: one page of the organizations the token sees; `query` filters them (`q`, a
    /// substring of the name or email).
    pub async fn organizations(
        &self,
        page: PageRequest,
        query: Option<&str>,
    ) -> Result<Page<Organization>, TfeError> {
        let extra: Vec<(String, String)> = query
            .map(|q| vec![("q".to_string(), q.to_string())])
            .unwrap_or_default();
        self.list("organizations", page, &extra).await
    }

    /// `GET /organizations/:org/entitlement-set`, which the `cloud` and `remote` backends read to check
    /// that the organization exists.
    pub async fn entitlement_set(&self, organization: &str) -> Result<EntitlementSet, TfeError> {
        self.get(
            &format!("organizations/{}/entitlement-set", seg(organization)),
            &[],
        )
        .await
    }

    /// `PATCH /organizations/:name` with any of [`OrganizationOptions`]' fields; a new `name` renames the
    /// organization (its id is its name, so later calls use the new one).
    pub async fn update_organization_with(
        &self,
        name: &str,
        options: &OrganizationOptions,
    ) -> Result<Organization, TfeError> {
        let raw = self
            .send(
                Method::PATCH,
                &format!("organizations/{}", seg(name)),
                &[],
                Some(options.to_document()),
                Retry::Idempotent,
            )
            .await?;
        untrusted::decode_data(&raw.body, self.inner.api_base.as_str())
    }
}
