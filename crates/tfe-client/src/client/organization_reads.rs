//! Reads around organizations that Terraform's own backends and other clients make: the list of
//! organizations and an organization's entitlement set.

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
}
