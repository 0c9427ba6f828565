//! removeItemFromCart (`DELETE /carts/{cartId}/items/{itemId}`): drop a line; 404 if the cart has
//! no line for the item.

use domain::{CartService, ItemId};
use edge::{Caller, Problem, Request, Response, request, respond};
use http::StatusCode;

/// Answers one removeItemFromCart request.
pub async fn handle(carts: &CartService, request: Request) -> Response {
    respond::outcome(remove(carts, &request).await)
}

async fn remove(carts: &CartService, request: &Request) -> Result<Response, Problem> {
    let caller = Caller::from_request(request)?;
    // Each change keeps the caller's display name in the cart, for its members to see.
    let carts = &carts.acting_as(caller.name.as_deref());
    let cart_id = request::cart_id(request)?;
    let item = ItemId::parse(&request::path_param(request, "itemId")?)?;
    let cart = carts.remove_item(&caller.user_id, cart_id, &item).await?;
    Ok(respond::cart(StatusCode::OK, &cart))
}
