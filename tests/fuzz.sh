#!/usr/bin/env bash
# Runs every cargo fuzz target for a while (default 20 seconds each; more on demand):
#
#   tests/fuzz.sh            # what the test command runs
#   tests/fuzz.sh 600        # ten minutes per target
#
# Installs what it needs, idempotently: the nightly toolchain (libFuzzer's instrumentation
# needs it) and cargo-fuzz (crates.io, pinned) into the machine's tool cache
# (infra/tool-cache.sh). Each target starts
# from its seeds (fuzz/seeds/<target>) plus what earlier runs on this machine found
# (target/fuzz/corpus/<target>). A crash stops the run with the input that caused it; keep it
# under fuzz/regressions/<target>/ once fixed, where a workspace test replays it for ever.
set -euo pipefail
cd "$(dirname "$0")/.."

. infra/tool-cache.sh

seconds="${1:-20}"
CARGO_FUZZ_VERSION="0.13.2"
cargo_fuzz="$(tool_dir cargo-fuzz "$CARGO_FUZZ_VERSION")"

if ! rustup run nightly rustc --version >/dev/null 2>&1; then
  rustup toolchain install nightly --profile minimal
fi
cargo_fuzz_ready() { [ "$("$cargo_fuzz/bin/cargo-fuzz" --version | awk '{print $2}')" = "$CARGO_FUZZ_VERSION" ]; }
cargo_fuzz_install() {
  CARGO_BUILD_JOBS="${CARGO_BUILD_JOBS:-2}" cargo install --quiet --locked --root "$cargo_fuzz" \
    cargo-fuzz --version "$CARGO_FUZZ_VERSION"
}
ensure_tool cargo_fuzz_ready cargo_fuzz_install
export PATH="$cargo_fuzz/bin:$PATH"
# Kept between runs like the rest of target/: the instrumented build takes minutes from empty.
export CARGO_TARGET_DIR="$PWD/target/fuzz/build"

targets=(api_gateway_request websocket_message kafka_record bearer_token)
cargo +nightly fuzz build --fuzz-dir fuzz
for target in "${targets[@]}"; do
  corpus="$PWD/target/fuzz/corpus/$target"
  mkdir -p "$corpus"
  echo "fuzzing $target for ${seconds}s"
  if ! cargo +nightly fuzz run --fuzz-dir fuzz "$target" "$corpus" "fuzz/seeds/$target" -- \
    -max_total_time="$seconds" -print_final_stats=1 2>"$PWD/target/fuzz/$target.log"; then
    tail -40 "$PWD/target/fuzz/$target.log" >&2
    echo "$target crashed; the input is under fuzz/artifacts/$target/. Fix the decoder, then keep the input under fuzz/regressions/$target/." >&2
    exit 1
  fi
  grep -E "stat::number_of_executed_units|Done [0-9]+ runs" "$PWD/target/fuzz/$target.log" | tail -1 || true
done
