#!/usr/bin/env bash
# Runs a command with the real servers the adapter tests talk to, started on free ports on
# 127.0.0.1 and stopped when the command ends:
#
#   tests/services.sh cargo test -p dynamo
#
# moto (PyPI) serves DynamoDB, SQS and SES at $DYNAMODB_ENDPOINT, $SQS_ENDPOINT and $SES_ENDPOINT; Debian's
# redis-server (installed by tests/run.sh) listens at $REDIS_URL; tansu (crates.io), a
# Kafka-protocol broker in memory, listens at $KAFKA_BROKERS. Both are installed once into
# target/tools/, which survives between runs like the build cache: a fresh machine pays about a
# minute for moto and about three for building tansu. Tests fail, never skip, when these
# variables are missing. It also installs the deploy tools (infra/tools.sh) and sets
# $INFRA_TOOLS to their directory ($AWS_CLI_DIR for the AWS CLI), and schemathesis
# (tests/tools.sh), setting $SCHEMATHESIS_BIN.
set -euo pipefail
cd "$(dirname "$0")/.."

tools="$PWD/target/tools"
MOTO_VERSION="5.2.5"
TANSU_VERSION="0.6.0"

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

wait_for() { # name url-or-port
  for _ in $(seq 1 100); do
    case "$2" in
      http*) curl -s -o /dev/null "$2" && return 0 ;;
      *) (exec 3<>"/dev/tcp/127.0.0.1/$2") 2>/dev/null && return 0 ;;
    esac
    sleep 0.2
  done
  echo "$1 did not start; its log:" >&2
  cat "$tools/$1.log" >&2
  return 1
}

if ! "$tools/moto/bin/moto_server" --help >/dev/null 2>&1 \
  || [ "$("$tools/moto/bin/pip" show moto 2>/dev/null | sed -n 's/^Version: //p')" != "$MOTO_VERSION" ]; then
  mkdir -p "$tools"
  python3 -m venv "$tools/moto"
  "$tools/moto/bin/pip" install -q "moto[server]==$MOTO_VERSION"
fi

if [ "$("$tools/tansu/bin/tansu" --version 2>/dev/null | awk '{print $2}')" != "$TANSU_VERSION" ]; then
  # Without dynostore the memory:// engine is not compiled in and produce discards records.
  # Unoptimised and without debug info: 3 minutes to build on two cores where a release build
  # takes 9 to 16, and fast enough for the tests' few thousand records.
  CARGO_PROFILE_DEV_DEBUG=0 CARGO_BUILD_JOBS="${CARGO_BUILD_JOBS:-2}" cargo install --quiet \
    --locked --debug --root "$tools/tansu" tansu --version "$TANSU_VERSION" --features dynostore
fi

# The template's linters (tests/tests/template.rs) and cargo-lambda (a test runs a function under
# `cargo lambda watch`).
INFRA_TOOLS="$(infra/tools.sh)"
# schemathesis, which tests/tests/schemathesis.rs runs against the spec and the local stack.
SCHEMATHESIS_BIN="$(tests/tools.sh)/st"

pids=()
stop_all() { for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done; }
trap stop_all EXIT

moto_port="$(free_port)"
"$tools/moto/bin/moto_server" -H 127.0.0.1 -p "$moto_port" >"$tools/moto.log" 2>&1 &
pids+=($!)
wait_for moto "http://127.0.0.1:$moto_port/moto-api/"

command -v redis-server >/dev/null || { echo "redis-server is missing: apt-get install redis-server (tests/run.sh does)" >&2; exit 1; }
redis_port="$(free_port)"
redis-server --port "$redis_port" --bind 127.0.0.1 --save '' --appendonly no >"$tools/redis.log" 2>&1 &
pids+=($!)
wait_for redis "$redis_port"

kafka_port="$(free_port)"
"$tools/tansu/bin/tansu" broker --listener-url "tcp://127.0.0.1:$kafka_port" \
  --advertised-listener-url "tcp://127.0.0.1:$kafka_port" --storage-engine memory://tansu/ \
  >"$tools/tansu.log" 2>&1 &
pids+=($!)
wait_for tansu "$kafka_port"

export DYNAMODB_ENDPOINT="http://127.0.0.1:$moto_port" SQS_ENDPOINT="http://127.0.0.1:$moto_port" \
  SES_ENDPOINT="http://127.0.0.1:$moto_port"
export KAFKA_BROKERS="127.0.0.1:$kafka_port"
export REDIS_URL="redis://127.0.0.1:$redis_port"
# Fault tests start brokers of their own, behind a link they can cut.
export TANSU_BIN="$tools/tansu/bin/tansu"
export INFRA_TOOLS SCHEMATHESIS_BIN
# The AWS CLI that infra/tools.sh installs, for the smoke script's and the LocalStack recipe's tests.
export AWS_CLI_DIR="$tools/awscli/bin"
export AWS_REGION=us-east-1 AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test

"$@"
