//! Run logs: a plan's or an apply's `log-read-url` (archivist), read without the API token (the URL's own
//! secret is its credential, and it may point at another host), whole or by `offset`/`limit` windows.

use super::*;

/// Archivist's start-of-text and end-of-text markers around a log.
const STX: u8 = 0x02;
const ETX: u8 = 0x03;

/// A log as far as it has been written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunLog {
    /// The text without archivist's STX/ETX markers (invalid UTF-8 replaced).
    pub text: String,
    /// The log ended with its end-of-text marker: its phase is over and no more text will come.
    pub complete: bool,
}

impl RunLog {
    /// Decodes a log body: strips a leading STX and a trailing ETX (which sets `complete`).
    pub fn from_bytes(bytes: &[u8]) -> RunLog {
        let bytes = bytes.strip_prefix(&[STX]).unwrap_or(bytes);
        let (bytes, complete) = match bytes.strip_suffix(&[ETX]) {
            Some(rest) => (rest, true),
            None => (bytes, false),
        };
        RunLog {
            text: String::from_utf8_lossy(bytes).into_owned(),
            complete,
        }
    }

    /// The last `lines` lines of the text (all of it when it has fewer).
    pub fn tail(&self, lines: usize) -> &str {
        let text = self.text.strip_suffix('\n').unwrap_or(&self.text);
        if lines == 0 {
            return "";
        }
        match text.rmatch_indices('\n').nth(lines - 1) {
            Some((at, _)) => &text[at + 1..],
            None => text,
        }
    }
}

impl TfeClient {
    /// The whole log behind a `log-read-url` as it stands now (a running phase's log is partial: see
    /// [`RunLog::complete`]). No API token is sent.
    pub async fn read_log(&self, log_read_url: &str) -> Result<RunLog, TfeError> {
        let bytes = self.read_log_chunk(log_read_url, 0, None).await?;
        Ok(RunLog::from_bytes(&bytes))
    }

    /// Raw bytes of a log from byte `offset`, at most `limit` of them (`None`: to the end), markers included,
    /// as a tailing reader asks for them. No API token is sent.
    pub async fn read_log_chunk(
        &self,
        log_read_url: &str,
        offset: u64,
        limit: Option<u64>,
    ) -> Result<bytes::Bytes, TfeError> {
        let mut url = Url::parse(log_read_url)
            .map_err(|e| TfeError::Config(format!("log URL {log_read_url:?}: {e}")))?;
        if !matches!(url.scheme(), "https" | "http") {
            return Err(TfeError::Config(format!(
                "log URL {log_read_url:?} must be an http or https URL"
            )));
        }
        {
            let mut query = url.query_pairs_mut();
            if let Some(limit) = limit {
                query.append_pair("limit", &limit.to_string());
            }
            query.append_pair("offset", &offset.to_string());
        }
        let raw = self
            .inner
            .wire
            .execute(Call {
                accept: "text/plain",
                auth: false,
                ..Call::api(Method::GET, url, Payload::None, Retry::Idempotent)
            })
            .await?;
        Ok(raw.body)
    }
}

#[cfg(test)]
mod tests {
    use super::RunLog;

    #[test]
    fn markers_are_stripped_and_the_tail_is_the_last_lines() {
        let log = RunLog::from_bytes(b"\x02one\ntwo\nthree\n\x03");
        assert!(log.complete);
        assert_eq!(log.text, "one\ntwo\nthree\n");
        assert_eq!(log.tail(2), "two\nthree");
        assert_eq!(log.tail(9), "one\ntwo\nthree");
        assert_eq!(log.tail(0), "");
        let partial = RunLog::from_bytes(b"\x02one\n");
        assert!(!partial.complete);
        assert_eq!(partial.text, "one\n");
        assert_eq!(RunLog::from_bytes(b"").text, "");
    }
}
