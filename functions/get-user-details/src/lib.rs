//! getUserDetails (`GET /me`): the User service's view of the caller: id, display name, verified
//! email and user name (from the token) and the ids of their carts. It is also the sign-in: the
//! page calls it first, and it keeps the caller's profile in the directory whenever the token
//! says something new, so others can share carts with them by email or user name. A directory
//! that cannot keep it costs the answer nothing (the next sign-in tries again).

use domain::directory::{Directory, Email, Profile, UserName};
use domain::{CartId, CartService, UserId};
use edge::{Caller, Problem, Request, Response, respond};
use http::StatusCode;
use serde::Serialize;

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct UserDetails<'a> {
    user_id: &'a UserId,
    display_name: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    email: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    user_name: Option<&'a str>,
    cart_ids: Vec<CartId>,
}

/// Answers one getUserDetails request.
pub async fn handle(carts: &CartService, directory: &dyn Directory, request: Request) -> Response {
    respond::outcome(details(carts, directory, &request).await)
}

async fn details(
    carts: &CartService,
    directory: &dyn Directory,
    request: &Request,
) -> Result<Response, Problem> {
    let caller = Caller::from_request(request)?;
    let profile = profile_of(&caller);
    let (cart_ids, kept) = tokio::join!(carts.carts_of(&caller.user_id), keep(directory, &profile));
    if let Err(e) = kept {
        tracing::warn!(user_id = %caller.user_id, error = %e, "the profile was not kept; the next sign-in tries again");
    }
    let details = UserDetails {
        user_id: &caller.user_id,
        display_name: caller.display_name(),
        email: profile.email.as_ref().map(Email::as_str),
        user_name: profile.user_name.as_ref().map(UserName::as_str),
        cart_ids: cart_ids?.into_iter().map(|c| c.cart_id).collect(),
    };
    Ok(respond::json(StatusCode::OK, &details))
}

/// The caller's profile as their token states it (a claim that does not parse is left out).
fn profile_of(caller: &Caller) -> Profile {
    Profile {
        user_id: caller.user_id.clone(),
        name: caller.name.as_deref().and_then(domain::cart::display_name),
        email: caller
            .email
            .as_deref()
            .and_then(|e| Email::parse("email", e).ok()),
        user_name: caller
            .user_name
            .as_deref()
            .and_then(|n| UserName::parse("userName", n).ok()),
    }
}

/// Keeps `profile` unless the directory already has it as it is: one read per sign-in, and a
/// write only when something changed.
async fn keep(
    directory: &dyn Directory,
    profile: &Profile,
) -> Result<(), domain::ports::StoreError> {
    if directory.profile(&profile.user_id).await?.as_ref() != Some(profile) {
        directory.remember(profile).await?;
    }
    Ok(())
}
