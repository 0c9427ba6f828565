//! getUserDetails (`GET /me`): the User service's view of the caller: id, display name (from the
//! token) and the ids of their carts.

use domain::{CartId, CartService, UserId};
use edge::{Caller, Problem, Request, Response, respond};
use http::StatusCode;
use serde::Serialize;

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct UserDetails<'a> {
    user_id: &'a UserId,
    display_name: &'a str,
    cart_ids: Vec<CartId>,
}

/// Answers one getUserDetails request.
pub async fn handle(carts: &CartService, request: Request) -> Response {
    respond::outcome(details(carts, &request).await)
}

async fn details(carts: &CartService, request: &Request) -> Result<Response, Problem> {
    let caller = Caller::from_request(request)?;
    let cart_ids = carts
        .carts_of(&caller.user_id)
        .await?
        .into_iter()
        .map(|c| c.cart_id)
        .collect();
    let details = UserDetails {
        user_id: &caller.user_id,
        display_name: caller.display_name(),
        cart_ids,
    };
    Ok(respond::json(StatusCode::OK, &details))
}
