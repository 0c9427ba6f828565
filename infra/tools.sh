#!/usr/bin/env bash
# Installs the deploy tools into the machine's tool cache (infra/tool-cache.sh) and prints the
# directory of their executables:
#
#   PATH="$(infra/tools.sh):$PATH" cargo lambda build --release --arm64
#   infra/tools.sh awscli      # the AWS CLI's directory instead (not on the PATH above)
#
# cargo-lambda (it brings zig, to cross-compile for arm64 without a C toolchain), the SAM CLI,
# cfn-lint with AWS's Serverless Rules (cfn-lint-serverless) and checkov, all from PyPI at pinned
# versions, and the AWS CLI (v1) for the tests of infra/smoke.sh and the LocalStack recipe.
# checkov and the AWS CLI pin their own dependencies, so each has a virtualenv of its own;
# checkov is linked beside the others. A fresh machine pays about two minutes; after that the
# versions are checked and nothing is downloaded.
set -euo pipefail
cd "$(dirname "$0")/.."
. infra/tool-cache.sh

pins=(cargo-lambda==1.9.2 aws-sam-cli==1.170.0 cfn-lint==1.58.0 cfn_lint_serverless==0.3.6)
CHECKOV_VERSION=3.3.30
AWSCLI_VERSION=1.46.2

# The shared virtualenv's directory is named by its pins and checkov's (linked into it), so a
# change of any pin is a new one.
deploy="$(tool_dir deploy "$(printf '%s\n' "${pins[@]}" "checkov==$CHECKOV_VERSION" | sha256sum | cut -c1-12)")"
checkov="$(tool_dir checkov "$CHECKOV_VERSION")"
awscli="$(tool_dir awscli "$AWSCLI_VERSION")"

deploy_ready() {
  venv_has "$deploy" "${pins[@]}" && [ "$(readlink "$deploy/bin/checkov")" = "$checkov/bin/checkov" ]
}
deploy_install() {
  venv_has "$deploy" "${pins[@]}" || venv_install "$deploy" "${pins[@]}"
  ln -sf "$checkov/bin/checkov" "$deploy/bin/checkov"
}
checkov_ready() { venv_has "$checkov" "checkov==$CHECKOV_VERSION"; }
checkov_install() { venv_install "$checkov" "checkov==$CHECKOV_VERSION"; }
awscli_ready() { venv_has "$awscli" "awscli==$AWSCLI_VERSION"; }
awscli_install() { venv_install "$awscli" "awscli==$AWSCLI_VERSION"; }

ensure_tool checkov_ready checkov_install
ensure_tool deploy_ready deploy_install
# Not linked: a deployer's own AWS CLI (v2, most likely) stays first on their PATH. The tests
# find this one through `infra/tools.sh awscli` (tests/services.sh exports $AWS_CLI_DIR).
ensure_tool awscli_ready awscli_install
case "${1:-}" in
  awscli) echo "$awscli/bin" ;;
  *) echo "$deploy/bin" ;;
esac
