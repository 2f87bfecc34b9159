//! Everything the client reads from a server answer, as pure functions: pause headers, the rate limit, the
//! status and error document, data and list documents, the discovery document. The client calls these and
//! nothing else to interpret an answer, so fuzzing them (through [`exercise_response`]) covers what a hostile
//! or broken server can reach. None of them may panic, whatever the input.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use reqwest::header::{HeaderMap, HeaderValue};
use serde::de::DeserializeOwned;
use std::collections::HashMap;

use serde_json::Value;
use url::Url;

use super::error::TfeError;
use super::limiter::ServerBudget;
use super::models::{
    ConfigurationVersion, ErrorDocument, Page, Pagination, Run, Workspace, WorkspaceOutput,
    WorkspaceResults, WorkspaceWithCurrent,
};

/// The largest response body the client buffers.
pub const MAX_BODY_BYTES: u64 = 32 * 1024 * 1024;
/// API detail text beyond this is cut: it ends up in error messages and logs.
const MAX_DETAIL_CHARS: usize = 1000;
/// The discovery keys this client speaks, newest first.
pub(crate) const SERVICE_KEYS: &[&str] = &["tfe.v2.2", "tfe.v2.1", "tfe.v2"];

/// The pause the server asked for, before any cap: the longer of `Retry-After` and `X-RateLimit-Reset`.
/// Each is either seconds (possibly fractional, as TFE sends them) or an HTTP-date (RFC 9110: wait until
/// then; a date in the past means no wait). Unusable values (negative, NaN, inf, garbage, not UTF-8) are
/// ignored; a number of seconds too large for a `Duration` saturates to `Duration::MAX`.
pub fn server_pause(headers: &HeaderMap, now: SystemTime) -> Option<Duration> {
    let retry_after = header_pause(headers.get("retry-after"), now);
    let reset = header_pause(headers.get("x-ratelimit-reset"), now);
    retry_after.max(reset)
}

fn header_pause(value: Option<&HeaderValue>, now: SystemTime) -> Option<Duration> {
    let text = std::str::from_utf8(value?.as_bytes()).ok()?.trim();
    if text.is_empty() {
        return None;
    }
    if let Ok(seconds) = text.parse::<f64>() {
        // f64 parsing also takes "inf" and "NaN"; neither is a pause.
        if !seconds.is_finite() || seconds < 0.0 {
            return None;
        }
        return Some(Duration::try_from_secs_f64(seconds).unwrap_or(Duration::MAX));
    }
    let at = parse_http_date(text, now)?;
    Some(at.duration_since(now).unwrap_or(Duration::ZERO))
}

/// An HTTP-date in any of the three forms RFC 9110 section 5.6.7 requires recipients to accept:
/// `Sun, 06 Nov 1994 08:49:37 GMT`, `Sunday, 06-Nov-94 08:49:37 GMT`, `Sun Nov  6 08:49:37 1994`.
pub fn parse_http_date(text: &str, now: SystemTime) -> Option<SystemTime> {
    let parts: Vec<&str> = text.split_whitespace().collect();
    let (day, month, year, clock) = match parts.as_slice() {
        [weekday, day, month, year, clock, "GMT"] if weekday_name(weekday, true) => {
            (*day, *month, year.parse::<i32>().ok()?, *clock)
        }
        [weekday, date, clock, "GMT"] if weekday_name(weekday, true) => {
            let mut fields = date.split('-');
            let (day, month, yy) = (fields.next()?, fields.next()?, fields.next()?);
            if fields.next().is_some() || yy.len() != 2 {
                return None;
            }
            (day, month, two_digit_year(yy.parse().ok()?, now), *clock)
        }
        [weekday, month, day, clock, year] if weekday_name(weekday, false) => {
            (*day, *month, year.parse::<i32>().ok()?, *clock)
        }
        _ => return None,
    };
    if !(1..=9999).contains(&year) || day.len() > 2 {
        return None;
    }
    let month = month_of(month)?;
    let date = time::Date::from_calendar_date(year, month, day.parse().ok()?).ok()?;
    let mut hms = clock.split(':');
    let (h, m, s) = (hms.next()?, hms.next()?, hms.next()?);
    if hms.next().is_some() || [h, m, s].iter().any(|f| f.len() != 2) {
        return None;
    }
    // A leap second (":60") is read as the second before.
    let clock = time::Time::from_hms(
        h.parse().ok()?,
        m.parse().ok()?,
        s.parse::<u8>().ok()?.min(59),
    )
    .ok()?;
    let unix = time::PrimitiveDateTime::new(date, clock)
        .assume_utc()
        .unix_timestamp();
    match u64::try_from(unix) {
        Ok(secs) => UNIX_EPOCH.checked_add(Duration::from_secs(secs)),
        Err(_) => UNIX_EPOCH.checked_sub(Duration::from_secs(unix.unsigned_abs())),
    }
}

/// `Sun,` / `Sunday,` (with the comma) or `Sun` (asctime, without).
fn weekday_name(text: &str, with_comma: bool) -> bool {
    const SHORT: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
    const LONG: [&str; 7] = [
        "Monday",
        "Tuesday",
        "Wednesday",
        "Thursday",
        "Friday",
        "Saturday",
        "Sunday",
    ];
    match (with_comma, text.strip_suffix(',')) {
        (true, Some(name)) => SHORT.contains(&name) || LONG.contains(&name),
        (false, None) => SHORT.contains(&text),
        _ => false,
    }
}

fn month_of(text: &str) -> Option<time::Month> {
    use time::Month::*;
    Some(match text {
        "Jan" => January,
        "Feb" => February,
        "Mar" => March,
        "Apr" => April,
        "May" => May,
        "Jun" => June,
        "Jul" => July,
        "Aug" => August,
        "Sep" => September,
        "Oct" => October,
        "Nov" => November,
        "Dec" => December,
        _ => return None,
    })
}

/// RFC 9110: a two-digit year more than 50 years in the future is the most recent past year ending so.
fn two_digit_year(yy: i32, now: SystemTime) -> i32 {
    let now_secs = now
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
        .unwrap_or(0);
    let this_year = time::OffsetDateTime::from_unix_timestamp(now_secs)
        .map(|t| t.year())
        .unwrap_or(2000);
    let candidate = this_year - this_year.rem_euclid(100) + yy;
    if candidate > this_year + 50 {
        candidate - 100
    } else {
        candidate
    }
}

/// `X-RateLimit-Limit` (requests per second), when it is a usable positive number.
pub fn rate_limit(headers: &HeaderMap) -> Option<f64> {
    let text = std::str::from_utf8(headers.get("x-ratelimit-limit")?.as_bytes()).ok()?;
    text.trim()
        .parse::<f64>()
        .ok()
        .filter(|l| l.is_finite() && *l > 0.0)
}

/// What an answer says of the token's budget: `X-RateLimit-Limit`, `X-RateLimit-Remaining` (a finite
/// number of requests, 0 or more) and `X-RateLimit-Reset` (as [`server_pause`] reads it, capped at `cap`).
/// Each part is `None` when missing or unusable.
pub fn server_budget(headers: &HeaderMap, now: SystemTime, cap: Duration) -> ServerBudget {
    let remaining = headers
        .get("x-ratelimit-remaining")
        .and_then(|v| std::str::from_utf8(v.as_bytes()).ok())
        .and_then(|t| t.trim().parse::<f64>().ok())
        .filter(|r| r.is_finite() && *r >= 0.0);
    ServerBudget {
        limit: rate_limit(headers),
        remaining,
        reset: header_pause(headers.get("x-ratelimit-reset"), now).map(|d| d.min(cap)),
    }
}

/// A header as text, when it is printable ASCII (for informational headers such as `TFP-API-Version`).
pub fn header_text(headers: &HeaderMap, name: &str) -> Option<String> {
    let text = headers.get(name)?.to_str().ok()?.trim();
    (!text.is_empty()).then(|| text.chars().take(200).collect())
}

/// The typed error for a non-2xx answer (`None` for 2xx), with the API's detail text. A 429's
/// `retry_after` is [`server_pause`] before any cap.
pub fn status_error(
    status: u16,
    headers: &HeaderMap,
    body: &[u8],
    now: SystemTime,
) -> Option<TfeError> {
    if (200..300).contains(&status) {
        return None;
    }
    let detail = serde_json::from_slice::<ErrorDocument>(body)
        .ok()
        .and_then(|doc| {
            let messages: Vec<&str> = doc.errors.iter().filter_map(|e| e.message()).collect();
            (!messages.is_empty()).then(|| messages.join("; "))
        })
        .map(|d| clean_detail(&d))
        .filter(|d| !d.is_empty())
        .unwrap_or_else(|| {
            reqwest::StatusCode::from_u16(status)
                .ok()
                .and_then(|s| s.canonical_reason())
                .unwrap_or("no detail")
                .to_string()
        });
    let retry_after = (status == 429)
        .then(|| server_pause(headers, now))
        .flatten();
    Some(TfeError::from_status(status, detail, retry_after))
}

/// Control characters (terminal escapes) out, length bounded.
fn clean_detail(detail: &str) -> String {
    let mut out: String = detail
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(MAX_DETAIL_CHARS)
        .collect();
    if detail.chars().nth(MAX_DETAIL_CHARS).is_some() {
        out.push('…');
    }
    out.trim().to_string()
}

fn decode_error(url: &str, e: serde_json::Error) -> TfeError {
    TfeError::Decode {
        url: url.to_string(),
        detail: e.to_string(),
    }
}

#[derive(serde::Deserialize)]
struct DataDocument<T> {
    data: T,
}

/// `{"data": {...}}` into `T`.
pub fn decode_data<T: DeserializeOwned>(body: &[u8], url: &str) -> Result<T, TfeError> {
    serde_json::from_slice::<DataDocument<T>>(body)
        .map(|d| d.data)
        .map_err(|e| decode_error(url, e))
}

#[derive(serde::Deserialize)]
struct ListDocument<T> {
    data: Vec<T>,
    #[serde(default)]
    meta: Value,
}

/// `{"data": [...], "meta": {"pagination": {...}}}`. Pagination that is missing or malformed reads as
/// "this is the only page" rather than failing the list.
pub fn decode_list<T: DeserializeOwned>(
    body: &[u8],
    url: &str,
    requested_page: u32,
) -> Result<Page<T>, TfeError> {
    let doc: ListDocument<T> = serde_json::from_slice(body).map_err(|e| decode_error(url, e))?;
    let mut pagination = doc
        .meta
        .get("pagination")
        .and_then(|p| serde_json::from_value::<Pagination>(p.clone()).ok())
        .unwrap_or_default();
    if pagination.current_page == 0 {
        pagination.current_page = requested_page;
    }
    Ok(Page {
        items: doc.data,
        pagination,
    })
}

/// A resource of type `T` and its raw `included` resources.
pub fn decode_with_includes<T: DeserializeOwned>(
    body: &[u8],
    url: &str,
) -> Result<(T, Vec<Value>), TfeError> {
    let doc: Value = serde_json::from_slice(body).map_err(|e| decode_error(url, e))?;
    let data = serde_json::from_value(doc.get("data").cloned().unwrap_or(Value::Null))
        .map_err(|e| decode_error(url, e))?;
    let included = doc
        .get("included")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    Ok((data, included))
}

/// A run and its raw `included` resources.
pub fn decode_run_with_includes(body: &[u8], url: &str) -> Result<(Run, Vec<Value>), TfeError> {
    decode_with_includes(body, url)
}

/// A workspace and, when the server included them, its current run and its latest configuration version
/// (`?include=current_run,current_configuration_version`).
pub fn decode_workspace_with_current_run(
    body: &[u8],
    url: &str,
) -> Result<WorkspaceWithCurrent, TfeError> {
    let doc: Value = serde_json::from_slice(body).map_err(|e| decode_error(url, e))?;
    let workspace: Workspace =
        serde_json::from_value(doc.get("data").cloned().unwrap_or(Value::Null))
            .map_err(|e| decode_error(url, e))?;
    let included = |kind: &str, id: Option<&str>| {
        let id = id?;
        doc.get("included")?
            .as_array()?
            .iter()
            .find(|v| v["type"] == kind && v["id"] == id)
            .cloned()
    };
    let current_run = included("runs", workspace.current_run_id())
        .and_then(|v| serde_json::from_value::<Run>(v).ok());
    let latest_configuration = included(
        "configuration-versions",
        workspace.current_configuration_version_id(),
    )
    .and_then(|v| serde_json::from_value::<ConfigurationVersion>(v).ok());
    Ok(WorkspaceWithCurrent {
        workspace,
        current_run,
        latest_configuration,
    })
}

/// A page of workspaces and the resources included with them, read in one pass (a page of 100
/// workspaces with what they include is about half a megabyte: it is not parsed twice); the included
/// ones by type, then id.
struct WorkspacePage {
    workspaces: Vec<Workspace>,
    included: HashMap<String, HashMap<String, Value>>,
    pagination: Pagination,
}

impl WorkspacePage {
    fn decode(body: &[u8], url: &str, requested_page: u32) -> Result<WorkspacePage, TfeError> {
        #[derive(serde::Deserialize)]
        struct ListWithIncluded {
            data: Vec<Workspace>,
            #[serde(default)]
            included: Vec<Value>,
            #[serde(default)]
            meta: Value,
        }
        let doc: ListWithIncluded =
            serde_json::from_slice(body).map_err(|e| decode_error(url, e))?;
        let mut pagination = doc
            .meta
            .get("pagination")
            .and_then(|p| serde_json::from_value::<Pagination>(p.clone()).ok())
            .unwrap_or_default();
        if pagination.current_page == 0 {
            pagination.current_page = requested_page;
        }
        let mut included: HashMap<String, HashMap<String, Value>> = HashMap::new();
        for item in doc.included {
            let (Some(kind), Some(id)) = (item["type"].as_str(), item["id"].as_str()) else {
                continue;
            };
            let (kind, id) = (kind.to_string(), id.to_string());
            included.entry(kind).or_default().insert(id, item);
        }
        Ok(WorkspacePage {
            workspaces: doc.data,
            included,
            pagination,
        })
    }

    /// Takes the included resource of `kind` with `id`, if it was included and reads as a `T`.
    fn take<T: serde::de::DeserializeOwned>(&mut self, kind: &str, id: Option<&str>) -> Option<T> {
        let item = self.included.get_mut(kind)?.remove(id?)?;
        serde_json::from_value(item).ok()
    }
}

/// A page of workspaces, each with its current run and latest configuration version when the server
/// included them (`?include=current_run,current_configuration_version` on a list), as
/// [`decode_workspace_with_current_run`] reads one.
pub fn decode_workspaces_with_current_runs(
    body: &[u8],
    url: &str,
    requested_page: u32,
) -> Result<Page<WorkspaceWithCurrent>, TfeError> {
    let mut page = WorkspacePage::decode(body, url, requested_page)?;
    let items = std::mem::take(&mut page.workspaces)
        .into_iter()
        .map(|workspace| WorkspaceWithCurrent {
            current_run: page.take("runs", workspace.current_run_id()),
            latest_configuration: page.take(
                "configuration-versions",
                workspace.current_configuration_version_id(),
            ),
            workspace,
        })
        .collect();
    Ok(Page {
        items,
        pagination: page.pagination,
    })
}

/// A page of `GET /organizations/:org/workspaces` with each workspace's last run, its plan, the current
/// state version and the outputs included.
pub fn decode_workspace_results(
    body: &[u8],
    url: &str,
    requested_page: u32,
) -> Result<Page<WorkspaceResults>, TfeError> {
    let mut page = WorkspacePage::decode(body, url, requested_page)?;
    let items = std::mem::take(&mut page.workspaces)
        .into_iter()
        .map(|workspace| {
            let current_run: Option<Run> = page.take("runs", workspace.current_run_id());
            let current_plan = page.take("plans", current_run.as_ref().and_then(|r| r.plan_id()));
            // Every output the relationship names, or none: a partial list would read as fewer outputs.
            let outputs = match workspace.relationships.get("outputs").map(|r| &r.data) {
                Some(crate::models::RelationshipData::Many(named)) => named
                    .iter()
                    .map(|r| page.take::<WorkspaceOutput>("workspace-outputs", Some(&r.id)))
                    .collect::<Option<Vec<_>>>(),
                _ => None,
            };
            WorkspaceResults {
                current_plan,
                state_version: page.take("state-versions", workspace.current_state_version_id()),
                outputs,
                current_run,
                workspace,
            }
        })
        .collect();
    Ok(Page {
        items,
        pagination: page.pagination,
    })
}

/// The API base (ending in `/`) from a discovery document fetched from `url`.
pub fn api_base_from_discovery(url: &Url, body: &[u8]) -> Result<Url, String> {
    let services: serde_json::Map<String, Value> =
        serde_json::from_slice(body).map_err(|e| format!("not a JSON object: {e}"))?;
    api_base_from_services(url, &services)
}

/// Picks the TFE API from a discovery document (newest key first) and resolves it against the document's URL.
pub(crate) fn api_base_from_services(
    url: &Url,
    services: &serde_json::Map<String, Value>,
) -> Result<Url, String> {
    let Some(found) = SERVICE_KEYS
        .iter()
        .find_map(|k| services.get(*k).and_then(Value::as_str))
    else {
        let offered: Vec<&str> = services
            .keys()
            .filter(|k| k.starts_with("tfe."))
            .map(|k| k.as_str())
            .take(10)
            .collect();
        return Err(if offered.is_empty() {
            "the host does not offer the TFE API (no tfe.v2* service)".into()
        } else {
            format!(
                "TFE API version not supported: offered {}, this client needs one of {}",
                offered.join(", "),
                SERVICE_KEYS.join(", ")
            )
        });
    };
    let shown: String = found.chars().take(200).collect();
    let mut base = url
        .join(found)
        .map_err(|e| format!("bad service URL {shown:?}: {e}"))?;
    // The token goes wherever this points: only HTTP(S), and never from HTTPS down to plain HTTP.
    match (url.scheme(), base.scheme()) {
        (_, "https") | ("http", "http") => {}
        (_, scheme) => {
            return Err(format!(
                "service URL {shown:?} uses {scheme:?}; only https (or http when discovery itself is http) is accepted"
            ));
        }
    }
    if base.host_str().is_none_or(str::is_empty) {
        return Err(format!("service URL {shown:?} has no host"));
    }
    base.set_query(None);
    base.set_fragment(None);
    if !base.path().ends_with('/') {
        let path = format!("{}/", base.path());
        base.set_path(&path);
    }
    Ok(base)
}

/// Runs every parser the client applies to an answer and discards the results (a fuzzing entry point).
pub fn exercise_response(status: u16, headers: &HeaderMap, body: &[u8]) {
    const URL: &str = "https://tfe.invalid/api/v2/";
    let now = SystemTime::now();
    let _ = server_pause(headers, now);
    let _ = rate_limit(headers);
    let _ = server_budget(headers, now, Duration::MAX);
    let _ = header_text(headers, "tfp-api-version");
    let _ = status_error(status, headers, body, now).map(|e| e.to_string());
    let _ = decode_data::<Run>(body, URL);
    let _ = decode_data::<Workspace>(body, URL);
    let _ = decode_list::<Run>(body, URL, 1);
    let _ = decode_run_with_includes(body, URL);
    let _ = decode_with_includes::<super::models::StateVersion>(body, URL);
    let _ = decode_workspace_with_current_run(body, URL);
    let _ = decode_workspaces_with_current_runs(body, URL, 1);
    if let Ok(url) = Url::parse("https://tfe.invalid/.well-known/terraform.json") {
        let _ = api_base_from_discovery(&url, body);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// 2015-10-21T07:28:00Z, the date in RFC 9110's examples' style.
    fn oct_21_2015() -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(1_445_412_480)
    }

    fn headers(pairs: &[(&str, &[u8])]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (name, value) in pairs {
            h.append(
                reqwest::header::HeaderName::from_bytes(name.as_bytes()).unwrap(),
                HeaderValue::from_bytes(value).unwrap(),
            );
        }
        h
    }

    fn pause_of(retry_after: &[u8]) -> Option<Duration> {
        server_pause(&headers(&[("retry-after", retry_after)]), oct_21_2015())
    }

    #[test]
    fn seconds_fractional_and_both_headers() {
        assert_eq!(pause_of(b"1"), Some(Duration::from_secs(1)));
        assert_eq!(pause_of(b" 2.5 "), Some(Duration::from_millis(2500)));
        assert_eq!(pause_of(b"0"), Some(Duration::ZERO));
        let both = headers(&[("retry-after", b"1"), ("x-ratelimit-reset", b"2.5")]);
        assert_eq!(
            server_pause(&both, oct_21_2015()),
            Some(Duration::from_millis(2500))
        );
        let reset_only = headers(&[("x-ratelimit-reset", b"0.300")]);
        assert_eq!(
            server_pause(&reset_only, oct_21_2015()),
            Some(Duration::from_millis(300))
        );
        assert_eq!(server_pause(&HeaderMap::new(), oct_21_2015()), None);
    }

    #[test]
    fn huge_values_saturate_instead_of_panicking() {
        assert_eq!(pause_of(b"1e20"), Some(Duration::MAX));
        assert_eq!(pause_of(b"1e308"), Some(Duration::MAX));
        assert_eq!(
            pause_of(b"99999999999999999999999999999999"),
            Some(Duration::MAX)
        );
        assert_eq!(pause_of(b"18446744073709551615"), Some(Duration::MAX));
        let both = headers(&[("retry-after", b"1e20"), ("x-ratelimit-reset", b"1e400")]);
        assert_eq!(server_pause(&both, oct_21_2015()), Some(Duration::MAX));
    }

    #[test]
    fn unusable_values_are_ignored() {
        for bad in [
            &b"-5"[..],
            b"-0.001",
            b"NaN",
            b"nan",
            b"inf",
            b"-inf",
            b"infinity",
            b"abc",
            b"",
            b"   ",
            b"1s",
            b"0x10",
            b"\xff\xfe",
            b"1\xff",
            b"Wed, 21 Oct 2015 07:28:00",
            b"Wed, 32 Oct 2015 07:28:00 GMT",
            b"Wed, 21 Foo 2015 07:28:00 GMT",
            b"Wed, 21 Oct 2015 25:28:00 GMT",
            b"Wed, 21 Oct 99999 07:28:00 GMT",
            b"Wed, 21 Oct -2015 07:28:00 GMT",
            b"Xyz, 21 Oct 2015 07:28:00 GMT",
            b"Wed, 21 Oct 2015 07:28 GMT",
        ] {
            assert_eq!(pause_of(bad), None, "{:?}", String::from_utf8_lossy(bad));
        }
        // One bad header does not hide a good one.
        let mixed = headers(&[("retry-after", b"NaN"), ("x-ratelimit-reset", b"2")]);
        assert_eq!(
            server_pause(&mixed, oct_21_2015()),
            Some(Duration::from_secs(2))
        );
    }

    #[test]
    fn http_dates_mean_until_then_and_past_dates_mean_now() {
        let now = oct_21_2015();
        assert_eq!(
            pause_of(b"Wed, 21 Oct 2015 07:28:30 GMT"),
            Some(Duration::from_secs(30))
        );
        assert_eq!(
            pause_of(b"Wednesday, 21-Oct-15 07:29:00 GMT"),
            Some(Duration::from_secs(60))
        );
        assert_eq!(
            pause_of(b"Wed Oct 21 07:28:05 2015"),
            Some(Duration::from_secs(5))
        );
        assert_eq!(
            pause_of(b"Wed Oct  1 07:28:05 2015"),
            Some(Duration::ZERO),
            "asctime pads single-digit days with a space; in the past"
        );
        assert_eq!(
            pause_of(b"Sun, 06 Nov 1994 08:49:37 GMT"),
            Some(Duration::ZERO)
        );
        assert_eq!(
            pause_of(b"Thu, 01 Jan 1970 00:00:00 GMT"),
            Some(Duration::ZERO)
        );
        assert_eq!(
            pause_of(b"Fri, 31 Dec 9999 23:59:59 GMT"),
            Some(Duration::from_secs(253_402_300_799 - 1_445_412_480))
        );
        // A clock before 1970 must not trip anything either.
        let before_epoch = UNIX_EPOCH - Duration::from_secs(10);
        let h = headers(&[("retry-after", b"Thu, 01 Jan 1970 00:00:00 GMT")]);
        assert_eq!(
            server_pause(&h, before_epoch),
            Some(Duration::from_secs(10))
        );
        assert_eq!(
            parse_http_date("Mon, 01 Jan 0001 00:00:00 GMT", now),
            UNIX_EPOCH.checked_sub(Duration::from_secs(62_135_596_800))
        );
    }

    #[test]
    fn two_digit_years_follow_rfc_9110() {
        let now = oct_21_2015();
        let at = |s: &str| {
            parse_http_date(s, now)
                .unwrap()
                .duration_since(UNIX_EPOCH)
                .map(|d| d.as_secs() as i64)
                .unwrap_or(-1)
        };
        // "94" is 1994 (2094 is more than 50 years ahead), "60" is 2060.
        assert_eq!(at("Sunday, 06-Nov-94 08:49:37 GMT"), 784_111_777);
        assert_eq!(at("Monday, 01-Nov-60 00:00:00 GMT"), 2_866_492_800);
    }

    #[test]
    fn rate_limit_header_takes_only_positive_numbers() {
        let limit = |v: &[u8]| rate_limit(&headers(&[("x-ratelimit-limit", v)]));
        assert_eq!(limit(b"30"), Some(30.0));
        assert_eq!(limit(b"0.5"), Some(0.5));
        assert_eq!(limit(b"1e300"), Some(1e300));
        for bad in [&b"0"[..], b"-30", b"NaN", b"inf", b"", b"abc", b"\xff"] {
            assert_eq!(limit(bad), None, "{:?}", String::from_utf8_lossy(bad));
        }
    }

    #[test]
    fn a_workspace_list_pairs_each_workspace_with_its_included_current_run() {
        let workspace = |id: &str, run: Option<&str>| {
            json!({"id": id, "type": "workspaces", "attributes": {"name": id},
                   "relationships": {"current-run": {"data": run.map(|r| json!({"id": r, "type": "runs"}))}}})
        };
        let run = |id: &str, status: &str| json!({"id": id, "type": "runs", "attributes": {"status": status}});
        let body = json!({
            "data": [workspace("ws-a", Some("run-a")), workspace("ws-b", None),
                     workspace("ws-c", Some("run-not-included"))],
            "included": [run("run-a", "applied"), run("run-elsewhere", "planning"),
                         {"id": "run-a", "type": "plans"}],
            "meta": {"pagination": {"current-page": 2, "total-pages": 3, "next-page": 3}}
        });
        let page = decode_workspaces_with_current_runs(
            body.to_string().as_bytes(),
            "https://tfe.invalid/api/v2/",
            2,
        )
        .unwrap();
        let pairs: Vec<(&str, Option<&str>)> = page
            .items
            .iter()
            .map(|read| {
                (
                    read.workspace.id.as_str(),
                    read.current_run.as_ref().map(|r| r.id.as_str()),
                )
            })
            .collect();
        assert_eq!(
            pairs,
            vec![("ws-a", Some("run-a")), ("ws-b", None), ("ws-c", None)]
        );
        assert_eq!(
            page.items[0]
                .current_run
                .as_ref()
                .unwrap()
                .status()
                .as_str(),
            "applied"
        );
        assert_eq!(page.pagination.next_page, Some(3));
        assert!(
            decode_workspaces_with_current_runs(b"<html>", "https://tfe.invalid/api/v2/", 1)
                .is_err()
        );
    }

    #[test]
    fn the_stated_budget_takes_only_usable_parts() {
        let cap = Duration::from_secs(60);
        let said = server_budget(
            &headers(&[
                ("x-ratelimit-limit", b"30"),
                ("x-ratelimit-remaining", b"12"),
                ("x-ratelimit-reset", b"0.033"),
            ]),
            oct_21_2015(),
            cap,
        );
        assert_eq!(
            said,
            ServerBudget {
                limit: Some(30.0),
                remaining: Some(12.0),
                reset: Some(Duration::from_millis(33)),
            }
        );
        let remaining = |v: &[u8]| {
            server_budget(
                &headers(&[("x-ratelimit-remaining", v)]),
                oct_21_2015(),
                cap,
            )
            .remaining
        };
        assert_eq!(remaining(b"0"), Some(0.0));
        assert_eq!(remaining(b" 7.5 "), Some(7.5));
        assert_eq!(
            remaining(b"1e300"),
            Some(1e300),
            "held to bounds by the limiter"
        );
        for bad in [&b"-1"[..], b"NaN", b"inf", b"", b"abc", b"\xff\xfe"] {
            assert_eq!(remaining(bad), None, "{:?}", String::from_utf8_lossy(bad));
        }
        let huge_reset = server_budget(
            &headers(&[("x-ratelimit-reset", b"1e20")]),
            oct_21_2015(),
            cap,
        );
        assert_eq!(huge_reset.reset, Some(cap), "capped like any server pause");
        assert_eq!(
            server_budget(&HeaderMap::new(), oct_21_2015(), cap),
            ServerBudget::default()
        );
    }

    #[test]
    fn error_documents_map_to_typed_errors_with_clean_details() {
        let none = HeaderMap::new();
        let now = oct_21_2015();
        let body = json!({"errors": [{"status": "409", "title": "conflict", "detail": "locked"}]});
        let e = status_error(409, &none, body.to_string().as_bytes(), now).unwrap();
        assert!(
            matches!(&e, TfeError::Conflict { detail } if detail == "locked"),
            "{e}"
        );
        assert!(status_error(204, &none, b"", now).is_none());
        let html = status_error(502, &none, b"<html>bad gateway</html>", now).unwrap();
        assert!(
            matches!(&html, TfeError::Server { status: 502, detail } if detail == "Bad Gateway"),
            "{html}"
        );
        let odd = status_error(999, &none, b"", now).unwrap();
        assert!(
            matches!(&odd, TfeError::UnexpectedStatus { status: 999, detail } if detail == "no detail"),
            "{odd}"
        );
        assert!(status_error(0, &none, b"", now).is_some());
        let escape = json!({"errors": ["\u{1b}[31mred\u{1b}[0m"]}).to_string();
        let e = status_error(500, &none, escape.as_bytes(), now).unwrap();
        assert!(!e.to_string().contains('\u{1b}'), "{e}");
        let long = json!({"errors": ["x".repeat(100_000)]}).to_string();
        let e = status_error(500, &none, long.as_bytes(), now).unwrap();
        assert!(e.to_string().len() < 1100, "{}", e.to_string().len());
        let limited = status_error(429, &headers(&[("retry-after", b"1e20")]), b"{}", now).unwrap();
        assert!(
            matches!(
                limited,
                TfeError::RateLimited {
                    retry_after: Some(Duration::MAX),
                    ..
                }
            ),
            "{limited}"
        );
    }

    #[test]
    fn malformed_pagination_reads_as_a_single_page() {
        let body =
            json!({"data": [], "meta": {"pagination": {"current-page": -1, "next-page": "two"}}});
        let page = decode_list::<Run>(body.to_string().as_bytes(), "u", 3).unwrap();
        assert_eq!(page.pagination.current_page, 3);
        assert_eq!(page.pagination.next_page, None);
        let body = json!({"data": [], "meta": "nothing"});
        assert!(decode_list::<Run>(body.to_string().as_bytes(), "u", 1).is_ok());
        let body = json!({"data": [], "meta": {"pagination": {"current-page": 2, "next-page": 3, "total-count": 1e12}}});
        let page = decode_list::<Run>(body.to_string().as_bytes(), "u", 2).unwrap();
        assert_eq!(page.pagination.next_page, Some(3));
        assert_eq!(page.pagination.total_count, None);
        assert!(matches!(
            decode_list::<Run>(b"{\"data\": 5}", "u", 1),
            Err(TfeError::Decode { .. })
        ));
    }

    fn services(json: Value) -> serde_json::Map<String, Value> {
        json.as_object().unwrap().clone()
    }

    #[test]
    fn discovery_prefers_the_newest_key_and_resolves_relative_urls() {
        let url = Url::parse("https://tfe.example:8443/.well-known/terraform.json").unwrap();
        let both = services(json!({"tfe.v2": "/old/", "tfe.v2.2": "/api/v2/"}));
        assert_eq!(
            api_base_from_services(&url, &both).unwrap().as_str(),
            "https://tfe.example:8443/api/v2/"
        );
        let old_only = services(json!({"tfe.v2.1": "/api/v2"}));
        assert_eq!(
            api_base_from_services(&url, &old_only).unwrap().as_str(),
            "https://tfe.example:8443/api/v2/"
        );
        let absolute = services(json!({"tfe.v2.2": "https://other.example/api/v2/"}));
        assert_eq!(
            api_base_from_services(&url, &absolute).unwrap().as_str(),
            "https://other.example/api/v2/"
        );
    }

    #[test]
    fn discovery_explains_missing_unsupported_or_unsafe_services() {
        let url = Url::parse("https://tfe.example/.well-known/terraform.json").unwrap();
        let newer =
            api_base_from_services(&url, &services(json!({"tfe.v3": "/api/v3/"}))).unwrap_err();
        assert!(
            newer.contains("not supported") && newer.contains("tfe.v3"),
            "{newer}"
        );
        let none =
            api_base_from_services(&url, &services(json!({"modules.v1": "/m/"}))).unwrap_err();
        assert!(none.contains("does not offer the TFE API"), "{none}");
        for bad in [
            "http://tfe.example/api/v2/",
            "file:///etc/passwd",
            "mailto:ops@example.com",
            "data:text/plain,hi",
        ] {
            let e = api_base_from_services(&url, &services(json!({"tfe.v2.2": bad})));
            assert!(e.is_err(), "{bad} accepted");
        }
        for body in [&b"[]"[..], b"null", b"", b"{\"tfe.v2.2\": 5}", b"\xff"] {
            assert!(api_base_from_discovery(&url, body).is_err());
        }
    }

    #[test]
    fn exercise_response_survives_hostile_answers() {
        let weird = headers(&[
            ("retry-after", b"1e20"),
            ("x-ratelimit-reset", b"\xff"),
            ("x-ratelimit-limit", b"-1"),
        ]);
        let deep = "[".repeat(100_000);
        let bodies: Vec<Vec<u8>> = vec![
            Vec::new(),
            b"\xff\x00".to_vec(),
            deep.into_bytes(),
            json!({"data": {"id": 1, "type": [], "attributes": null}})
                .to_string()
                .into_bytes(),
            json!({"data": [{"id": "run-1", "type": "runs", "attributes": {"status": "applied"}}],
                "meta": {"pagination": {"current-page": 4294967296u64}}})
            .to_string()
            .into_bytes(),
            json!({"tfe.v2.2": "//"}).to_string().into_bytes(),
        ];
        for status in [0, 1, 99, 100, 200, 204, 301, 429, 503, 999, u16::MAX] {
            for body in &bodies {
                exercise_response(status, &weird, body);
            }
        }
    }
}
