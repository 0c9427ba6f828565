//! listItems (`GET /items`): the catalog in pages of `limit` (1..=100, default 20), continued
//! with the `nextToken` of the previous page.

use domain::{Item, ItemId, ItemService, ValidationError};
use edge::{Caller, Problem, Request, Response, request, respond};
use http::StatusCode;
use serde::Serialize;

/// Items per page unless the caller asks otherwise.
pub const DEFAULT_LIMIT: usize = 20;

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Page {
    items: Vec<Item>,
    #[serde(skip_serializing_if = "Option::is_none")]
    next_token: Option<ItemId>,
}

/// Answers one listItems request.
pub async fn handle(items: &ItemService, request: Request) -> Response {
    respond::outcome(list(items, &request).await)
}

async fn list(items: &ItemService, request: &Request) -> Result<Response, Problem> {
    Caller::from_request(request)?;
    let limit = match request::query_param(request, "limit") {
        None => DEFAULT_LIMIT,
        Some(raw) => raw
            .parse::<usize>()
            .ok()
            .filter(|n| (1..=domain::service::MAX_PAGE).contains(n))
            .ok_or_else(|| {
                ValidationError::new(
                    "limit",
                    format!("must be between 1 and {}", domain::service::MAX_PAGE),
                )
            })?,
    };
    // The token is the last item id of the previous page; one that does not parse was not ours.
    let after = request::query_param(request, "nextToken")
        .map(|t| {
            ItemId::parse(t).map_err(|_| {
                ValidationError::new("nextToken", "is not a token this API handed out")
            })
        })
        .transpose()?;
    let (items, next_token) = items.page(after.as_ref(), limit).await?;
    Ok(respond::json(StatusCode::OK, &Page { items, next_token }))
}
