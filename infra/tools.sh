#!/usr/bin/env bash
# Installs the deploy tools into target/tools/deploy (a Python virtualenv, kept between runs like
# the build cache) and prints the directory of their executables:
#
#   PATH="$(infra/tools.sh):$PATH" cargo lambda build --release --arm64
#
# cargo-lambda (it brings zig, to cross-compile for arm64 without a C toolchain), the SAM CLI and
# cfn-lint, all from PyPI at pinned versions. A fresh machine pays about a minute; after that the
# versions are checked and nothing is downloaded.
set -euo pipefail
cd "$(dirname "$0")/.."

venv="$PWD/target/tools/deploy"
pins=(cargo-lambda==1.9.2 aws-sam-cli==1.170.0 cfn-lint==1.58.0)

installed() {
  "$venv/bin/pip" freeze 2>/dev/null | grep -qix "$1"
}

missing=()
for pin in "${pins[@]}"; do installed "$pin" || missing+=("$pin"); done
if [ ${#missing[@]} -gt 0 ]; then
  [ -x "$venv/bin/pip" ] || python3 -m venv "$venv" >&2
  "$venv/bin/pip" install -q "${missing[@]}" >&2
fi
echo "$venv/bin"
