//! acceptInvite (`POST /invites/{token}/accept`): the signed-in holder of an invite link joins
//! its cart in the link's role, and gets the cart; every member hears `CartJoined`.

use domain::CartService;
use domain::invite::InviteToken;
use edge::{Caller, Problem, Request, Response, request, respond};
use http::StatusCode;

/// Answers one acceptInvite request.
pub async fn handle(carts: &CartService, request: Request) -> Response {
    respond::outcome(accept(carts, &request).await)
}

async fn accept(carts: &CartService, request: &Request) -> Result<Response, Problem> {
    let caller = Caller::from_request(request)?;
    // Each change keeps the caller's display name in the cart, for its members to see.
    let carts = &carts.acting_as(caller.name.as_deref());
    let token = InviteToken::parse(&request::path_param(request, "token")?)?;
    let cart = carts.accept_invite(&caller.user_id, &token).await?;
    Ok(respond::cart(StatusCode::OK, &cart))
}
