//! shareCart (`POST /carts/{cartId}/members`): the owner makes users members with a role
//! (`editor` or `viewer`), or changes the role of existing ones. Users are named by id, by
//! verified email or by user name (`userIds`, `emails`, `userNames`), the last two as the
//! directory knows them from their sign-ins. A name that finds nobody, or more than one user,
//! refuses the whole share (422 `USER_UNKNOWN`, listing them): sharing never guesses.

use domain::directory::{Directory, Email, Handle, UserName, find_one};
use domain::{CartError, CartService, Role, UserId, ValidationError};
use edge::{Caller, Problem, Request, Response, request, respond};
use http::StatusCode;
use serde::Deserialize;

/// The most users one share call names, however they are named.
pub const MAX_USERS_PER_CALL: usize = domain::cart::MAX_USERS_PER_SHARE;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct ShareCart {
    #[serde(default)]
    user_ids: Vec<String>,
    #[serde(default)]
    emails: Vec<String>,
    #[serde(default)]
    user_names: Vec<String>,
    role: String,
}

/// Answers one shareCart request.
pub async fn handle(carts: &CartService, directory: &dyn Directory, request: Request) -> Response {
    respond::outcome(share(carts, directory, &request).await)
}

async fn share(
    carts: &CartService,
    directory: &dyn Directory,
    request: &Request,
) -> Result<Response, Problem> {
    let caller = Caller::from_request(request)?;
    // Each change keeps the caller's display name in the cart, for its members to see.
    let carts = &carts.acting_as(caller.name.as_deref());
    let cart_id = request::cart_id(request)?;
    let body: ShareCart = request::json_body(request)?;
    let named = body.user_ids.len() + body.emails.len() + body.user_names.len();
    if named == 0 || named > MAX_USERS_PER_CALL {
        return Err(ValidationError::new(
            "userIds",
            format!(
                "must name 1 to {MAX_USERS_PER_CALL} users (userIds, emails and userNames together)"
            ),
        )
        .into());
    }
    let mut users = body
        .user_ids
        .iter()
        .map(|u| UserId::parse_field("userIds", u))
        .collect::<Result<Vec<_>, _>>()?;
    let handles = handles(&body)?;
    let role = Role::parse_grantable(&body.role)?;
    if !handles.is_empty() {
        // Only the owner may learn whether an address signed in: anyone else gets the refusal
        // any share of theirs would, before the directory is asked.
        let cart = carts.get(&caller.user_id, cart_id).await?;
        domain::access::require_owner(&cart, &caller.user_id, "share the cart")?;
    }
    let mut unknown = Vec::new();
    for handle in handles {
        match find_one(directory, &handle).await {
            Ok(Some(user)) => users.push(user),
            Ok(None) => unknown.push(handle.to_string()),
            Err(e) => return Err(CartError::Unavailable(e).into()),
        }
    }
    if !unknown.is_empty() {
        return Err(Problem::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "USER_UNKNOWN",
            "no single user signed in with these; share by user id, or ask them to sign in first",
        )
        .with("unknown", unknown));
    }
    users.sort();
    users.dedup();
    let cart = carts.share(&caller.user_id, cart_id, &users, role).await?;
    Ok(respond::cart(StatusCode::OK, &cart))
}

/// The emails and user names of `body`, checked.
fn handles(body: &ShareCart) -> Result<Vec<Handle>, ValidationError> {
    let emails = body
        .emails
        .iter()
        .map(|e| Email::parse("emails", e).map(Handle::Email));
    let names = body
        .user_names
        .iter()
        .map(|n| UserName::parse("userNames", n).map(Handle::UserName));
    emails.chain(names).collect()
}
