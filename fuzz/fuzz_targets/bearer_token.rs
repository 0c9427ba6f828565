//! Fuzzes bearer tokens, checked as the authorizer checks them (`fuzzing::bearer_token`).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| fuzzing::bearer_token(data));
