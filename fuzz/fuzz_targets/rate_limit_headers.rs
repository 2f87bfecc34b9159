//! The rate-limit headers of an answer: Retry-After, X-RateLimit-Reset, X-RateLimit-Limit.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| tfe_provider::fuzzing::rate_limit_headers(data));
