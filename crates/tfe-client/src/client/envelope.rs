//! JSON:API envelopes: the one place that knows the documents' shape (`data`, `included`, pagination),
//! over the transport.

use super::*;

pub(super) const JSONAPI: &str = "application/vnd.api+json";
/// A list walk stops with an error after this many pages (a server could announce a next page forever).
pub(super) const MAX_PAGES: u32 = 100;

impl TfeClient {
    pub(super) async fn get<T: DeserializeOwned>(
        &self,
        path: &str,
        query: &[(String, String)],
    ) -> Result<T, TfeError> {
        let raw = self
            .send(Method::GET, path, query, None, Retry::Idempotent)
            .await?;
        response::decode_data(&raw.body, self.inner.api_base.as_str())
    }

    /// A create or action: a 2xx answer that cannot be read still means it took effect, so a decode
    /// failure is an unknown outcome (callers look for what was created instead of creating it again).
    pub(super) async fn write<T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        body: Value,
    ) -> Result<T, TfeError> {
        let raw = self
            .send(method.clone(), path, &[], Some(body), Retry::Unsafe)
            .await?;
        response::decode_data(&raw.body, self.inner.api_base.as_str()).map_err(|e| {
            TfeError::OutcomeUnknown {
                request: format!("{method} {}", self.path_of(path)),
                source: Box::new(e),
            }
        })
    }

    /// A change that is safe to repeat (PATCH): retried like a read, and its answer decoded like one.
    pub(super) async fn update<T: DeserializeOwned>(
        &self,
        path: &str,
        body: Value,
    ) -> Result<T, TfeError> {
        let raw = self
            .send(Method::PATCH, path, &[], Some(body), Retry::Idempotent)
            .await?;
        response::decode_data(&raw.body, self.inner.api_base.as_str())
    }

    pub(super) fn path_of(&self, path: &str) -> String {
        self.inner
            .api_base
            .join(path)
            .map(|u| u.path().to_string())
            .unwrap_or_else(|_| path.to_string())
    }

    pub(super) async fn no_content(
        &self,
        method: Method,
        path: &str,
        retry: Retry,
    ) -> Result<(), TfeError> {
        self.send(method, path, &[], None, retry).await.map(|_| ())
    }

    pub(super) async fn list<T: DeserializeOwned>(
        &self,
        path: &str,
        page: PageRequest,
        extra: &[(String, String)],
    ) -> Result<Page<T>, TfeError> {
        let number = page.number.max(1);
        let mut query = vec![
            ("page[number]".to_string(), number.to_string()),
            (
                "page[size]".to_string(),
                page.size.clamp(1, 100).to_string(),
            ),
        ];
        query.extend_from_slice(extra);
        let raw = self
            .send(Method::GET, path, &query, None, Retry::Idempotent)
            .await?;
        response::decode_list(&raw.body, self.inner.api_base.as_str(), number)
    }

    pub(super) async fn all_pages<T: DeserializeOwned>(
        &self,
        path: &str,
    ) -> Result<Vec<T>, TfeError> {
        let mut items = Vec::new();
        let mut page = PageRequest {
            number: 1,
            size: 100,
        };
        for _ in 0..MAX_PAGES {
            let p: Page<T> = self.list(path, page, &[]).await?;
            let got = p.items.len();
            items.extend(p.items);
            match p.pagination.next_page {
                Some(next) if next > page.number && got > 0 => page.number = next,
                _ => return Ok(items),
            }
        }
        Err(TfeError::Decode {
            url: self.path_of(path),
            detail: format!("the list did not end after {MAX_PAGES} pages"),
        })
    }

    /// Sends an API request with the retry policy; returns a 2xx response or a typed error.
    pub(super) async fn send(
        &self,
        method: Method,
        path: &str,
        query: &[(String, String)],
        body: Option<Value>,
        retry: Retry,
    ) -> Result<RawResponse, TfeError> {
        let mut url = self
            .inner
            .api_base
            .join(path)
            .map_err(|e| TfeError::Config(format!("path {path:?}: {e}")))?;
        if !query.is_empty() {
            url.query_pairs_mut()
                .extend_pairs(query.iter().map(|(k, v)| (k.as_str(), v.as_str())));
        }
        let payload = match &body {
            Some(v) => Payload::Json(v),
            None => Payload::None,
        };
        self.inner
            .wire
            .execute(Call::api(method, url, payload, retry))
            .await
    }
}
