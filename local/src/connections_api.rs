//! The emulated API Gateway management API (`@connections`), which `sync-push` reaches through
//! the real AWS SDK client with its endpoint pointed here. Like API Gateway it answers 410
//! `GoneException` for a connection that is no longer open. It is not signed-checked: the local
//! stack listens on loopback only.

use crate::gateway::{HttpResponse, json};
use crate::server::Services;
use crate::sockets::Outbound;
use bytes::Bytes;
use domain::ConnectionId;
use http::{Method, StatusCode};
use http_body_util::Full;
use serde_json::json;

/// The path segment that marks the management API (after an optional stage).
pub const PREFIX: &str = "/@connections/";

/// Answers one management API call on `path` (which contains `PREFIX`).
pub fn handle(services: &Services, method: &Method, path: &str, body: Bytes) -> HttpResponse {
    let raw = path
        .split_once(PREFIX)
        .map(|(_, id)| id)
        .unwrap_or_default();
    let decoded = percent_encoding::percent_decode_str(raw).decode_utf8_lossy();
    let Ok(id) = ConnectionId::parse(&decoded) else {
        return gone();
    };
    match *method {
        Method::POST => {
            // Handed on as it came: at a thousand members a copy per post is megabytes.
            if services.sockets.send(&id, Outbound::Data(body)) {
                empty(StatusCode::OK)
            } else {
                gone()
            }
        }
        Method::GET => match services.sockets.info(&id) {
            Some(info) => json(
                StatusCode::OK,
                &json!({"connectedAt": info.connected_at, "identity": {"sourceIp": info.source_ip}, "lastActiveAt": chrono::Utc::now()}),
            ),
            None => gone(),
        },
        Method::DELETE => {
            if services.sockets.send(&id, Outbound::Close) {
                empty(StatusCode::NO_CONTENT)
            } else {
                gone()
            }
        }
        _ => empty(StatusCode::METHOD_NOT_ALLOWED),
    }
}

fn empty(status: StatusCode) -> HttpResponse {
    let mut response = http::Response::new(Full::new(Bytes::new()));
    *response.status_mut() = status;
    response
}

/// What API Gateway answers for a connection that is gone; the SDK reads the error type from
/// the header and surfaces `GoneException`.
fn gone() -> HttpResponse {
    let mut response = json(
        StatusCode::GONE,
        &json!({"message": "the connection is gone"}),
    );
    if let Ok(value) = http::HeaderValue::from_str("GoneException") {
        response.headers_mut().insert("x-amzn-errortype", value);
    }
    response
}
