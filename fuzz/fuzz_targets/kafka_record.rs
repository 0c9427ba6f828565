//! Fuzzes record values from the events topic, and whole MSK batches (`fuzzing::kafka_record`).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| fuzzing::kafka_record(data));
