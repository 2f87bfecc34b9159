//! A workspace variable as the API answers it, into the state of `tfe_variable`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| tfe_provider::fuzzing::variable_answer(data));
