//! listNotifications (`GET /me/notifications`): what the notify consumer told the caller,
//! newest first (at most [`LIST_LIMIT`]), each with whether it was mailed and why not, and
//! whether the caller turned mails off. A user reads only their own.

use domain::CartError;
use domain::notification::{LIST_LIMIT, Notification, NotificationStore};
use edge::{Caller, Problem, Request, Response, respond};
use http::StatusCode;
use serde::Serialize;

/// The answer.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Notifications {
    mails_off: bool,
    items: Vec<Notification>,
}

/// Answers one listNotifications request.
pub async fn handle(store: &dyn NotificationStore, request: Request) -> Response {
    respond::outcome(list(store, &request).await)
}

async fn list(store: &dyn NotificationStore, request: &Request) -> Result<Response, Problem> {
    let caller = Caller::from_request(request)?;
    let unavailable = |e| Problem::from(CartError::Unavailable(e));
    let (mails_off, items) = tokio::try_join!(
        store.mails_off(&caller.user_id),
        store.list(&caller.user_id, LIST_LIMIT)
    )
    .map_err(unavailable)?;
    Ok(respond::json(
        StatusCode::OK,
        &Notifications { mails_off, items },
    ))
}
