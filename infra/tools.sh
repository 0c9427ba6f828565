#!/usr/bin/env bash
# Installs the deploy tools into target/tools/deploy (a Python virtualenv, kept between runs like
# the build cache) and prints the directory of their executables:
#
#   PATH="$(infra/tools.sh):$PATH" cargo lambda build --release --arm64
#
# cargo-lambda (it brings zig, to cross-compile for arm64 without a C toolchain), the SAM CLI,
# cfn-lint with AWS's Serverless Rules (cfn-lint-serverless) and checkov, all from PyPI at pinned
# versions, and the AWS CLI (v1) for the tests of infra/smoke.sh and the LocalStack recipe.
# checkov and the AWS CLI pin their own dependencies, so each has a virtualenv of its own under
# target/tools; checkov is linked into the same directory. A fresh machine pays about two minutes; after that the versions
# are checked and nothing is downloaded.
set -euo pipefail
cd "$(dirname "$0")/.."

venv="$PWD/target/tools/deploy"
pins=(cargo-lambda==1.9.2 aws-sam-cli==1.170.0 cfn-lint==1.58.0 cfn_lint_serverless==0.3.6)


installed() {
  "$venv/bin/pip" freeze 2>/dev/null | grep -qix "$1"
}

missing=()
for pin in "${pins[@]}"; do installed "$pin" || missing+=("$pin"); done
if [ ${#missing[@]} -gt 0 ]; then
  [ -x "$venv/bin/pip" ] || python3 -m venv "$venv" >&2
  "$venv/bin/pip" install -q "${missing[@]}" >&2
fi
# A tool in a virtualenv of its own.
alone() { # name pin
  local own="$PWD/target/tools/$1"
  if ! "$own/bin/pip" freeze 2>/dev/null | grep -qix "$2"; then
    [ -x "$own/bin/pip" ] || python3 -m venv "$own" >&2
    "$own/bin/pip" install -q "$2" >&2
  fi
}
alone checkov checkov==3.3.30
ln -sf "$PWD/target/tools/checkov/bin/checkov" "$venv/bin/checkov"
# Not linked: a deployer's own AWS CLI (v2, most likely) stays first on their PATH. The tests
# find this one in target/tools/awscli/bin (tests/services.sh exports $AWS_CLI_DIR).
alone awscli awscli==1.46.2
echo "$venv/bin"
