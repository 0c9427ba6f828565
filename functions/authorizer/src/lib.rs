//! The JWT authorizer. The REST API calls it as a TOKEN authorizer with the `Authorization`
//! header; the WebSocket API calls it as a REQUEST authorizer on `$connect`, with the token in
//! the query string (`?token=`), since a browser cannot set headers on a handshake. API Gateway
//! caches the answer per token.
//!
//! A valid token (HS256 with the shared secret, or RS256/ES256 of the configured OIDC issuer:
//! see [`token::Verifier`]) yields an Allow policy for the whole API, with the user id, name and
//! scopes in the context that API Gateway hands every function; anything else is `Unauthorized`
//! (401).

use aws_lambda_events::apigw::{
    ApiGatewayCustomAuthorizerPolicy, ApiGatewayCustomAuthorizerResponse,
};
use aws_lambda_events::iam::{IamPolicyEffect, IamPolicyStatement};
use edge::identity::context_keys;
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::collections::HashMap;
use token::{Claims, Verifier};

/// What API Gateway sends a TOKEN authorizer (`authorizationToken`) or a REQUEST authorizer
/// (`queryStringParameters`, among fields this function does not read).
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AuthorizerRequest {
    /// `TOKEN` or `REQUEST`.
    #[serde(rename = "type", default)]
    pub kind: Option<String>,
    /// A TOKEN authorizer's `Authorization` header.
    #[serde(default)]
    pub authorization_token: Option<String>,
    /// The method (REST) or route (WebSocket) being called.
    #[serde(default)]
    pub method_arn: Option<String>,
    /// A REQUEST authorizer's query string.
    #[serde(default)]
    pub query_string_parameters: Option<HashMap<String, String>>,
}

impl AuthorizerRequest {
    /// The token the request carries: the bearer token of the header, or the `token` query
    /// parameter of a WebSocket handshake.
    pub fn token(&self) -> Option<&str> {
        match self.kind.as_deref() {
            Some("REQUEST") => self
                .query_string_parameters
                .as_ref()?
                .get("token")
                .map(String::as_str)
                .filter(|t| !t.is_empty()),
            _ => self.authorization_token.as_deref().and_then(bearer),
        }
    }
}

/// The one error API Gateway turns into a 401: its message must be exactly this.
pub const UNAUTHORIZED: &str = "Unauthorized";

/// Why a request was refused; only logged, the caller always sees 401.
#[derive(Debug, PartialEq, Eq)]
pub enum Refusal {
    /// No `Bearer` token in the header (or no `token` in a handshake's query).
    NoBearerToken,
    /// The token did not verify.
    Invalid(token::TokenError),
}

/// The bearer token of an `Authorization` header value, if it has one.
pub fn bearer(header: &str) -> Option<&str> {
    let (scheme, token) = header.trim().split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then_some(token.trim())
        .filter(|t| !t.is_empty())
}

/// Checks the request's token and returns the claims it carries.
pub async fn verify(
    verifier: &Verifier,
    event: &AuthorizerRequest,
    now: i64,
) -> Result<Claims, Refusal> {
    let token = event.token().ok_or(Refusal::NoBearerToken)?;
    verifier.verify(token, now).await.map_err(Refusal::Invalid)
}

/// The context API Gateway passes on as `requestContext.authorizer`: flat strings only.
pub fn context(claims: &Claims) -> serde_json::Value {
    json!({
        context_keys::USER_ID: claims.sub,
        context_keys::NAME: claims.name.clone().unwrap_or_default(),
        context_keys::EMAIL: claims.email.clone().unwrap_or_default(),
        context_keys::USER_NAME: claims.user_name.clone().unwrap_or_default(),
        context_keys::SCOPES: claims.scope,
        // When the token stops verifying (its exp and the verifier's leeway): the edge refuses
        // the request after that, whatever API Gateway cached.
        context_keys::EXPIRES_AT: (claims.exp + token::LEEWAY_SECS).to_string(),
    })
}

/// The authorizer's answer to one event.
pub async fn authorize(
    verifier: &Verifier,
    event: &AuthorizerRequest,
    now: i64,
) -> Result<ApiGatewayCustomAuthorizerResponse, Refusal> {
    let claims = verify(verifier, event, now).await?;
    let mut response = ApiGatewayCustomAuthorizerResponse::default();
    response.principal_id = Some(claims.sub.clone());
    response.policy_document = allow_whole_api(event.method_arn.as_deref().unwrap_or_default());
    response.context = context(&claims);
    Ok(response)
}

/// Allows every method of the API the request came through. API Gateway caches the policy per
/// token, so a policy for only the first method called would deny the caller's next request.
fn allow_whole_api(method_arn: &str) -> ApiGatewayCustomAuthorizerPolicy {
    // arn:aws:execute-api:region:account:api-id/stage/METHOD/resource -> .../api-id/stage/*
    let resource = match method_arn.splitn(3, '/').collect::<Vec<_>>().as_slice() {
        [api, stage, _] => format!("{api}/{stage}/*"),
        _ => method_arn.to_owned(),
    };
    let mut statement = IamPolicyStatement::default();
    statement.action = vec!["execute-api:Invoke".into()];
    statement.effect = IamPolicyEffect::Allow;
    statement.resource = vec![resource];
    let mut policy = ApiGatewayCustomAuthorizerPolicy::default();
    policy.version = Some("2012-10-17".into());
    policy.statement = vec![statement];
    policy
}

#[cfg(test)]
mod tests {
    use super::*;
    use token::TokenKeys;

    const NOW: i64 = 1_800_000_000;

    fn keys() -> TokenKeys {
        TokenKeys::new(
            "0123456789abcdef0123456789abcdef",
            "shared-carts",
            "shared-carts-api",
        )
    }

    fn verifier() -> Verifier {
        keys().into()
    }

    fn event(authorization: &str) -> AuthorizerRequest {
        serde_json::from_str(
            &include_str!("../../../events/authorizer.json")
                .replace("Bearer SAMPLE", authorization),
        )
        .unwrap()
    }

    fn handshake(token: &str) -> AuthorizerRequest {
        serde_json::from_str(
            &include_str!("../../../events/authorizer-websocket.json").replace("SAMPLE", token),
        )
        .unwrap()
    }

    #[tokio::test]
    async fn a_valid_token_allows_the_whole_stage_and_names_the_user() {
        let token = keys().issue("alice", Some("Alice"), &["admin"], NOW, 60);
        let response = authorize(&verifier(), &event(&format!("Bearer {token}")), NOW)
            .await
            .unwrap();
        assert_eq!(response.principal_id.as_deref(), Some("alice"));
        assert_eq!(
            response.policy_document.statement[0].resource,
            ["arn:aws:execute-api:eu-west-1:123456789012:abcdef1234/prod/*"]
        );
        assert_eq!(response.context["userId"], "alice");
        assert_eq!(response.context["scopes"], "admin");
        assert_eq!(
            response.context["expiresAt"],
            (NOW + 60 + token::LEEWAY_SECS).to_string(),
            "when the token stops verifying rides along, for the functions to check"
        );
    }

    /// What API Gateway would hand a function from a cached answer for `claims`.
    fn request_with_context_of(claims: &Claims) -> edge::Request {
        let mut event = edge::testing::sample_event("get-cart");
        event["requestContext"]["authorizer"] = context(claims);
        edge::testing::request(&event)
    }

    #[test]
    fn a_cached_answer_lets_its_token_in_only_while_the_token_would_still_verify() {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs() as i64)
            .unwrap_or_default();
        let claims = |exp: i64| -> Claims {
            serde_json::from_value(json!({
                "sub": "alice", "iss": "shared-carts", "aud": "shared-carts-api", "exp": exp,
            }))
            .unwrap()
        };
        let valid = claims(now + 60);
        assert!(edge::Caller::from_request(&request_with_context_of(&valid)).is_ok());
        // Past its exp but inside the leeway, the token still verifies, and the function agrees.
        let in_leeway = claims(now - token::LEEWAY_SECS + 5);
        assert!(edge::Caller::from_request(&request_with_context_of(&in_leeway)).is_ok());
        let stale = claims(now - token::LEEWAY_SECS - 5);
        let refused = edge::Caller::from_request(&request_with_context_of(&stale));
        assert_eq!(refused.err().map(|p| p.status.as_u16()), Some(401));
    }

    #[tokio::test]
    async fn a_websocket_handshake_is_authorized_by_its_query_token() {
        let token = keys().issue("bob", None, &[], NOW, 60);
        let response = authorize(&verifier(), &handshake(&token), NOW)
            .await
            .unwrap();
        assert_eq!(response.principal_id.as_deref(), Some("bob"));
        assert_eq!(
            response.policy_document.statement[0].resource,
            ["arn:aws:execute-api:eu-west-1:123456789012:wsapi12345/prod/*"]
        );
        assert_eq!(
            verify(&verifier(), &handshake(""), NOW).await,
            Err(Refusal::NoBearerToken)
        );
    }

    #[tokio::test]
    async fn the_events_sam_generates_are_understood() {
        let token = keys().issue("carol", None, &[], NOW, 60);
        let mut rest: AuthorizerRequest =
            serde_json::from_str(include_str!("../../../events/sam/authorizer.json")).unwrap();
        rest.authorization_token = Some(format!("Bearer {token}"));
        let mut handshake: AuthorizerRequest =
            serde_json::from_str(include_str!("../../../events/sam/authorizer-request.json"))
                .unwrap();
        handshake
            .query_string_parameters
            .get_or_insert_default()
            .insert("token".into(), token);
        for event in [rest, handshake] {
            let response = authorize(&verifier(), &event, NOW).await.unwrap();
            assert_eq!(response.principal_id.as_deref(), Some("carol"));
        }
    }

    #[tokio::test]
    async fn the_sample_event_without_a_real_token_is_refused() {
        assert!(matches!(
            authorize(&verifier(), &event("Bearer SAMPLE"), NOW).await,
            Err(Refusal::Invalid(_))
        ));
    }

    #[tokio::test]
    async fn a_missing_or_non_bearer_header_is_refused() {
        let mut missing = event("");
        missing.authorization_token = None;
        for request in [missing, event("Basic YWxpY2U6"), event("Bearer ")] {
            assert_eq!(
                verify(&verifier(), &request, NOW).await,
                Err(Refusal::NoBearerToken)
            );
        }
    }
}
