//! Fuzzes WebSocket client messages and the ws-message event around them (`fuzzing::websocket_message`).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| fuzzing::websocket_message(data));
