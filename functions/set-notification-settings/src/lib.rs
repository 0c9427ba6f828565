//! setNotificationSettings (`PUT /me/notification-settings`): turns the caller's notification
//! mails off (`{"mailsOff": true}`) or on again. Notices are still listed either way; the
//! setting only decides whether the notify consumer mails them.

use domain::CartError;
use domain::notification::NotificationStore;
use edge::{Caller, Problem, Request, Response, request, respond};
use http::StatusCode;
use serde::{Deserialize, Serialize};

/// The body, and the answer.
#[derive(Deserialize, Serialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct Settings {
    mails_off: bool,
}

/// Answers one setNotificationSettings request.
pub async fn handle(store: &dyn NotificationStore, request: Request) -> Response {
    respond::outcome(set(store, &request).await)
}

async fn set(store: &dyn NotificationStore, request: &Request) -> Result<Response, Problem> {
    let caller = Caller::from_request(request)?;
    let settings: Settings = request::json_body(request)?;
    store
        .set_mails_off(&caller.user_id, settings.mails_off)
        .await
        .map_err(|e| Problem::from(CartError::Unavailable(e)))?;
    Ok(respond::json(StatusCode::OK, &settings))
}
