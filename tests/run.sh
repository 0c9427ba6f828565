#!/usr/bin/env bash
# Runs every check and test of the project from a fresh clone: formatting, lints, unit, handler,
# integration and end-to-end tests (the SAM template's linters, the smoke script and
# schemathesis among them), a short run of every fuzz target, the release arm64 build of every
# function and `sam build` of one, a one-second smoke run of the bench command and two short
# soaks that check the product's promises, the second while its dependencies fail.
# Installs what the tests need first; each step is skipped when already satisfied.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n==> %s (at %d s)\n' "$*" "$SECONDS"; }

# A clean clone builds everything once, so incremental state is only disk: gigabytes of it.
if [ -n "${CI:-}" ]; then export CARGO_INCREMENTAL=0; fi

step "toolchain"
if ! cargo fmt --version >/dev/null 2>&1 || ! cargo clippy --version >/dev/null 2>&1; then
  rustup component add rustfmt clippy
fi
cargo --version

step "tools the tests drive"
# The README walk-through test runs its curl | jq commands for real; the page's end-to-end test
# drives Debian's Chromium through playwright-core (which never downloads a browser of its own);
# `bench wrk` drives the local stack with Debian's wrk.
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
missing=()
command -v curl >/dev/null || missing+=(curl)
command -v jq >/dev/null || missing+=(jq)
command -v chromium >/dev/null || missing+=(chromium)
command -v node >/dev/null || missing+=(nodejs npm)
python3 -m venv --help >/dev/null 2>&1 || missing+=(python3 python3-venv)
command -v redis-server >/dev/null || missing+=(redis-server)
command -v unzip >/dev/null || missing+=(unzip)
command -v wrk >/dev/null || missing+=(wrk)
if [ ${#missing[@]} -gt 0 ]; then
  as_root apt-get update -qq
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq "${missing[@]}" >/dev/null
fi
(cd tests/e2e && { [ -d node_modules/playwright-core ] || npm ci --no-audit --no-fund --silent; })
jq --version && chromium --version && node --version

# A clean clone compiles through sccache, whose cache is the machine's, outside the clone
# (tests/compiler-cache.sh): a second run on the same machine compiles again only what changed.
# A working tree keeps its `target/` and builds incrementally, which sccache cannot cache.
if [ "${CARGO_INCREMENTAL:-}" = 0 ] && [ -z "${RUSTC_WRAPPER:-}" ]; then
  step "compiler cache"
  RUSTC_WRAPPER="$(tests/compiler-cache.sh)"
  export RUSTC_WRAPPER
  export SCCACHE_DIR="${SCCACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/shared-carts/sccache}"
  # Room for the three builds a run compiles (debug, arm64 release, the fuzzers' nightly); one
  # server for the whole run, stopped at its end with what it hit and missed.
  export SCCACHE_CACHE_SIZE="${SCCACHE_CACHE_SIZE:-30G}" SCCACHE_IDLE_TIMEOUT=0
  trap '"$RUSTC_WRAPPER" --show-stats; "$RUSTC_WRAPPER" --stop-server >/dev/null 2>&1 || true' EXIT
  # A server another run left (or still uses) answers instead of a new one.
  "$RUSTC_WRAPPER" --start-server 2>/dev/null || "$RUSTC_WRAPPER" --show-stats >/dev/null
fi

step "format"
cargo fmt --all --check

step "lints"
cargo clippy --workspace --all-targets --locked -- -D warnings

step "tests (with moto, tansu and redis-server, installed and started by tests/services.sh)"
tests/services.sh cargo test --workspace --locked

step "fuzzing: every decoder of untrusted input, 20 s per target (tests/fuzz.sh)"
tests/fuzz.sh 20

step "the page, end to end in headless Chromium"
cargo build --locked -q -p local
LOCAL_BIN="$PWD/target/debug/local" node --test tests/e2e/

step "every function built for Lambda: release, arm64, zipped sizes (infra/build.sh)"
infra/build.sh

step "sam build of one function: the template's build metadata, on the arm64 build above"
rm -rf target/sam-build
(cd infra && AWS_DEFAULT_REGION=us-east-1 SAM_CLI_TELEMETRY=0 PATH="$(./tools.sh):$PATH" \
  sam build AuthorizerFunction --beta-features --build-dir ../target/sam-build -t template.yaml >/dev/null)
test -x target/sam-build/AuthorizerFunction/bootstrap
echo "sam built AuthorizerFunction"

# The bench binary the test step built (integration tests build their package's binaries). A
# `cargo run -p tests` here would resolve features without the workspace's dev-dependencies and
# compile the whole dependency tree a second time.
bench="${CARGO_TARGET_DIR:-target}/debug/bench"
test -x "$bench"

step "bench smoke run (numbers here mean nothing: debug build, one second)"
"$bench" rest --seconds 1 --connections 4 >/dev/null
"$bench" push --seconds 1 --members 2 >/dev/null
"$bench" wrk --seconds 1 --connections 2 --bin-dir "${CARGO_TARGET_DIR:-target}/debug" >/dev/null
echo "bench ran"

step "soak, short: the promises under concurrent users while the server closes their WebSockets, checked at the end (fails the run if broken)"
"$bench" soak --cuts --seconds 5 --users 12 --carts 4

step "soak with faults, short: the broker, the outbox and the registry cut and restored mid-run (real servers), and users' WebSockets closed by the server"
tests/services.sh "$bench" soak --faults --cuts --seconds 8 --users 12 --carts 4
step "all done"
