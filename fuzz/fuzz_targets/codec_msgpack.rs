//! Terraform's DynamicValue in msgpack against the representative schema types.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| tfe_provider::fuzzing::codec_msgpack(data));
