//! lockCart (`POST /carts/{cartId}/lock`): the owner locks the cart for checkout, so its lines
//! hold still while the group pays; every member sees it. Locking again extends the lock.

use domain::CartService;
use edge::{Caller, Problem, Request, Response, request, respond};
use http::StatusCode;

/// Answers one lockCart request.
pub async fn handle(carts: &CartService, request: Request) -> Response {
    respond::outcome(lock(carts, &request).await)
}

async fn lock(carts: &CartService, request: &Request) -> Result<Response, Problem> {
    let caller = Caller::from_request(request)?;
    // Each change keeps the caller's display name in the cart, for its members to see.
    let carts = &carts.acting_as(caller.name.as_deref());
    let cart = carts
        .lock(&caller.user_id, request::cart_id(request)?)
        .await?;
    Ok(respond::cart(StatusCode::OK, &cart))
}
