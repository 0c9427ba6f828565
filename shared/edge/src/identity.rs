//! Who is calling, as the authorizer told API Gateway: identity never comes from the body.

use crate::problem::Problem;
use domain::UserId;
use lambda_http::RequestExt;
use lambda_http::request::RequestContext;

/// The keys the authorizer puts in its context, which API Gateway hands every function under
/// `requestContext.authorizer`.
pub mod context_keys {
    /// The caller's user id (the token's `sub`).
    pub const USER_ID: &str = "userId";
    /// The caller's display name, when the token has one.
    pub const NAME: &str = "name";
    /// The caller's verified email, when the token has one.
    pub const EMAIL: &str = "email";
    /// The name the caller signs in or is known by, when the token has one.
    pub const USER_NAME: &str = "userName";
    /// Space-separated scopes.
    pub const SCOPES: &str = "scopes";
    /// API Gateway's own copy of the principal (the user id).
    pub const PRINCIPAL_ID: &str = "principalId";
    /// The last second the token verifies (its `exp` and the verifier's leeway, seconds since
    /// the epoch).
    pub const EXPIRES_AT: &str = "expiresAt";
}

/// The authenticated caller of a request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Caller {
    /// Their user id.
    pub user_id: UserId,
    /// Their display name, if the token had one.
    pub name: Option<String>,
    /// Their verified email, if the token had one.
    pub email: Option<String>,
    /// The name they sign in or are known by, if the token had one.
    pub user_name: Option<String>,
    /// Their scopes.
    pub scopes: Vec<String>,
}

impl Caller {
    /// The caller named by the authorizer context of `request`; 401 if there is none (a route
    /// deployed without the authorizer), or if the token it came from has expired.
    ///
    /// API Gateway caches the authorizer's answer per token for a fixed time (300 s here; a REST
    /// authorizer's TTL is one number for every token, "AWS::ApiGateway::Authorizer"), so a token
    /// could act for up to that long after its `exp`. The context carries the `exp`, so the
    /// function refuses such a request itself: a token never outlives its own life.
    pub fn from_request(request: &lambda_http::Request) -> Result<Caller, Problem> {
        Self::from_request_at(request, chrono::Utc::now().timestamp())
    }

    /// [`Caller::from_request`] at `now` (seconds since the epoch).
    pub(crate) fn from_request_at(
        request: &lambda_http::Request,
        now: i64,
    ) -> Result<Caller, Problem> {
        let fields = match request.request_context_ref() {
            Some(context @ RequestContext::ApiGatewayV1(_)) => {
                context.authorizer().map(|a| &a.fields)
            }
            _ => None,
        }
        .ok_or_else(Problem::unauthenticated)?;
        let text = |key: &str| {
            fields
                .get(key)
                .and_then(|v| v.as_str())
                .filter(|s| !s.is_empty())
        };
        let user = text(context_keys::USER_ID)
            .or_else(|| text(context_keys::PRINCIPAL_ID))
            .ok_or_else(Problem::unauthenticated)?;
        // A string or a number, as API Gateway may hand either on.
        let expires_at = fields.get(context_keys::EXPIRES_AT).and_then(|v| {
            v.as_i64()
                .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
        });
        if expires_at.is_some_and(|last| now > last) {
            return Err(Problem::token_expired());
        }
        Ok(Caller {
            user_id: UserId::parse(user).map_err(|_| Problem::unauthenticated())?,
            name: text(context_keys::NAME).map(str::to_owned),
            email: text(context_keys::EMAIL).map(str::to_owned),
            user_name: text(context_keys::USER_NAME).map(str::to_owned),
            scopes: text(context_keys::SCOPES)
                .map(|s| s.split_ascii_whitespace().map(str::to_owned).collect())
                .unwrap_or_default(),
        })
    }

    /// 403 unless the caller has `scope`.
    pub fn require_scope(&self, scope: &str) -> Result<(), Problem> {
        if self.scopes.iter().any(|s| s == scope) {
            Ok(())
        } else {
            Err(Problem::missing_scope(scope))
        }
    }

    /// The name to show for the caller: the token's name, else the user id.
    pub fn display_name(&self) -> &str {
        self.name.as_deref().unwrap_or(self.user_id.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{request, sample_event};

    const NOW: i64 = 1_800_000_000;

    fn as_alice_until(expires_at: serde_json::Value) -> lambda_http::Request {
        let mut event = sample_event("get-cart");
        event["requestContext"]["authorizer"]["userId"] = "alice".into();
        event["requestContext"]["authorizer"][context_keys::EXPIRES_AT] = expires_at;
        request(&event)
    }

    #[test]
    fn a_token_the_authorizer_cached_is_refused_once_it_would_no_longer_verify() {
        for last in [serde_json::json!(NOW.to_string()), serde_json::json!(NOW)] {
            let refused = Caller::from_request_at(&as_alice_until(last.clone()), NOW + 1);
            assert_eq!(
                refused.err().map(|p| p.status.as_u16()),
                Some(401),
                "{last}"
            );
            let earlier = Caller::from_request_at(&as_alice_until(last), NOW);
            assert_eq!(
                earlier
                    .map(|c| c.user_id.as_str().to_owned())
                    .ok()
                    .as_deref(),
                Some("alice")
            );
        }
    }
}
