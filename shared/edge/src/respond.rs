//! Successful responses: JSON bodies, the cart with its `ETag`, and no content.

use crate::{Body, Problem, Response};
use domain::Cart;
use http::StatusCode;
use serde::Serialize;

/// `value` as a JSON response with `status`.
pub fn json(status: StatusCode, value: &impl Serialize) -> Response {
    match serde_json::to_string(value) {
        Ok(text) => http::Response::builder()
            .status(status)
            .header(http::header::CONTENT_TYPE, "application/json")
            .body(Body::Text(text))
            .unwrap_or_else(|e| Problem::internal(&e).into_response()),
        Err(e) => Problem::internal(&e).into_response(),
    }
}

/// The cart's representation, with its version as a strong `ETag` for `If-Match`.
pub fn cart(status: StatusCode, cart: &Cart) -> Response {
    let mut response = json(status, &cart.view());
    if let Ok(etag) = http::HeaderValue::from_str(&format!("\"{}\"", cart.version)) {
        response.headers_mut().insert(http::header::ETAG, etag);
    }
    response
}

/// 204 with no body.
pub fn no_content() -> Response {
    let mut response = http::Response::new(Body::Empty);
    *response.status_mut() = StatusCode::NO_CONTENT;
    response
}

/// The response for a handler's outcome, error or not.
pub fn outcome(result: Result<Response, Problem>) -> Response {
    result.unwrap_or_else(Problem::into_response)
}
