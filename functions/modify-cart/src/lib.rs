//! modifyCart (`PATCH /carts/{cartId}`): a batch of line changes applied atomically. With
//! `If-Match` or `expectedVersion` the batch applies only to that version (else 409 with the
//! current one); without, it applies to the latest.

use domain::CartService;
use domain::commands::LineChange;
use edge::{Caller, Problem, Request, Response, request, respond};
use http::StatusCode;
use serde::Deserialize;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct ModifyCart {
    expected_version: Option<u64>,
    changes: Vec<Change>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct Change {
    item_id: String,
    quantity: i64,
}

/// Answers one modifyCart request.
pub async fn handle(carts: &CartService, request: Request) -> Response {
    respond::outcome(modify(carts, &request).await)
}

async fn modify(carts: &CartService, request: &Request) -> Result<Response, Problem> {
    let caller = Caller::from_request(request)?;
    let cart_id = request::cart_id(request)?;
    let body: ModifyCart = request::json_body(request)?;
    let expected = match (request::if_match(request)?, body.expected_version) {
        (Some(header), Some(field)) if header != field => {
            return Err(domain::ValidationError::new(
                "expectedVersion",
                "disagrees with the If-Match header",
            )
            .into());
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
