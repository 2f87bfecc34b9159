//! Terraform's DynamicValue in JSON (raw state) against the representative schema types.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| tfe_provider::fuzzing::codec_json(data));
