//! createInvite (`POST /carts/{cartId}/invites`): the owner creates an invite link, with a role
//! (`editor` by default, or `viewer`), a lifetime (7 days by default, at most 30) and an optional
//! use limit. The answer (201) holds the token, and the page's link when the deployment says
//! where the page is, shown this once: the cart keeps only the token's hash.

use domain::CartService;
use domain::invite::InviteTerms;
use domain::service::now;
use edge::request::{optional_json_body, optional_whole_number};
use edge::{Caller, Problem, Request, Response, request, respond};
use http::StatusCode;
use serde::{Deserialize, Serialize};

#[derive(Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct CreateInvite {
    #[serde(default, deserialize_with = "edge::request::not_null")]
    role: Option<String>,
    #[serde(default, deserialize_with = "optional_whole_number")]
    expires_in_days: Option<i64>,
    #[serde(default, deserialize_with = "optional_whole_number")]
    max_uses: Option<i64>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Created<'a> {
    #[serde(flatten)]
    invite: domain::invite::InviteView<'a>,
    token: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    url: Option<String>,
    cart_version: u64,
}

/// Answers one createInvite request; links point at `page` (the page's address, such as
/// `https://carts.example.com/`), and without one the answer holds the token alone.
pub async fn handle(carts: &CartService, page: Option<&str>, request: Request) -> Response {
    respond::outcome(create(carts, page, &request).await)
}

async fn create(
    carts: &CartService,
    page: Option<&str>,
    request: &Request,
) -> Result<Response, Problem> {
    let caller = Caller::from_request(request)?;
    // Each change keeps the caller's display name in the cart, for its members to see.
    let carts = &carts.acting_as(caller.name.as_deref());
    let cart_id = request::cart_id(request)?;
    let body: CreateInvite = optional_json_body(request)?.unwrap_or_default();
    // A negative number is out of range like any other: it must not wrap into one that fits.
    let count = |n: Option<i64>| n.map(|n| u64::try_from(n).unwrap_or(u64::MAX));
    let terms = InviteTerms::new(
        body.role.as_deref(),
        count(body.expires_in_days),
        count(body.max_uses),
    )?;
    let (invite, token, cart_version) =
        carts.create_invite(&caller.user_id, cart_id, terms).await?;
    let token = token.as_text();
    let url = page.map(|page| format!("{}?invite={token}", with_slash(page)));
    let created = Created {
        invite: invite.view(now()),
        token,
        url,
        cart_version,
    };
    Ok(respond::json(StatusCode::CREATED, &created))
}

fn with_slash(page: &str) -> String {
    if page.ends_with('/') {
        page.to_owned()
    } else {
        format!("{page}/")
    }
}

/// The origin `request` came to (its `Host`, behind `X-Forwarded-Proto`): where the local stack
/// serves the page. On AWS the REST API's origin serves no page, so a function is told where
/// the page is instead (`PAGE_URL`).
pub fn request_origin(request: &Request) -> String {
    let header = |name: &str| {
        request
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let host = header("host").unwrap_or_else(|| "localhost".to_owned());
    let scheme = header("x-forwarded-proto").unwrap_or_else(|| "http".to_owned());
    format!("{scheme}://{host}/")
}
