//! listInvites (`GET /carts/{cartId}/invites`): the owner's view of the cart's invite links,
//! newest first, each with its state (`open`, `expired`, `revoked`, `used_up`) and uses; never
//! a token.

use domain::CartService;
use domain::service::now;
use edge::{Caller, Problem, Request, Response, request, respond};
use http::StatusCode;

/// Answers one listInvites request.
pub async fn handle(carts: &CartService, request: Request) -> Response {
    respond::outcome(list(carts, &request).await)
}

async fn list(carts: &CartService, request: &Request) -> Result<Response, Problem> {
    let caller = Caller::from_request(request)?;
    let invites = carts
        .invites(&caller.user_id, request::cart_id(request)?)
        .await?;
    let now = now();
    let views: Vec<_> = invites.iter().map(|i| i.view(now)).collect();
    Ok(respond::json(
        StatusCode::OK,
        &serde_json::json!({ "invites": views }),
    ))
}
