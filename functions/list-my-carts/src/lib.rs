//! listMyCarts (`GET /me/carts`): every cart the caller owns or shares, with their role and the
//! cart's status, most recently changed first.

use domain::CartService;
use domain::cart::CartSummary;
use edge::{Caller, Problem, Request, Response, respond};
use http::StatusCode;
use serde::Serialize;

#[derive(Serialize)]
struct MyCarts<'a> {
    carts: Vec<CartSummary<'a>>,
}

/// Answers one listMyCarts request.
pub async fn handle(carts: &CartService, request: Request) -> Response {
    respond::outcome(list(carts, &request).await)
}

async fn list(carts: &CartService, request: &Request) -> Result<Response, Problem> {
    let caller = Caller::from_request(request)?;
    let mine = carts.carts_of(&caller.user_id).await?;
    let rows = mine
        .iter()
        .filter_map(|cart| cart.summary_for(&caller.user_id))
        .collect();
    Ok(respond::json(StatusCode::OK, &MyCarts { carts: rows }))
}
