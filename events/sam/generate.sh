#!/usr/bin/env bash
# Writes the events in this directory with `sam local generate-event`, the shapes AWS's own
# tooling produces, then adds what API Gateway adds after the authorizer (its context) and
# what the function needs (a real body). The handler tests feed them to the functions beside
# the hand-written samples one directory up:
#
#   events/sam/generate.sh
set -euo pipefail
cd "$(dirname "$0")"
PATH="$(../../infra/tools.sh):$PATH"
export SAM_CLI_TELEMETRY=0

# The context our authorizer returns for alice, as API Gateway hands it to the function.
as_alice='.requestContext.authorizer = {"principalId": "alice", "userId": "alice", "name": "Alice", "scopes": ""}'

sam local generate-event apigateway aws-proxy --method POST --resource /carts --path carts \
  --body '{"currency":"EUR","items":[{"itemId":"apple","quantity":2}]}' --querystringparameters '{}' \
  | jq "$as_alice | .queryStringParameters = null | .multiValueQueryStringParameters = null" \
  > create-cart.json

sam local generate-event apigateway aws-proxy --method GET --resource '/items/{itemId}' \
  --path items/apple --body '' --querystringparameters '{}' \
  | jq "$as_alice | .pathParameters = {\"itemId\": \"apple\"} | .body = null
        | .queryStringParameters = null | .multiValueQueryStringParameters = null" \
  > get-item-details.json

sam local generate-event apigateway authorizer --method POST --resource /carts \
  | jq '.authorizationToken = "Bearer SAMPLE"' > authorizer.json

sam local generate-event apigateway request-authorizer > authorizer-request.json

# The outbox relay's batch: one cart event, as the functions write it to the outbox (sam
# splices --body into its JSON unescaped, so the body goes in afterwards).
body=$(jq -r '.Records[0].body' ../event-relay.json)
sam local generate-event sqs receive-message --queue-name carts-outbox --body PLACEHOLDER \
  | jq --arg body "$body" '.Records[0].body = $body' > event-relay.json
