//! unshareCart (`DELETE /carts/{cartId}/members/{userId}`): the owner removes a member (200 with
//! the cart), or a member leaves (204: they can no longer see it).

use domain::{CartService, UserId};
use edge::{Caller, Problem, Request, Response, request, respond};
use http::StatusCode;

/// Answers one unshareCart request.
pub async fn handle(carts: &CartService, request: Request) -> Response {
    respond::outcome(unshare(carts, &request).await)
}

async fn unshare(carts: &CartService, request: &Request) -> Result<Response, Problem> {
    let caller = Caller::from_request(request)?;
    // Each change keeps the caller's display name in the cart, for its members to see.
    let carts = &carts.acting_as(caller.name.as_deref());
    let cart_id = request::cart_id(request)?;
    let target = UserId::parse(&request::path_param(request, "userId")?)?;
    let cart = carts.unshare(&caller.user_id, cart_id, &target).await?;
    if target == caller.user_id {
        Ok(respond::no_content())
    } else {
        Ok(respond::cart(StatusCode::OK, &cart))
    }
}
