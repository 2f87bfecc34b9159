//! The Terraform CLI configuration's credentials blocks (HCL or JSON).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| tfe_provider::fuzzing::cli_credentials(data));
