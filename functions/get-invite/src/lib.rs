//! getInvite (`GET /invites/{token}`): what an invite link opens, for any signed-in holder, before
//! they join: whose cart, the role it gives, until when, how many are in it. A link that no
//! longer works answers why (`INVITE_EXPIRED`, `INVITE_REVOKED`, `INVITE_USED_UP`).

use domain::CartService;
use domain::invite::InviteToken;
use edge::{Caller, Problem, Request, Response, request, respond};
use http::StatusCode;

/// Answers one getInvite request.
pub async fn handle(carts: &CartService, request: Request) -> Response {
    respond::outcome(preview(carts, &request).await)
}

async fn preview(carts: &CartService, request: &Request) -> Result<Response, Problem> {
    let caller = Caller::from_request(request)?;
    let token = InviteToken::parse(&request::path_param(request, "token")?)?;
    let preview = carts.preview_invite(&caller.user_id, &token).await?;
    Ok(respond::json(StatusCode::OK, &preview))
}
