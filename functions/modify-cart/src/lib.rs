//! modifyCart (`PATCH /carts/{cartId}`): a batch of line changes applied atomically. With
//! `If-Match` or `expectedVersion` the batch applies only to that version (else 409 with the
//! current one; naming two different versions is a 409 as well); without, it applies to the
//! latest.

use domain::CartService;
use domain::commands::LineChange;
use edge::{Caller, Problem, Request, Response, request, respond};
use http::StatusCode;
use serde::Deserialize;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct ModifyCart {
    #[serde(default, deserialize_with = "edge::request::optional_whole_number")]
    expected_version: Option<i64>,
    changes: Vec<Change>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct Change {
    item_id: String,
    #[serde(deserialize_with = "edge::request::whole_number")]
    quantity: i64,
}

/// Answers one modifyCart request.
pub async fn handle(carts: &CartService, request: Request) -> Response {
    respond::outcome(modify(carts, &request).await)
}

async fn modify(carts: &CartService, request: &Request) -> Result<Response, Problem> {
    let caller = Caller::from_request(request)?;
    // Each change keeps the caller's display name in the cart, for its members to see.
    let carts = &carts.acting_as(caller.name.as_deref());
    let cart_id = request::cart_id(request)?;
    let body: ModifyCart = request::json_body(request)?;
    let field = body
        .expected_version
        .map(|v| {
            u64::try_from(v).map_err(|_| {
                domain::ValidationError::new("expectedVersion", "must be a version, 1 or more")
            })
        })
        .transpose()?;
    let expected = match (request::if_match(request)?, field) {
        // Two preconditions naming different versions: the cart cannot be at both, so the
        // request is refused as any failed precondition is, with the version it is at.
        (Some(header), Some(field)) if header != field => {
            let cart = carts.get(&caller.user_id, cart_id).await?;
            let current = cart.version;
            let expected = if header == current { field } else { header };
            return Err(domain::CartError::VersionConflict { expected, current }.into());
        }
        (header, field) => header.or(field),
    };
    let raw: Vec<(String, i64)> = body
        .changes
        .into_iter()
        .map(|c| (c.item_id, c.quantity))
        .collect();
    let changes = LineChange::parse_batch(&raw)?;
    let cart = carts
        .modify(&caller.user_id, cart_id, expected, &changes)
        .await?;
    Ok(respond::cart(StatusCode::OK, &cart))
}
