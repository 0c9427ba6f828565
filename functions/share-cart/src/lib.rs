//! shareCart (`POST /carts/{cartId}/members`): the owner makes users members with a role
//! (`editor` or `viewer`), or changes the role of existing ones.

use domain::{CartService, Role, UserId, ValidationError};
use edge::{Caller, Problem, Request, Response, request, respond};
use http::StatusCode;
use serde::Deserialize;

/// The most users one share call names.
pub const MAX_USERS_PER_CALL: usize = domain::cart::MAX_USERS_PER_SHARE;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct ShareCart {
    user_ids: Vec<String>,
    role: String,
}

/// Answers one shareCart request.
pub async fn handle(carts: &CartService, request: Request) -> Response {
    respond::outcome(share(carts, &request).await)
}

async fn share(carts: &CartService, request: &Request) -> Result<Response, Problem> {
    let caller = Caller::from_request(request)?;
    // Each change keeps the caller's display name in the cart, for its members to see.
    let carts = &carts.acting_as(caller.name.as_deref());
    let cart_id = request::cart_id(request)?;
    let body: ShareCart = request::json_body(request)?;
    if body.user_ids.is_empty() || body.user_ids.len() > MAX_USERS_PER_CALL {
        return Err(ValidationError::new(
            "userIds",
            format!("must name 1 to {MAX_USERS_PER_CALL} users"),
        )
        .into());
    }
    let users = body
        .user_ids
        .iter()
        .map(|u| UserId::parse_field("userIds", u))
        .collect::<Result<Vec<_>, _>>()?;
    let role = Role::parse_grantable(&body.role)?;
    let cart = carts.share(&caller.user_id, cart_id, &users, role).await?;
    Ok(respond::cart(StatusCode::OK, &cart))
}
