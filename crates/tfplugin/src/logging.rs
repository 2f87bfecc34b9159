//! Logs as hclog-style JSON lines on stderr, which Terraform parses and shows under the
//! provider's name. The level comes from `TF_LOG_PROVIDER_<NAME>`, `TF_LOG_PROVIDER` or `TF_LOG`;
//! nothing is logged when none is set. Other modules just use `tracing` macros.

use std::collections::BTreeMap;
use std::io::Write;
use std::sync::Mutex;

use tracing::field::{Field, Visit};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::Layer;
use tracing_subscriber::layer::Context;
use tracing_subscriber::prelude::*;

/// The most detailed level to log, from Terraform's variables (None = off).
pub fn level_from_env(provider_name: &str, get: impl Fn(&str) -> Option<String>) -> Option<Level> {
    let specific = format!("TF_LOG_PROVIDER_{}", provider_name.to_uppercase());
    let value = [specific.as_str(), "TF_LOG_PROVIDER", "TF_LOG"]
        .iter()
        .find_map(|key| get(key).filter(|v| !v.trim().is_empty()))?;
    parse_level(&value)
}

/// Terraform's level names; JSON and anything unrecognised mean TRACE, OFF means nothing.
pub fn parse_level(value: &str) -> Option<Level> {
    match value.trim().to_ascii_uppercase().as_str() {
        "OFF" => None,
        "ERROR" => Some(Level::ERROR),
        "WARN" => Some(Level::WARN),
        "INFO" => Some(Level::INFO),
        "DEBUG" => Some(Level::DEBUG),
        _ => Some(Level::TRACE),
    }
}

/// `2006-01-02T15:04:05.000000Z07:00`: exactly six fractional digits, or Terraform logs the line raw.
pub fn format_timestamp(t: time::OffsetDateTime) -> String {
    const TIMESTAMP: &[time::format_description::BorrowedFormatItem<'_>] = time::macros::format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:6]Z"
    );
    t.to_offset(time::UtcOffset::UTC)
        .format(TIMESTAMP)
        .unwrap_or_default()
}

fn level_name(level: &Level) -> &'static str {
    match *level {
        Level::TRACE => "trace",
        Level::DEBUG => "debug",
        Level::INFO => "info",
        Level::WARN => "warn",
        Level::ERROR => "error",
    }
}

/// Renders one event as a JSON line.
pub fn format_line(
    level: &Level,
    message: &str,
    fields: BTreeMap<String, serde_json::Value>,
    now: time::OffsetDateTime,
) -> String {
    let mut object = serde_json::Map::new();
    object.insert("@level".into(), level_name(level).into());
    object.insert("@message".into(), message.into());
    object.insert("@module".into(), "provider".into());
    object.insert("@timestamp".into(), format_timestamp(now).into());
    for (k, v) in fields {
        object.entry(k).or_insert(v);
    }
    serde_json::Value::Object(object).to_string()
}

struct JsonFields {
    message: String,
    fields: BTreeMap<String, serde_json::Value>,
}

impl Visit for JsonFields {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        let text = format!("{value:?}");
        if field.name() == "message" {
            self.message = text;
        } else {
            self.fields.insert(field.name().to_string(), text.into());
        }
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            self.message = value.to_string();
        } else {
            self.fields.insert(field.name().to_string(), value.into());
        }
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        self.fields.insert(field.name().to_string(), value.into());
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        self.fields.insert(field.name().to_string(), value.into());
    }

    fn record_bool(&mut self, field: &Field, value: bool) {
        self.fields.insert(field.name().to_string(), value.into());
    }
}

/// The tracing layer writing hclog JSON lines to stderr.
pub struct HclogLayer {
    max_level: Level,
    /// Crate targets logged at `max_level`; everything else (h2, hyper...) only from WARN up.
    own_targets: Vec<&'static str>,
    out: Mutex<std::io::Stderr>,
}

impl HclogLayer {
    fn enabled_for(&self, target: &str, level: &Level) -> bool {
        let limit = if self.own_targets.iter().any(|t| target.starts_with(t)) {
            self.max_level
        } else {
            std::cmp::min(self.max_level, Level::WARN)
        };
        level <= &limit
    }
}

impl<S: Subscriber> Layer<S> for HclogLayer {
    fn enabled(&self, metadata: &tracing::Metadata<'_>, _ctx: Context<'_, S>) -> bool {
        self.enabled_for(metadata.target(), metadata.level())
    }

    fn on_event(&self, event: &Event<'_>, _ctx: Context<'_, S>) {
        let mut visitor = JsonFields {
            message: String::new(),
            fields: BTreeMap::new(),
        };
        event.record(&mut visitor);
        let line = format_line(
            event.metadata().level(),
            &visitor.message,
            visitor.fields,
            time::OffsetDateTime::now_utc(),
        );
        let mut out = self.out.lock().unwrap_or_else(|p| p.into_inner());
        let _ = writeln!(out, "{line}");
    }
}

/// Installs the global subscriber from the environment. `provider_name` is e.g. "tfe"; `own_targets` are the
/// `tracing` target prefixes (crate names) logged at the level Terraform asks for, where every other crate's
/// events stay at warnings and above.
pub fn init(provider_name: &str, own_targets: &[&'static str]) {
    let Some(max_level) = level_from_env(provider_name, |k| std::env::var(k).ok()) else {
        return;
    };
    let layer = HclogLayer {
        max_level,
        own_targets: own_targets.to_vec(),
        out: Mutex::new(std::io::stderr()),
    };
    let _ = tracing_subscriber::registry().with(layer).try_init();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_have_exactly_six_fractional_digits() {
        let t = time::macros::datetime!(2026-01-02 03:04:05.123456789 UTC);
        assert_eq!(format_timestamp(t), "2026-01-02T03:04:05.123456Z");
        let t = time::macros::datetime!(2026-01-02 03:04:05 +02:00);
        assert_eq!(format_timestamp(t), "2026-01-02T01:04:05.000000Z");
    }

    #[test]
    fn lines_are_json_with_hclog_keys() {
        let now = time::macros::datetime!(2026-01-02 03:04:05.5 UTC);
        let line = format_line(
            &Level::WARN,
            "hello",
            [("run_id".to_string(), "run-1".into())].into(),
            now,
        );
        let parsed: serde_json::Value = serde_json::from_str(&line).unwrap();
        assert_eq!(parsed["@level"], "warn");
        assert_eq!(parsed["@message"], "hello");
        assert_eq!(parsed["@timestamp"], "2026-01-02T03:04:05.500000Z");
        assert_eq!(parsed["run_id"], "run-1");
    }

    #[test]
    fn level_follows_terraform_variables_in_order() {
        let env = |pairs: &'static [(&'static str, &'static str)]| {
            move |k: &str| {
                pairs
                    .iter()
                    .find(|(key, _)| *key == k)
                    .map(|(_, v)| v.to_string())
            }
        };
        assert_eq!(level_from_env("tfe", env(&[])), None);
        assert_eq!(
            level_from_env("tfe", env(&[("TF_LOG", "DEBUG")])),
            Some(Level::DEBUG)
        );
        assert_eq!(
            level_from_env(
                "tfe",
                env(&[("TF_LOG", "DEBUG"), ("TF_LOG_PROVIDER", "error")])
            ),
            Some(Level::ERROR)
        );
        assert_eq!(
            level_from_env(
                "tfe",
                env(&[
                    ("TF_LOG_PROVIDER", "error"),
                    ("TF_LOG_PROVIDER_TFE", "info")
                ])
            ),
            Some(Level::INFO)
        );
        assert_eq!(
            level_from_env("tfe", env(&[("TF_LOG", "JSON")])),
            Some(Level::TRACE)
        );
        assert_eq!(level_from_env("tfe", env(&[("TF_LOG", "off")])), None);
    }
}
