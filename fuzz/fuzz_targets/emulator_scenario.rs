//! tfe-emulator's --scenario file, parsed and applied to a fresh emulator.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| tfe_emulator::fuzzing::emulator_scenario(data));
