#!/usr/bin/env bash
# Installs the fuzzers the test command runs and prints the directory of schemathesis's
# executable (tests/services.sh hands it to the tests as $SCHEMATHESIS_BIN):
#
#   schemathesis (PyPI, pinned) into target/tools/schemathesis, a Python virtualenv kept between
#   runs like the build cache. A fresh machine pays about half a minute; after that the version
#   is checked and nothing is downloaded.
set -euo pipefail
cd "$(dirname "$0")/.."

venv="$PWD/target/tools/schemathesis"
pin="schemathesis==4.32.5"

if ! "$venv/bin/pip" freeze 2>/dev/null | grep -qix "$pin"; then
  [ -x "$venv/bin/pip" ] || python3 -m venv "$venv" >&2
  "$venv/bin/pip" install -q "$pin" >&2
fi
echo "$venv/bin"
