//! Organizations, their capacity and run queue; and the calls around them that Terraform's own backends
//! and other clients make: the list of organizations, an organization's entitlement set, and an update
//! with every field (a rename, the session settings).

use super::*;

impl TfeClient {
    /// `GET /organizations/:name`.
    pub async fn organization(&self, name: &str) -> Result<Organization, TfeError> {
        self.get(&format!("organizations/{}", seg(name)), &[]).await
    }

    /// `POST /organizations`: a new organization with the given owner email.
    pub async fn create_organization(
        &self,
        name: &str,
        email: &str,
    ) -> Result<Organization, TfeError> {
        let body = OrganizationOptions {
            name: Some(name.into()),
            email: Some(email.into()),
            ..Default::default()
        }
        .to_document();
        self.write(Method::POST, "organizations", body).await
    }

    /// Changes an organization's email and/or cost estimation setting (unset fields are not sent).
    pub async fn update_organization(
        &self,
        name: &str,
        email: Option<&str>,
        cost_estimation_enabled: Option<bool>,
    ) -> Result<Organization, TfeError> {
        let body = OrganizationOptions {
            email: email.map(str::to_owned),
            cost_estimation_enabled,
            ..Default::default()
        }
        .to_document();
        let raw = self
            .send(
                Method::PATCH,
                &format!("organizations/{}", seg(name)),
                &[],
                Some(body),
                Retry::Idempotent,
            )
            .await?;
        response::decode_data(&raw.body, self.inner.api_base.as_str())
    }

    /// `DELETE /organizations/:name`, with everything in it.
    pub async fn delete_organization(&self, name: &str) -> Result<(), TfeError> {
        self.no_content(
            Method::DELETE,
            &format!("organizations/{}", seg(name)),
            Retry::Idempotent,
        )
        .await
    }

    /// `GET /organizations/:name/capacity`: how many runs are pending and running across the organization.
    pub async fn org_capacity(&self, organization: &str) -> Result<OrganizationCapacity, TfeError> {
        self.get(
            &format!("organizations/{}/capacity", seg(organization)),
            &[],
        )
        .await
    }

    /// The organization's queue of runs waiting for a worker, with `position-in-queue`.
    pub async fn org_run_queue(
        &self,
        organization: &str,
        page: PageRequest,
    ) -> Result<Page<Run>, TfeError> {
        self.list(
            &format!("organizations/{}/runs/queue", seg(organization)),
            page,
            &[],
        )
        .await
    }
}

// What Terraform's `cloud` and `remote` backends and other clients call besides.
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
        response::decode_data(&raw.body, self.inner.api_base.as_str())
    }
}
