//! The JWT authorizer: API Gateway calls it with the `Authorization` header (a TOKEN authorizer)
//! and caches the answer per token. A valid HS256 token for our issuer and audience yields an
//! Allow policy for the whole API, with the user id, name and scopes in the context that API
//! Gateway hands every function; anything else is `Unauthorized` (401).

use aws_lambda_events::apigw::{
    ApiGatewayCustomAuthorizerPolicy, ApiGatewayCustomAuthorizerRequest,
    ApiGatewayCustomAuthorizerResponse,
};
use aws_lambda_events::iam::{IamPolicyEffect, IamPolicyStatement};
use edge::identity::context_keys;
use serde_json::json;
use token::{Claims, TokenKeys};

/// The one error API Gateway turns into a 401: its message must be exactly this.
pub const UNAUTHORIZED: &str = "Unauthorized";

/// Why a request was refused; only logged, the caller always sees 401.
#[derive(Debug, PartialEq, Eq)]
pub enum Refusal {
    /// No `Bearer` token in the header.
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

/// Checks the token and returns the claims it carries.
pub fn verify(keys: &TokenKeys, authorization: Option<&str>, now: i64) -> Result<Claims, Refusal> {
    let token = authorization
        .and_then(bearer)
        .ok_or(Refusal::NoBearerToken)?;
    keys.verify(token, now).map_err(Refusal::Invalid)
}

/// The context API Gateway passes on as `requestContext.authorizer`: flat strings only.
pub fn context(claims: &Claims) -> serde_json::Value {
    json!({
        context_keys::USER_ID: claims.sub,
        context_keys::NAME: claims.name.clone().unwrap_or_default(),
        context_keys::SCOPES: claims.scope,
    })
}

/// The authorizer's answer to one event.
pub fn authorize(
    keys: &TokenKeys,
    event: &ApiGatewayCustomAuthorizerRequest,
    now: i64,
) -> Result<ApiGatewayCustomAuthorizerResponse, Refusal> {
    let claims = verify(keys, event.authorization_token.as_deref(), now)?;
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

    const NOW: i64 = 1_800_000_000;

    fn keys() -> TokenKeys {
        TokenKeys::new(
            "0123456789abcdef0123456789abcdef",
            "shared-carts",
            "shared-carts-api",
        )
    }

    fn event(authorization: &str) -> ApiGatewayCustomAuthorizerRequest {
        serde_json::from_str(
            &include_str!("../../../events/authorizer.json")
                .replace("Bearer SAMPLE", authorization),
        )
        .unwrap()
    }

    #[test]
    fn a_valid_token_allows_the_whole_stage_and_names_the_user() {
        let token = keys().issue("alice", Some("Alice"), &["admin"], NOW, 60);
        let response = authorize(&keys(), &event(&format!("Bearer {token}")), NOW).unwrap();
        assert_eq!(response.principal_id.as_deref(), Some("alice"));
        assert_eq!(
            response.policy_document.statement[0].resource,
            ["arn:aws:execute-api:eu-west-1:123456789012:abcdef1234/prod/*"]
        );
        assert_eq!(response.context["userId"], "alice");
        assert_eq!(response.context["scopes"], "admin");
    }

    #[test]
    fn the_sample_event_without_a_real_token_is_refused() {
        assert!(matches!(
            authorize(&keys(), &event("Bearer SAMPLE"), NOW),
            Err(Refusal::Invalid(_))
        ));
    }

    #[test]
    fn a_missing_or_non_bearer_header_is_refused() {
        assert_eq!(verify(&keys(), None, NOW), Err(Refusal::NoBearerToken));
        assert_eq!(
            verify(&keys(), Some("Basic YWxpY2U6"), NOW),
            Err(Refusal::NoBearerToken)
        );
        assert_eq!(
            verify(&keys(), Some("Bearer "), NOW),
            Err(Refusal::NoBearerToken)
        );
    }
}
