//! revokeInvite (`DELETE /carts/{cartId}/invites/{inviteId}`): the owner takes an invite link
//! back (204); whoever holds it is refused with `INVITE_REVOKED` from then on.

use domain::{CartService, ValidationError};
use edge::{Caller, Problem, Request, Response, request, respond};

/// Answers one revokeInvite request.
pub async fn handle(carts: &CartService, request: Request) -> Response {
    respond::outcome(revoke(carts, &request).await)
}

async fn revoke(carts: &CartService, request: &Request) -> Result<Response, Problem> {
    let caller = Caller::from_request(request)?;
    // Each change keeps the caller's display name in the cart, for its members to see.
    let carts = &carts.acting_as(caller.name.as_deref());
    let cart_id = request::cart_id(request)?;
    let invite_id = request::path_param(request, "inviteId")?;
    let lowercase_hex = |b: u8| b.is_ascii_digit() || (b'a'..=b'f').contains(&b);
    if invite_id.len() != 16 || !invite_id.bytes().all(lowercase_hex) {
        return Err(
            ValidationError::new("inviteId", "must be 16 lowercase hexadecimal digits").into(),
        );
    }
    carts
        .revoke_invite(&caller.user_id, cart_id, &invite_id)
        .await?;
    Ok(respond::no_content())
}
