//! getCart (`GET /carts/{cartId}`): the cart, for its members only.

use domain::CartService;
use edge::{Caller, Problem, Request, Response, request, respond};
use http::StatusCode;

/// Answers one getCart request.
pub async fn handle(carts: &CartService, request: Request) -> Response {
    respond::outcome(get(carts, &request).await)
}

async fn get(carts: &CartService, request: &Request) -> Result<Response, Problem> {
    let caller = Caller::from_request(request)?;
    let cart = carts
        .get(&caller.user_id, request::cart_id(request)?)
        .await?;
    Ok(respond::cart(StatusCode::OK, &cart))
}
