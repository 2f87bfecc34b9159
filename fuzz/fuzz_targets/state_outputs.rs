//! A state's outputs as the API lists them, through what `tfe_outputs` makes of them.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| tfe_provider::fuzzing::state_outputs(data));
