#!/usr/bin/env bash
# Runs a command with the real servers the adapter tests talk to, started on free ports on
# 127.0.0.1 and stopped when the command ends:
#
#   tests/services.sh cargo test -p dynamo
#
# moto (PyPI) serves DynamoDB, SQS and SES at $DYNAMODB_ENDPOINT, $SQS_ENDPOINT and $SES_ENDPOINT; Debian's
# redis-server (installed by tests/run.sh) listens at $REDIS_URL; tansu (crates.io), a
# Kafka-protocol broker in memory, listens at $KAFKA_BROKERS. Both are installed once into the
# machine's tool cache (infra/tool-cache.sh), outside the clone: a fresh machine pays about a
# minute for moto and about three for building tansu. Their logs go to target/services/. Tests
# fail, never skip, when these
# variables are missing. It also installs the deploy tools (infra/tools.sh) and sets
# $INFRA_TOOLS to their directory ($AWS_CLI_DIR for the AWS CLI), and schemathesis
# (tests/tools.sh), setting $SCHEMATHESIS_BIN.
set -euo pipefail
cd "$(dirname "$0")/.."

. infra/tool-cache.sh
logs="$PWD/target/services"
mkdir -p "$logs"
MOTO_VERSION="5.2.5"
TANSU_VERSION="0.6.0"
moto="$(tool_dir moto "$MOTO_VERSION")"
tansu="$(tool_dir tansu "$TANSU_VERSION")"

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
  cat "$logs/$1.log" >&2
  return 1
}

moto_ready() { "$moto/bin/moto_server" --help && venv_has "$moto" "moto==$MOTO_VERSION"; }
moto_install() { venv_install "$moto" "moto[server]==$MOTO_VERSION"; }
ensure_tool moto_ready moto_install

tansu_ready() { [ "$("$tansu/bin/tansu" --version | awk '{print $2}')" = "$TANSU_VERSION" ]; }
tansu_install() {
  # Without dynostore the memory:// engine is not compiled in and produce discards records.
  # Unoptimised and without debug info: 3 minutes to build on two cores where a release build
  # takes 9 to 16, and fast enough for the tests' few thousand records.
  CARGO_PROFILE_DEV_DEBUG=0 CARGO_BUILD_JOBS="${CARGO_BUILD_JOBS:-2}" cargo install --quiet \
    --locked --debug --root "$tansu" tansu --version "$TANSU_VERSION" --features dynostore
}
ensure_tool tansu_ready tansu_install

# The template's linters (tests/tests/template.rs) and cargo-lambda (a test runs a function under
# `cargo lambda watch`).
INFRA_TOOLS="$(infra/tools.sh)"
# schemathesis, which tests/tests/schemathesis.rs runs against the spec and the local stack.
SCHEMATHESIS_BIN="$(tests/tools.sh)/st"

pids=()
stop_all() { for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done; }
trap stop_all EXIT

moto_port="$(free_port)"
"$moto/bin/moto_server" -H 127.0.0.1 -p "$moto_port" >"$logs/moto.log" 2>&1 &
pids+=($!)
wait_for moto "http://127.0.0.1:$moto_port/moto-api/"

command -v redis-server >/dev/null || { echo "redis-server is missing: apt-get install redis-server (tests/run.sh does)" >&2; exit 1; }
redis_port="$(free_port)"
redis-server --port "$redis_port" --bind 127.0.0.1 --save '' --appendonly no >"$logs/redis.log" 2>&1 &
pids+=($!)
wait_for redis "$redis_port"

kafka_port="$(free_port)"
"$tansu/bin/tansu" broker --listener-url "tcp://127.0.0.1:$kafka_port" \
  --advertised-listener-url "tcp://127.0.0.1:$kafka_port" --storage-engine memory://tansu/ \
  >"$logs/tansu.log" 2>&1 &
pids+=($!)
wait_for tansu "$kafka_port"

export DYNAMODB_ENDPOINT="http://127.0.0.1:$moto_port" SQS_ENDPOINT="http://127.0.0.1:$moto_port" \
  SES_ENDPOINT="http://127.0.0.1:$moto_port"
export KAFKA_BROKERS="127.0.0.1:$kafka_port"
export REDIS_URL="redis://127.0.0.1:$redis_port"
# Fault tests start brokers of their own, behind a link they can cut.
export TANSU_BIN="$tansu/bin/tansu"
export INFRA_TOOLS SCHEMATHESIS_BIN
# The AWS CLI that infra/tools.sh installs, for the smoke script's and the LocalStack recipe's tests.
AWS_CLI_DIR="$(infra/tools.sh awscli)"
export AWS_CLI_DIR
export AWS_REGION=us-east-1 AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test

"$@"
