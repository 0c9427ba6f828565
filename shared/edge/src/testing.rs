//! Helpers for handler tests: the sample events in `events/`, edited as a test needs, and
//! response bodies as JSON.

use crate::{Body, Request, Response};
use serde_json::Value;
use std::path::Path;

/// The sample event `events/<name>.json`, as JSON to edit.
pub fn sample_event(name: &str) -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../events")
        .join(format!("{name}.json"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The request the function reads from API Gateway's `event`, as its runner reads it.
pub fn request(event: &Value) -> Request {
    crate::event::request(
        serde_json::from_value(event.clone())
            .unwrap_or_else(|e| panic!("not an API Gateway event: {e}")),
    )
}

/// The sample event `name` as the authorizer would pass it for `user`.
pub fn sample_request_as(name: &str, user: &str) -> Request {
    let mut event = sample_event(name);
    event["requestContext"]["authorizer"]["userId"] = user.into();
    event["requestContext"]["authorizer"]["principalId"] = user.into();
    request(&event)
}

/// The sample event `name` with its body replaced by `body`.
pub fn sample_request_with_body(name: &str, body: &str) -> Request {
    let mut event = sample_event(name);
    event["body"] = body.into();
    request(&event)
}

/// A response body as JSON (`Null` when empty).
pub fn body_json(response: &Response) -> Value {
    match response.body() {
        Body::Text(text) => {
            serde_json::from_str(text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
        }
        Body::Binary(bytes) => {
            serde_json::from_slice(bytes).unwrap_or_else(|e| panic!("not JSON: {e}"))
        }
        Body::Empty => Value::Null,
        _ => Value::Null,
    }
}

/// The sample WebSocket event `events/<name>.json`, as the function receives it.
pub fn websocket_event(event: &Value) -> crate::websocket::Event {
    serde_json::from_value(event.clone())
        .unwrap_or_else(|e| panic!("not an API Gateway WebSocket event: {e}"))
}

/// A WebSocket answer's body as JSON (`Null` when empty).
pub fn answer_json(answer: &crate::websocket::Answer) -> Value {
    match &answer.body {
        Some(aws_lambda_events::encodings::Body::Text(text)) => {
            serde_json::from_str(text).unwrap_or_else(|e| panic!("{e}: {text}"))
        }
        _ => Value::Null,
    }
}
