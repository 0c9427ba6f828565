#!/usr/bin/env bash
# Installs the fuzzers the test command runs and prints the directory of schemathesis's
# executable (tests/services.sh hands it to the tests as $SCHEMATHESIS_BIN):
#
#   schemathesis (PyPI, pinned) into the machine's tool cache (infra/tool-cache.sh), a Python
#   virtualenv. A fresh machine pays about half a minute; after that the version is checked and
#   nothing is downloaded.
set -euo pipefail
cd "$(dirname "$0")/.."
. infra/tool-cache.sh

SCHEMATHESIS_VERSION=4.32.5
venv="$(tool_dir schemathesis "$SCHEMATHESIS_VERSION")"

schemathesis_ready() { venv_has "$venv" "schemathesis==$SCHEMATHESIS_VERSION"; }
schemathesis_install() { venv_install "$venv" "schemathesis==$SCHEMATHESIS_VERSION"; }
ensure_tool schemathesis_ready schemathesis_install
echo "$venv/bin"
