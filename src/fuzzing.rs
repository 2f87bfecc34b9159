//! Entry points for fuzzing the parsers that read untrusted or hand-written input. Each takes raw bytes,
//! runs the real parser on them, and panics only when the parser breaks a property it promises (a round
//! trip that does not come back, a result that is not normalised); an input that is merely invalid must be
//! refused with an error, never a panic or a hang.
//!
//! The cargo-fuzz targets in `fuzz/fuzz_targets/<name>.rs` call these functions, and `tests/fuzz_corpora.rs`
//! feeds every committed input under `fuzz/corpus/<name>/` and `fuzz/artifacts/<name>/` through them on
//! stable Rust, so a crash found once stays fixed. [`TARGETS`] maps each fuzz target's name to its entry
//! function: a new target is added here, in `fuzz/fuzz_targets/` (and `fuzz/Cargo.toml`), and gets a seed
//! corpus directory. The emulator's own target (`emulator_scenario`) is in `tfe_emulator::fuzzing`, so that
//! the provider does not depend on the emulator.

use tfplugin::codec;
use tfplugin::value::{Number, Type, Value};

/// A named fuzz entry point.
pub type Entry = fn(&[u8]);

/// Every fuzz target, by the name of its file in `fuzz/fuzz_targets/` and of its corpus directory.
pub const TARGETS: &[(&str, Entry)] = &[
    ("codec_msgpack", codec_msgpack),
    ("codec_json", codec_json),
    ("cli_credentials", cli_credentials),
    ("jsonapi_response", jsonapi_response),
    ("rate_limit_headers", rate_limit_headers),
    ("state_outputs", state_outputs),
    ("variable_answer", variable_answer),
];

/// The entry function of the fuzz target `name`.
pub fn entry(name: &str) -> Option<Entry> {
    TARGETS.iter().find(|(n, _)| *n == name).map(|(_, f)| *f)
}

/// The value types the codec targets decode against: the schemas Terraform really sends
/// (`tfe_workspace_run`, `tfe_workspace`, the provider configuration), a bare dynamic value, and a type
/// made of every collection kind with dynamic values nested inside.
pub fn codec_types() -> &'static [(&'static str, Type)] {
    static TYPES: std::sync::LazyLock<Vec<(&'static str, Type)>> =
        std::sync::LazyLock::new(build_codec_types);
    &TYPES
}

fn build_codec_types() -> Vec<(&'static str, Type)> {
    use crate::provider::{config, resources};
    let object = |attrs: Vec<(&str, Type)>| {
        Type::Object(attrs.into_iter().map(|(k, t)| (k.to_string(), t)).collect())
    };
    let collections = object(vec![
        ("any", Type::Dynamic),
        ("anys", Type::list(Type::Dynamic)),
        (
            "blocks",
            Type::map(Type::list(object(vec![
                ("name", Type::String),
                ("count", Type::Number),
                ("on", Type::Bool),
            ]))),
        ),
        (
            "pairs",
            Type::set(Type::Tuple(vec![Type::String, Type::Number, Type::Dynamic])),
        ),
        ("nested", Type::list(Type::set(Type::map(Type::String)))),
    ]);
    vec![
        (
            "tfe_workspace_run",
            resources::workspace_run::schema().value_type(),
        ),
        ("tfe_workspace", resources::workspace::schema().value_type()),
        ("provider", config::schema().value_type()),
        ("dynamic", Type::Dynamic),
        ("collections", collections),
    ]
}

/// Structural equality where numbers compare by value, as [`Value`]'s own `PartialEq` does, except that a
/// NaN is equal to a NaN (the codec refuses NaN, so this only matters while that holds).
fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(Number::Float(x)), Value::Number(Number::Float(y)))
            if x.is_nan() && y.is_nan() =>
        {
            true
        }
        (Value::List(x), Value::List(y))
        | (Value::Set(x), Value::Set(y))
        | (Value::Tuple(x), Value::Tuple(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(a, b)| same(a, b))
        }
        (Value::Map(x), Value::Map(y)) | (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .zip(y)
                    .all(|((ka, a), (kb, b))| ka == kb && same(a, b))
        }
        _ => a == b,
    }
}

fn has_nan(v: &Value) -> bool {
    match v {
        Value::Number(Number::Float(f)) => f.is_nan(),
        Value::List(items) | Value::Set(items) | Value::Tuple(items) => items.iter().any(has_nan),
        Value::Map(m) | Value::Object(m) => m.values().any(has_nan),
        _ => false,
    }
}

/// Checks what the provider relies on for a decoded value: no NaN (Terraform has none), and that writing it
/// back in msgpack, which is how every value goes back to Terraform, reads back as the same value. Encoding
/// may refuse a value (e.g. a `list(dynamic)` whose elements have different types), but must not change it.
fn check_decoded(name: &str, ty: &Type, value: &Value, from: &str) {
    assert!(
        !has_nan(value),
        "{name}: decoding {from} produced a NaN: {value:?}"
    );
    if let Ok(bytes) = codec::encode_msgpack(value, ty) {
        let back = codec::decode_msgpack(&bytes, ty).unwrap_or_else(|e| {
            panic!("{name}: the msgpack encoding of a value decoded from {from} does not decode: {e}\nvalue: {value:?}\nbytes: {bytes:02x?}")
        });
        assert!(
            same(&back, value),
            "{name}: msgpack round trip of a value decoded from {from} changed it\nbefore: {value:?}\nafter:  {back:?}"
        );
    }
}

/// `DynamicValue` in msgpack (what Terraform sends in every request), decoded against each of
/// [`codec_types`]; a decoded value must survive a msgpack round trip, and `decode_dynamic` must agree
/// with `decode_msgpack`.
pub fn codec_msgpack(data: &[u8]) {
    for (name, ty) in codec_types() {
        let decoded = codec::decode_msgpack(data, ty);
        if !data.is_empty() {
            // msgpack wins over JSON when both are present.
            let dynamic = codec::decode_dynamic(data, b"{}", ty);
            match (&decoded, &dynamic) {
                (Ok(a), Ok(b)) => assert!(same(a, b), "{name}: decode_dynamic disagrees"),
                (Err(_), Err(_)) => {}
                _ => panic!(
                    "{name}: decode_dynamic and decode_msgpack disagree: {decoded:?} vs {dynamic:?}"
                ),
            }
        }
        if let Ok(value) = decoded {
            check_decoded(name, ty, &value, "msgpack");
        }
    }
}

/// `DynamicValue` in JSON (raw state in UpgradeResourceState, some requests), decoded against each of
/// [`codec_types`]: a decoded value must survive a JSON round trip and a msgpack round trip.
pub fn codec_json(data: &[u8]) {
    for (name, ty) in codec_types() {
        let decoded = codec::decode_json(data, ty);
        if !data.is_empty() {
            let dynamic = codec::decode_dynamic(&[], data, ty);
            assert_eq!(
                decoded.is_ok(),
                dynamic.is_ok(),
                "{name}: decode_dynamic and decode_json disagree"
            );
        }
        let Ok(value) = decoded else { continue };
        check_decoded(name, ty, &value, "JSON");
        // JSON holds no unknowns, so every decoded value is wholly known.
        assert!(value.is_wholly_known(), "{name}: unknown from JSON");
        if let Ok(bytes) = codec::encode_json(&value, ty) {
            let back = codec::decode_json(&bytes, ty).unwrap_or_else(|e| {
                panic!(
                    "{name}: re-encoded JSON does not decode: {e}\n{}",
                    String::from_utf8_lossy(&bytes)
                )
            });
            assert!(
                same(&back, &value),
                "{name}: JSON round trip changed the value\nbefore: {value:?}\nafter:  {back:?}"
            );
        }
    }
}

/// The CLI configuration / `credentials.tfrc.json` parser (files are read as UTF-8, so other bytes never
/// reach it): every host it returns is normalised, and it is deterministic.
pub fn cli_credentials(data: &[u8]) {
    use crate::provider::credentials::{normalize_host, parse_credentials};
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let found = parse_credentials(text);
    for host in found.keys() {
        assert_eq!(
            &normalize_host(host),
            host,
            "host {host:?} is not normalised"
        );
    }
    assert_eq!(
        parse_credentials(text),
        found,
        "parsing is not deterministic"
    );
}

/// A TFE API answer as the client reads it: the first two bytes are the HTTP status (taken into
/// 100-599), the rest the body. Every parser the client applies to an answer runs on it
/// ([`exercise_response`](tfe_client::response::exercise_response)): none may panic, whatever the body.
pub fn jsonapi_response(data: &[u8]) {
    use tfe_client::response::exercise_response;
    let (status, body) = match data {
        [a, b, rest @ ..] => (100 + u16::from_be_bytes([*a, *b]) % 500, rest),
        _ => (200, data),
    };
    exercise_response(status, &reqwest::header::HeaderMap::new(), body);
}

/// The rate-limit headers of an answer (`Retry-After`, `X-RateLimit-Reset`, `X-RateLimit-Limit`), one
/// value per line in that order, raw bytes. The pause the server asks for is parsed without panicking
/// (any number, date or garbage), a date in the past asks for no pause, and the limit, when read, is a
/// finite positive number.
pub fn rate_limit_headers(data: &[u8]) {
    use reqwest::header::{HeaderMap, HeaderValue};
    use std::time::{Duration, SystemTime, UNIX_EPOCH};
    use tfe_client::response::{exercise_response, rate_limit, server_pause};
    let mut headers = HeaderMap::new();
    let names = ["retry-after", "x-ratelimit-reset", "x-ratelimit-limit"];
    for (name, value) in names.iter().zip(data.split(|b| *b == b'\n')) {
        if let Ok(value) = HeaderValue::from_bytes(value) {
            headers.insert(*name, value);
        }
    }
    let now = UNIX_EPOCH + Duration::from_secs(1_764_547_200);
    let pause = server_pause(&headers, now);
    // The same headers, asked again at the same instant, give the same answer.
    assert_eq!(
        server_pause(&headers, now),
        pause,
        "the pause is not deterministic"
    );
    // Ten years on, a date in the header is long past: no pause from it, and no panic.
    let _ = server_pause(&headers, now + Duration::from_secs(315_360_000));
    let _ = server_pause(&headers, SystemTime::UNIX_EPOCH);
    if let Some(limit) = rate_limit(&headers) {
        assert!(
            limit.is_finite() && limit > 0.0,
            "limit {limit} read from {headers:?}"
        );
    }
    exercise_response(
        429,
        &headers,
        br#"{"errors":[{"status":"429","title":"too many requests"}]}"#,
    );
}

/// A state's outputs as the API lists them (a JSON array of `state-version-outputs` attributes: `name`,
/// `sensitive`, `value`, `detailed-type`), through what `tfe_outputs` makes of them. Whatever the server
/// says, the result is an error or two objects Terraform can be sent as dynamic values (they encode, and
/// read back unchanged), the nonsensitive one without the outputs marked sensitive.
pub fn state_outputs(data: &[u8]) {
    use crate::provider::outputs::output_values;
    use tfe_client::OutputValue;
    use tfe_client::models::StateVersionOutputAttributes;
    let Ok(listed) = serde_json::from_slice::<Vec<StateVersionOutputAttributes>>(data) else {
        return;
    };
    let outputs: Vec<OutputValue> = listed
        .into_iter()
        .map(|a| OutputValue {
            name: a.name,
            value: a.value,
            sensitive: a.sensitive,
            detailed_type: a.detailed_type,
        })
        .collect();
    let Ok(values) = output_values(&outputs) else {
        return;
    };
    for (which, value) in [("all", &values.all), ("nonsensitive", &values.nonsensitive)] {
        let bytes = codec::encode_msgpack(value, &Type::Dynamic).unwrap_or_else(|e| {
            panic!("state_outputs: the {which} outputs cannot be sent to Terraform: {e}\n{value:?}")
        });
        let back = codec::decode_msgpack(&bytes, &Type::Dynamic)
            .unwrap_or_else(|e| panic!("state_outputs: the {which} outputs do not decode: {e}"));
        assert!(
            same(&back, value),
            "state_outputs: the {which} outputs changed on their way\nbefore: {value:?}\nafter:  {back:?}"
        );
    }
    // Only an output some copy of which is not sensitive can be in the nonsensitive set.
    if let Value::Object(shown) = &values.nonsensitive {
        for name in shown.keys() {
            assert!(
                outputs.iter().any(|o| &o.name == name && !o.sensitive),
                "state_outputs: output {name:?} is only listed as sensitive but is in nonsensitive_values"
            );
        }
    }
}

/// A workspace variable as the API answers it (a JSON:API document), into the state of `tfe_variable`:
/// whatever a decodable answer holds, the state has the resource's type (it encodes for Terraform and reads
/// back unchanged), keeps a sensitive variable's configured value, and never shows one in `readable_value`.
pub fn variable_answer(data: &[u8]) {
    use crate::provider::resources::variable::{schema, state_from};
    use tfe_client::models::Variable;
    let Ok(variable) = tfe_client::response::decode_data::<Variable>(data, "https://fuzz/api/v2/")
    else {
        return;
    };
    let ty = schema().value_type();
    let mut planned = Value::object(
        schema()
            .block
            .attributes
            .iter()
            .map(|a| (a.name.clone(), Value::Null)),
    );
    planned.set_attr("value", Value::string("configured"));
    let state = state_from(&planned, &variable);
    let bytes = codec::encode_msgpack(&state, &ty)
        .unwrap_or_else(|e| panic!("variable_answer: the state cannot be sent to Terraform: {e}"));
    let back = codec::decode_msgpack(&bytes, &ty)
        .unwrap_or_else(|e| panic!("variable_answer: the state does not decode: {e}"));
    assert!(
        same(&back, &state),
        "variable_answer: the state changed on its way"
    );
    if variable.attributes.sensitive {
        assert_eq!(state.attr("value"), &Value::string("configured"));
        assert_eq!(state.attr("readable_value"), &Value::Null);
    }
}
