//! The fuzz targets' committed inputs as ordinary tests on stable Rust: every file under `fuzz/corpus/<target>/`
//! (seeds and regressions for crashes the fuzzers found) and `fuzz/artifacts/<target>/` (crash inputs not yet
//! moved into the corpus) goes through the same entry function the fuzz target calls
//! (`tfe_provider::fuzzing`, or `tfe_emulator::fuzzing` for the emulator's). Also checks that fuzz targets, entry functions and corpora line up, so a new
//! target cannot be forgotten here. (Its own test binary: not an end-to-end test, and `make test` runs it in
//! well under a second.)
//!
//! `cargo test --test fuzz_corpora -- --ignored write_generated_seeds` rewrites the generated seeds
//! (`fuzz/corpus/*/gen-*`) from the real schema types; the other seeds are hand-made.

use std::collections::BTreeSet;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use tfe_provider::fuzzing::{self, Entry};
use tfplugin::codec;
use tfplugin::{Number, Type, Value};

/// Every fuzz target with the crate whose `fuzzing` module holds its entry function.
fn targets() -> Vec<(&'static str, &'static str, Entry)> {
    let provider = fuzzing::TARGETS
        .iter()
        .map(|(n, f)| ("tfe_provider", *n, *f));
    let emulator = tfe_emulator::fuzzing::TARGETS
        .iter()
        .map(|(n, f)| ("tfe_emulator", *n, *f));
    provider.chain(emulator).collect()
}

/// An input slower than this in a debug build counts as a hang (libFuzzer's limit in `make fuzz` is 10 s).
const SLOW: Duration = Duration::from_secs(20);

fn fuzz_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz")
}

fn files_in(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut files: Vec<PathBuf> = entries
        .map(|e| e.expect("directory entry").path())
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    files
}

fn subdirs(dir: &Path) -> BTreeSet<String> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return BTreeSet::new();
    };
    entries
        .map(|e| e.expect("directory entry").path())
        .filter(|p| p.is_dir())
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect()
}

/// Runs `entry` on each file; returns one line per input that panicked or was too slow.
fn run_inputs(entry: Entry, files: &[PathBuf]) -> Vec<String> {
    let mut failures = Vec::new();
    for file in files {
        let data = std::fs::read(file).expect("read input");
        let started = Instant::now();
        let outcome = catch_unwind(AssertUnwindSafe(|| entry(&data)));
        let took = started.elapsed();
        if let Err(panic) = outcome {
            let message = panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_else(|| "(non-string panic)".into());
            failures.push(format!("{}: panicked: {message}", file.display()));
        } else if took > SLOW {
            failures.push(format!("{}: took {took:?}", file.display()));
        }
    }
    failures
}

#[test]
fn every_committed_input_passes_its_fuzz_entry() {
    let mut failures = Vec::new();
    let mut count = 0;
    for (_, name, entry) in targets() {
        let mut files = files_in(&fuzz_dir().join("corpus").join(name));
        assert!(
            !files.is_empty(),
            "fuzz target {name} has no seed corpus in fuzz/corpus/{name}/"
        );
        files.extend(files_in(&fuzz_dir().join("artifacts").join(name)));
        count += files.len();
        failures.extend(run_inputs(entry, &files));
    }
    assert!(
        failures.is_empty(),
        "{} of {count} fuzz inputs fail:\n{}",
        failures.len(),
        failures.join("\n")
    );
    eprintln!("{count} fuzz inputs passed");
}

#[test]
fn fuzz_targets_entry_functions_and_corpora_line_up() {
    let all = targets();
    let registered: BTreeSet<String> = all.iter().map(|(_, n, _)| n.to_string()).collect();
    let targets_dir = fuzz_dir().join("fuzz_targets");
    let mut targets = BTreeSet::new();
    for file in files_in(&targets_dir) {
        if file.extension().is_some_and(|e| e == "rs") {
            let name = file.file_stem().unwrap().to_string_lossy().into_owned();
            let source = std::fs::read_to_string(&file).unwrap();
            let krate = all
                .iter()
                .find(|(_, n, _)| *n == name)
                .map_or("tfe_provider", |(k, _, _)| *k);
            assert!(
                source.contains(&format!("{krate}::fuzzing::{name}(")),
                "{} must call {krate}::fuzzing::{name}, the entry these tests run",
                file.display()
            );
            targets.insert(name);
        }
    }
    assert_eq!(
        targets, registered,
        "fuzz/fuzz_targets/*.rs and the fuzzing::TARGETS of tfe_provider and tfe_emulator differ"
    );
    let manifest = std::fs::read_to_string(fuzz_dir().join("Cargo.toml")).unwrap();
    for name in &targets {
        assert!(
            manifest.contains(&format!("path = \"fuzz_targets/{name}.rs\"")),
            "fuzz/Cargo.toml has no [[bin]] for {name}"
        );
    }
    for kind in ["corpus", "artifacts"] {
        for dir in subdirs(&fuzz_dir().join(kind)) {
            assert!(
                all.iter().any(|(_, n, _)| *n == dir),
                "fuzz/{kind}/{dir}/ belongs to no fuzz target"
            );
        }
    }
}

#[test]
fn a_failing_input_is_reported_with_its_file() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("crash-1");
    std::fs::write(&file, b"x").unwrap();
    let failures = run_inputs(|data| assert!(data.is_empty(), "boom"), &[file]);
    assert_eq!(failures.len(), 1);
    assert!(
        failures[0].contains("crash-1") && failures[0].contains("boom"),
        "{failures:?}"
    );
}

// ---------------------------------------------------------------- generated seeds

/// A representative value of `ty`: every attribute set, one element per collection.
fn full_value(ty: &Type) -> Value {
    match ty {
        Type::Bool => Value::Bool(true),
        Type::Number => Value::int(42),
        Type::String => Value::string("ws-1a2b3c"),
        Type::Dynamic => Value::List(vec![Value::string("a"), Value::string("b")]),
        Type::List(e) => Value::List(vec![full_value(e)]),
        Type::Set(e) => Value::Set(vec![full_value(e)]),
        Type::Map(e) => Value::Map([("key".to_string(), full_value(e))].into()),
        Type::Object(attrs) => Value::Object(
            attrs
                .iter()
                .map(|(k, t)| (k.clone(), full_value(t)))
                .collect(),
        ),
        Type::Tuple(ts) => Value::Tuple(ts.iter().map(full_value).collect()),
    }
}

/// As Terraform sends a plan: every other attribute null, the rest unknown, empty collections.
fn sparse_value(ty: &Type) -> Value {
    match ty {
        Type::Object(attrs) => Value::Object(
            attrs
                .iter()
                .enumerate()
                .map(|(i, (k, t))| {
                    let v = match (i % 3, t) {
                        (0, _) => Value::Null,
                        (1, _) => Value::Unknown,
                        (_, Type::List(_)) => Value::List(vec![]),
                        (_, Type::Set(_)) => Value::Set(vec![]),
                        (_, Type::Map(_)) => Value::Map(Default::default()),
                        (_, t) => sparse_value(t),
                    };
                    (k.clone(), v)
                })
                .collect(),
        ),
        Type::Number => Value::Number(Number::Float(0.5)),
        other => full_value(other),
    }
}

/// The state of a `tfe_workspace_run` applied with the page's first example.
fn workspace_run_state() -> Value {
    let settings = |manual_confirm: bool| {
        Value::List(vec![Value::object([
            ("manual_confirm", Value::Bool(manual_confirm)),
            ("message", Value::string("Triggered by Terraform")),
            ("retry", Value::Bool(true)),
            ("retry_attempts", Value::int(3)),
            ("retry_backoff_min", Value::int(1)),
            ("retry_backoff_max", Value::int(30)),
            ("wait_for_run", Value::Bool(true)),
        ])])
    };
    Value::object([
        ("id", Value::string("run-CZcmD7eagjhyX0vN")),
        ("workspace_id", Value::string("ws-ZMLYB7u6UkhhWxrq")),
        ("apply", settings(false)),
        ("destroy", settings(true)),
    ])
}

#[test]
#[ignore = "writes fuzz/corpus/*/gen-*; run by hand after a schema change"]
fn write_generated_seeds() {
    let write = |target: &str, name: &str, bytes: &[u8]| {
        let dir = fuzz_dir().join("corpus").join(target);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join(format!("gen-{name}")), bytes).unwrap();
    };
    for (name, ty) in fuzzing::codec_types() {
        for (variant, value) in [("full", full_value(ty)), ("sparse", sparse_value(ty))] {
            let msgpack = codec::encode_msgpack(&value, ty).unwrap();
            write(
                "codec_msgpack",
                &format!("{name}-{variant}.msgpack"),
                &msgpack,
            );
            let mut known = value.clone();
            known.unknowns_to_null();
            let json = codec::encode_json(&known, ty).unwrap();
            write("codec_json", &format!("{name}-{variant}.json"), &json);
        }
    }
    let ty = tfe_provider::provider::workspace_run_schema().value_type();
    let state = workspace_run_state();
    write(
        "codec_msgpack",
        "tfe_workspace_run-state.msgpack",
        &codec::encode_msgpack(&state, &ty).unwrap(),
    );
    write(
        "codec_json",
        "tfe_workspace_run-state.json",
        &codec::encode_json(&state, &ty).unwrap(),
    );
}
