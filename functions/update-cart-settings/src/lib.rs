//! updateCartSettings (`PUT /carts/{cartId}/settings`): the owner says who may lock the cart for
//! checkout, `{"whoMayLock": "owner"}` (what a cart starts with) or `"editors"` (whoever of the
//! group pays may hold the lines still). Every member sees the change; a setting already in
//! force changes nothing.

use domain::{CartService, WhoMayLock};
use edge::{Caller, Problem, Request, Response, request, respond};
use http::StatusCode;
use serde::Deserialize;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct Settings {
    who_may_lock: String,
}

/// Answers one updateCartSettings request.
pub async fn handle(carts: &CartService, request: Request) -> Response {
    respond::outcome(update(carts, &request).await)
}

async fn update(carts: &CartService, request: &Request) -> Result<Response, Problem> {
    let caller = Caller::from_request(request)?;
    let id = request::cart_id(request)?;
    let settings: Settings = request::json_body(request)?;
    let who = WhoMayLock::parse(&settings.who_may_lock)?;
    // Each change keeps the caller's display name in the cart, for its members to see.
    let carts = &carts.acting_as(caller.name.as_deref());
    let cart = carts.set_who_may_lock(&caller.user_id, id, who).await?;
    Ok(respond::cart(StatusCode::OK, &cart))
}
