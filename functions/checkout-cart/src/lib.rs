//! checkoutCart (`POST /carts/{cartId}/checkout`): an owner or editor checks the cart out after
//! every line is validated against the catalog's current stock and price. Moved prices are saved
//! to the cart and answered with 409 `PRICE_CHANGED`, so members review them first.

use domain::CartService;
use edge::{Caller, Problem, Request, Response, request, respond};
use http::StatusCode;

/// Answers one checkoutCart request.
pub async fn handle(carts: &CartService, request: Request) -> Response {
    respond::outcome(checkout(carts, &request).await)
}

async fn checkout(carts: &CartService, request: &Request) -> Result<Response, Problem> {
    let caller = Caller::from_request(request)?;
    // Each change keeps the caller's display name in the cart, for its members to see.
    let carts = &carts.acting_as(caller.name.as_deref());
    let cart = carts
        .checkout(&caller.user_id, request::cart_id(request)?)
        .await?;
    Ok(respond::cart(StatusCode::OK, &cart))
}
