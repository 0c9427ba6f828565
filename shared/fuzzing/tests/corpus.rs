//! Every input the fuzzer was seeded with, every crash it ever found (kept under
//! `fuzz/regressions/<target>/` once fixed), and every sample event, through the decoders: none
//! may panic.

use std::path::{Path, PathBuf};

type Target = (&'static str, fn(&[u8]));

const TARGETS: [Target; 4] = [
    ("api_gateway_request", fuzzing::api_gateway_request),
    ("websocket_message", fuzzing::websocket_message),
    ("kafka_record", fuzzing::kafka_record),
    ("bearer_token", fuzzing::bearer_token),
];

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn files_in(dir: &Path) -> Vec<PathBuf> {
    std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.is_file() && p.file_name().is_some_and(|n| n != ".gitkeep"))
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn the_seeds_and_every_crash_ever_found_decode_without_panicking() {
    for (target, decode) in TARGETS {
        let seeds = files_in(&repo().join("fuzz/seeds").join(target));
        assert!(!seeds.is_empty(), "{target} has seeds");
        let regressions = files_in(&repo().join("fuzz/regressions").join(target));
        for input in seeds.iter().chain(&regressions) {
            let bytes = std::fs::read(input).unwrap_or_else(|e| panic!("{}: {e}", input.display()));
            decode(&bytes);
        }
    }
}

#[test]
fn every_sample_event_goes_through_every_decoder() {
    let samples = files_in(&repo().join("events"));
    assert!(samples.len() > 10, "the sample events are there");
    for sample in samples {
        let bytes = std::fs::read(&sample).unwrap_or_else(|e| panic!("{}: {e}", sample.display()));
        for (_, decode) in TARGETS {
            decode(&bytes);
        }
    }
}
