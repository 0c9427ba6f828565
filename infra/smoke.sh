#!/usr/bin/env bash
# The smoke test: the README's walk-through and one WebSocket member hearing another's add,
# against a deployed stack or the local one.
#
#   infra/smoke.sh <stack-name>      a stack in your account: reads its outputs, makes three
#                                    users in its user pool with the admin API, runs the test,
#                                    and deletes the users (needs the aws CLI, jq, credentials)
#   infra/smoke.sh --local [URL]     the local stack (`cargo run`, default http://127.0.0.1:3000),
#                                    with tokens from its /dev/token (needs curl and jq)
#
# The test itself is `cargo run --release -p tests --bin smoke` (or $SMOKE_BIN when set); it
# prints one line per check and fails at the first that does not hold. The test command runs
# both forms against the local stack, the first with moto standing in for CloudFormation and
# Cognito (tests/tests/smoke.rs), so this script cannot rot.
set -euo pipefail
cd "$(dirname "$0")/.."

smoke() {
  if [ -n "${SMOKE_BIN:-}" ]; then "$SMOKE_BIN" "$@"; else
    cargo run -q --release --locked -p tests --bin smoke -- "$@"
  fi
}

# Exports NAME_ID and NAME_TOKEN for one person.
person() { # name id token
  local upper
  upper=$(tr '[:lower:]' '[:upper:]' <<<"$1")
  export "${upper}_ID=$2" "${upper}_TOKEN=$3"
}

if [ "${1:-}" = "--local" ]; then
  api="${2:-http://127.0.0.1:3000}"
  for who in alice bob carol; do
    token=$(curl -sf -X POST "$api/dev/token" -d "{\"userId\":\"$who\"}" | jq -r .token)
    person "$who" "$who" "$token"
  done
  smoke --api "$api" --ws "${api/#http/ws}/ws"
  exit
fi

stack="${1:?usage: infra/smoke.sh <stack-name> | --local [URL]}"
outputs=$(aws cloudformation describe-stacks --stack-name "$stack" \
  --query 'Stacks[0].Outputs' --output json)
output() { jq -r --arg key "$1" '.[] | select(.OutputKey == $key) | .OutputValue' <<<"$outputs"; }
api=$(output RestApiUrl)
ws=$(output WebSocketUrl)
pool=$(output UserPoolId)
client=$(output UserPoolClientId)
if [ -z "$pool" ] || [ -z "$client" ]; then
  echo "$stack has no user pool of its own (JwtIssuer is set): sign three users in with your" >&2
  echo "issuer, export ALICE_ID/_TOKEN, BOB_.., CAROL_.. and run the smoke binary with" >&2
  echo "--api $api --ws $ws" >&2
  exit 2
fi

# Three users of this run, deleted again however the test ends.
run="$(date +%s)-$RANDOM"
password="Smoke-$RANDOM$RANDOM-Aa1!"
made=()
forget() {
  for user in "${made[@]}"; do
    aws cognito-idp admin-delete-user --user-pool-id "$pool" --username "$user" || true
  done
}
trap forget EXIT
for who in alice bob carol; do
  email="smoke-$who-$run@example.com"
  aws cognito-idp admin-create-user --user-pool-id "$pool" --username "$email" \
    --user-attributes Name=email,Value="$email" Name=email_verified,Value=true Name=name,Value="$who" \
    --message-action SUPPRESS >/dev/null
  made+=("$email")
  aws cognito-idp admin-set-user-password --user-pool-id "$pool" --username "$email" \
    --password "$password" --permanent
  token=$(aws cognito-idp admin-initiate-auth --user-pool-id "$pool" --client-id "$client" \
    --auth-flow ADMIN_USER_PASSWORD_AUTH \
    --auth-parameters "$(jq -cn --arg u "$email" --arg p "$password" '{USERNAME: $u, PASSWORD: $p}')" \
    --query AuthenticationResult.IdToken --output text)
  sub=$(aws cognito-idp admin-get-user --user-pool-id "$pool" --username "$email" \
    --query "UserAttributes[?Name=='sub'].Value | [0]" --output text)
  person "$who" "$sub" "$token"
done
smoke --api "$api" --ws "$ws"
