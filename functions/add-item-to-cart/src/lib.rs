//! addItemToCart (`POST /carts/{cartId}/items`): more of an item. The item must be in the
//! catalog with the stock; adding an item already in the cart adds to its line. Concurrent adds
//! by many members all land (the service retries on a version conflict).

use domain::{CartService, ItemId, Quantity};
use edge::{Caller, Problem, Request, Response, request, respond};
use http::StatusCode;
use serde::Deserialize;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct AddItem {
    item_id: String,
    #[serde(deserialize_with = "edge::request::whole_number")]
    quantity: i64,
}

/// Answers one addItemToCart request.
pub async fn handle(carts: &CartService, request: Request) -> Response {
    respond::outcome(add(carts, &request).await)
}

async fn add(carts: &CartService, request: &Request) -> Result<Response, Problem> {
    let caller = Caller::from_request(request)?;
    // Each change keeps the caller's display name in the cart, for its members to see.
    let carts = &carts.acting_as(caller.name.as_deref());
    let cart_id = request::cart_id(request)?;
    let body: AddItem = request::json_body(request)?;
    let item = ItemId::parse(&body.item_id)?;
    let quantity = Quantity::try_from(body.quantity)?;
    let cart = carts
        .add_item(&caller.user_id, cart_id, &item, quantity)
        .await?;
    Ok(respond::cart(StatusCode::OK, &cart))
}
