//! getItemDetails (`GET /items/{itemId}`): the Item service's view of one item: name, price,
//! stock.

use domain::{CartError, ItemId, ItemService};
use edge::{Caller, Problem, Request, Response, request, respond};
use http::StatusCode;

/// Answers one getItemDetails request.
pub async fn handle(items: &ItemService, request: Request) -> Response {
    respond::outcome(details(items, &request).await)
}

async fn details(items: &ItemService, request: &Request) -> Result<Response, Problem> {
    Caller::from_request(request)?;
    let id = ItemId::parse(&request::path_param(request, "itemId")?)?;
    match items.item(&id).await {
        Ok(item) => Ok(respond::json(StatusCode::OK, &item)),
        // Here the item is the resource itself, so its absence is a plain 404.
        Err(e @ CartError::UnknownItem(_)) => Err(Problem {
            status: StatusCode::NOT_FOUND,
            ..Problem::from(e)
        }),
        Err(e) => Err(e.into()),
    }
}
