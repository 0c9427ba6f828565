//! Fuzzes API Gateway REST proxy events, read as the edge reads them (`fuzzing::api_gateway_request`).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| fuzzing::api_gateway_request(data));
