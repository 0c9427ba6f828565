//! unlockCart (`DELETE /carts/{cartId}/lock`): the owner, or whoever locked the cart, releases
//! its checkout lock, so its lines may change again; every member sees it.

use domain::CartService;
use edge::{Caller, Problem, Request, Response, request, respond};
use http::StatusCode;

/// Answers one unlockCart request.
pub async fn handle(carts: &CartService, request: Request) -> Response {
    respond::outcome(unlock(carts, &request).await)
}

async fn unlock(carts: &CartService, request: &Request) -> Result<Response, Problem> {
    let caller = Caller::from_request(request)?;
    // Each change keeps the caller's display name in the cart, for its members to see.
    let carts = &carts.acting_as(caller.name.as_deref());
    let cart = carts
        .unlock(&caller.user_id, request::cart_id(request)?)
        .await?;
    Ok(respond::cart(StatusCode::OK, &cart))
}
