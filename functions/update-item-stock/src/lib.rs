//! updateItemStock (`PUT /items/{itemId}/stock`): sets an item's stock. Admin scope only.

use domain::{CartError, ItemId, ItemService};
use edge::{Caller, Problem, Request, Response, request, respond};
use http::StatusCode;
use serde::Deserialize;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct SetStock {
    #[serde(deserialize_with = "edge::request::whole_number")]
    stock: i64,
}

/// The scope this operation needs.
pub const REQUIRED_SCOPE: &str = "admin";

/// Answers one updateItemStock request.
pub async fn handle(items: &ItemService, request: Request) -> Response {
    respond::outcome(update(items, &request).await)
}

async fn update(items: &ItemService, request: &Request) -> Result<Response, Problem> {
    Caller::from_request(request)?.require_scope(REQUIRED_SCOPE)?;
    let id = ItemId::parse(&request::path_param(request, "itemId")?)?;
    let body: SetStock = request::json_body(request)?;
    match items.set_stock(&id, body.stock).await {
        Ok(item) => Ok(respond::json(StatusCode::OK, &item)),
        Err(e @ CartError::UnknownItem(_)) => Err(Problem {
            status: StatusCode::NOT_FOUND,
            ..Problem::from(e)
        }),
        Err(e) => Err(e.into()),
    }
}
