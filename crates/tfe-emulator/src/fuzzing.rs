//! Fuzz entry point for the emulator's scenario files (`fuzz/fuzz_targets/emulator_scenario.rs`, replayed over
//! the committed corpus by the provider's `tests/fuzz_corpora.rs`). It lives here, not in the provider's
//! `fuzzing` module, so that the provider does not depend on the emulator.

/// A named fuzz entry point.
pub type Entry = fn(&[u8]);

/// The emulator's fuzz targets, by the name of their file in `fuzz/fuzz_targets/` and of their corpus directory.
pub const TARGETS: &[(&str, Entry)] = &[("emulator_scenario", emulator_scenario)];

/// The emulator's `--scenario` file, loaded as `tfe-emulator` loads it (UTF-8 text, JSON): a scenario that
/// parses must serialise and parse back to the same thing, and applying it to a fresh emulator (its knobs,
/// fault rules and seeded organizations and workspaces) either works or reports an error.
pub fn emulator_scenario(data: &[u8]) {
    use crate::scenario::{Scenario, seed};
    use crate::state::Emulator;
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(scenario) = serde_json::from_str::<Scenario>(text) else {
        return;
    };
    let json = serde_json::to_value(&scenario).expect("a parsed scenario serialises");
    let again: Scenario = serde_json::from_value(json.clone())
        .unwrap_or_else(|e| panic!("a serialised scenario does not parse back: {e}\n{json}"));
    assert_eq!(
        serde_json::to_value(&again).expect("serialises"),
        json,
        "scenario round trip changed it"
    );

    let emulator = Emulator::new(scenario.tokens.clone(), scenario.defaults.clone());
    let mut added = 0;
    {
        let mut faults = emulator.faults.lock().unwrap();
        for rule in &scenario.faults {
            if faults.add(rule.clone()).is_ok() {
                added += 1;
            }
        }
        assert_eq!(faults.rules.len(), added);
        // Every rule is matched against a few request paths, as the HTTP layer does per request.
        for (method, path) in [
            ("GET", "/api/v2/runs/run-1"),
            ("POST", "/api/v2/runs"),
            ("GET", "/api/v2/organizations/acme/workspaces/network"),
        ] {
            let _ = faults.fire(method, path);
        }
    }
    let seeded = seed(&emulator, &scenario.organizations, &scenario.workspaces);
    if let Ok(seeded) = seeded {
        assert_eq!(seeded.len(), scenario.workspaces.len());
        // Seeding is idempotent: the same workspaces keep their ids.
        let twice = seed(&emulator, &scenario.organizations, &scenario.workspaces)
            .expect("seeding the same scenario twice works");
        let ids = |s: &[crate::scenario::SeededWorkspace]| {
            s.iter().map(|w| w.id.clone()).collect::<Vec<_>>()
        };
        assert_eq!(
            ids(&twice),
            ids(&seeded),
            "re-seeding changed workspace ids"
        );
    }
}
