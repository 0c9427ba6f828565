#!/usr/bin/env bash
# Runs every check and test of the project from a fresh clone: formatting, lints, unit, handler,
# integration and end-to-end tests, and a one-second smoke run of the bench command.
# Installs what the tests need first; each step is skipped when already satisfied.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n==> %s\n' "$*"; }

step "toolchain"
if ! cargo fmt --version >/dev/null 2>&1 || ! cargo clippy --version >/dev/null 2>&1; then
  rustup component add rustfmt clippy
fi
cargo --version

step "tools the tests drive"
# The README walk-through test runs its curl | jq commands for real.
if ! command -v curl >/dev/null || ! command -v jq >/dev/null; then
  if [ "$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq curl jq >/dev/null; else sudo apt-get update -qq && sudo apt-get install -y -qq curl jq >/dev/null; fi
fi
jq --version

step "format"
cargo fmt --all --check

step "lints"
cargo clippy --workspace --all-targets --locked -- -D warnings

step "tests"
cargo test --workspace --locked

step "bench smoke run (numbers here mean nothing: debug build, one second)"
cargo run --locked -q -p tests --bin bench -- rest --seconds 1 --connections 4 >/dev/null
echo "bench ran"
