#!/usr/bin/env bash
# Runs a command with the real servers the adapter tests talk to, started on free ports on
# 127.0.0.1 and stopped when the command ends:
#
#   tests/services.sh cargo test -p dynamo
#
# moto (PyPI) serves DynamoDB (and SQS) at $DYNAMODB_ENDPOINT. It is installed once into
# target/tools/, which survives between runs like the build cache; a fresh machine pays about
# a minute. Tests fail, never skip, when these variables are missing.
set -euo pipefail
cd "$(dirname "$0")/.."

tools="$PWD/target/tools"
MOTO_VERSION="5.2.5"

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

wait_for() { # name url
  for _ in $(seq 1 100); do
    curl -s -o /dev/null "$2" && return 0
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

pids=()
stop_all() { for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done; }
trap stop_all EXIT

moto_port="$(free_port)"
"$tools/moto/bin/moto_server" -H 127.0.0.1 -p "$moto_port" >"$tools/moto.log" 2>&1 &
pids+=($!)
wait_for moto "http://127.0.0.1:$moto_port/moto-api/"

export DYNAMODB_ENDPOINT="http://127.0.0.1:$moto_port"
export AWS_REGION=us-east-1 AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test

"$@"
