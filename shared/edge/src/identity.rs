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
    /// Space-separated scopes.
    pub const SCOPES: &str = "scopes";
    /// API Gateway's own copy of the principal (the user id).
    pub const PRINCIPAL_ID: &str = "principalId";
}

/// The authenticated caller of a request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Caller {
    /// Their user id.
    pub user_id: UserId,
    /// Their display name, if the token had one.
    pub name: Option<String>,
    /// Their scopes.
    pub scopes: Vec<String>,
}

impl Caller {
    /// The caller named by the authorizer context of `request`; 401 if there is none (a route
    /// deployed without the authorizer).
    pub fn from_request(request: &lambda_http::Request) -> Result<Caller, Problem> {
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
        Ok(Caller {
            user_id: UserId::parse(user).map_err(|_| Problem::unauthenticated())?,
            name: text(context_keys::NAME).map(str::to_owned),
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
