//! A TFE API answer: status and body through every parser the client applies.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| tfe_provider::fuzzing::jsonapi_response(data));
