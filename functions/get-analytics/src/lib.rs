//! getAnalytics (`GET /analytics/days/{day}`): what the analytics consumer counted on one UTC
//! day: the carts created, shared and checked out, and each item's units added, removed,
//! checked out and short of stock. Admin scope only: the counts are the whole shop's.

use domain::CartError;
use domain::analytics::{AnalyticsStore, Day};
use edge::{Caller, Problem, Request, Response, request, respond};
use http::StatusCode;

/// The scope this operation needs.
pub const REQUIRED_SCOPE: &str = "admin";

/// Answers one getAnalytics request.
pub async fn handle(store: &dyn AnalyticsStore, request: Request) -> Response {
    respond::outcome(report(store, &request).await)
}

async fn report(store: &dyn AnalyticsStore, request: &Request) -> Result<Response, Problem> {
    Caller::from_request(request)?.require_scope(REQUIRED_SCOPE)?;
    let day = Day::parse(&request::path_param(request, "day")?)?;
    match store.day(day).await {
        Ok(report) => Ok(respond::json(StatusCode::OK, &report)),
        Err(e) => Err(CartError::Unavailable(e).into()),
    }
}
