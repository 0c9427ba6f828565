//! `Idempotency-Key` on mutating requests. The first request with a key claims it, does the
//! work and stores its answer for a day; a retry with the same key and the same request gets
//! that answer again (marked `Idempotent-Replayed: true`) with no second change, event or push.
//! The same key on another request is 422 `IDEMPOTENCY_KEY_REUSED`; a retry while the first is
//! still running is 409 `REQUEST_IN_PROGRESS`.
//!
//! Answers a retry could improve on (409 conflicts, 429, 5xx) are not kept: the claim is given
//! up, and the retry does the work afresh. Keys belong to the caller: two users may pick the
//! same one.

use crate::{Body, Caller, Problem, Request, Response};
use domain::CartError;
use domain::idempotency::{Claim, IdempotencyStore, RecordKey, StoredResponse};
use http::{HeaderName, HeaderValue, Method, StatusCode};
use sha2::{Digest, Sha256};
use std::future::Future;

/// The request header carrying the caller's key.
pub const HEADER: &str = "idempotency-key";

/// The response header marking a stored answer sent again.
pub const REPLAYED: &str = "idempotent-replayed";

/// The headers kept with an answer: what describes it. Per-delivery headers are not replayed.
const KEPT_HEADERS: [HeaderName; 3] = [
    http::header::CONTENT_TYPE,
    http::header::ETAG,
    http::header::LOCATION,
];

/// Runs `handler` on `request` at most once per `Idempotency-Key`, as the module describes.
/// Requests without the header, and reads, go straight to `handler`.
pub async fn once<F, Fut>(store: &dyn IdempotencyStore, request: Request, handler: F) -> Response
where
    F: FnOnce(Request) -> Fut,
    Fut: Future<Output = Response>,
{
    let Some(sent) = request.headers().get(HEADER) else {
        return handler(request).await;
    };
    if !mutates(request.method()) {
        return handler(request).await;
    }
    // Without an identity the handler answers 401 itself, and nothing happens to keep.
    let Ok(caller) = Caller::from_request(&request) else {
        return handler(request).await;
    };
    let key = match RecordKey::new(&caller.user_id, sent.to_str().unwrap_or_default()) {
        Ok(key) => key,
        Err(invalid) => return Problem::from(invalid).into_response(),
    };
    let fingerprint = fingerprint(&request);
    match store
        .claim(&key, &fingerprint, domain::service::now())
        .await
    {
        Err(e) => Problem::from(CartError::from(e)).into_response(),
        Ok(Claim::InFlight) => in_progress().into_response(),
        Ok(Claim::Mismatch) => reused().into_response(),
        Ok(Claim::Done(answer)) => {
            domain::metrics::count(domain::metrics::Metric::IdempotentReplays, 1);
            replay(answer)
        }
        Ok(Claim::Claimed) => {
            let response = handler(request).await;
            settle(store, &key, &response).await;
            response
        }
    }
}

/// Keeps the answer under its key, or gives the key up when a retry could do better. A store
/// that fails here costs only the replay: the change itself is already made and answered.
async fn settle(store: &dyn IdempotencyStore, key: &RecordKey, response: &Response) {
    let settled = match stored(response) {
        Some(answer) => store.complete(key, &answer).await,
        None => store.release(key).await,
    };
    if let Err(e) = settled {
        tracing::warn!(error = %e, key = key.as_str(), "could not settle an idempotency key; a retry within its lease answers 409");
    }
}

/// True for the methods that change something.
fn mutates(method: &Method) -> bool {
    matches!(
        *method,
        Method::POST | Method::PUT | Method::PATCH | Method::DELETE
    )
}

/// What the request was: the method, and one digest of the path and the body. JSON bodies are
/// compared by meaning (key order and spacing do not matter); other bodies byte for byte. The
/// path is digested, not kept: an invite's token travels in it, and the store keeps tokens only
/// hashed.
fn fingerprint(request: &Request) -> String {
    let bytes: &[u8] = request.body().as_ref();
    let canonical = serde_json::from_slice::<serde_json::Value>(bytes)
        .ok()
        .map(|value| canonical_json(&value));
    let digest = Sha256::new()
        .chain_update(request.uri().path().as_bytes())
        .chain_update(b"\n")
        .chain_update(canonical.as_deref().map_or(bytes, str::as_bytes))
        .finalize();
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    format!("{} {hex}", request.method())
}

/// `value` with every object's keys sorted, whatever map order serde_json was built with.
fn canonical_json(value: &serde_json::Value) -> String {
    use serde_json::Value;
    match value {
        Value::Object(map) => {
            let mut entries: Vec<_> = map.iter().collect();
            entries.sort_by(|a, b| a.0.cmp(b.0));
            let members: Vec<String> = entries
                .into_iter()
                .map(|(k, v)| format!("{}:{}", Value::from(k.as_str()), canonical_json(v)))
                .collect();
            format!("{{{}}}", members.join(","))
        }
        Value::Array(items) => {
            let items: Vec<String> = items.iter().map(canonical_json).collect();
            format!("[{}]", items.join(","))
        }
        other => other.to_string(),
    }
}

/// The answer to keep, or `None` when a retry could get a better one.
fn stored(response: &Response) -> Option<StoredResponse> {
    let status = response.status();
    let retryable = status.is_server_error()
        || status == StatusCode::CONFLICT
        || status == StatusCode::TOO_MANY_REQUESTS;
    if retryable {
        return None;
    }
    let body = match response.body() {
        Body::Text(text) => text.clone(),
        Body::Empty => String::new(),
        // Handlers answer JSON only; an answer that cannot be kept is not kept.
        _ => return None,
    };
    let headers = KEPT_HEADERS
        .iter()
        .filter_map(|name| {
            let value = response.headers().get(name)?.to_str().ok()?;
            Some((name.as_str().to_owned(), value.to_owned()))
        })
        .collect();
    Some(StoredResponse {
        status: status.as_u16(),
        headers,
        body,
    })
}

/// A stored answer, sent again.
fn replay(answer: StoredResponse) -> Response {
    let body = if answer.body.is_empty() {
        Body::Empty
    } else {
        Body::Text(answer.body)
    };
    let mut response = http::Response::new(body);
    *response.status_mut() = StatusCode::from_u16(answer.status).unwrap_or(StatusCode::OK);
    for (name, value) in answer.headers {
        if let (Ok(name), Ok(value)) = (HeaderName::try_from(name), HeaderValue::try_from(value)) {
            response.headers_mut().insert(name, value);
        }
    }
    response
        .headers_mut()
        .insert(REPLAYED, HeaderValue::from_static("true"));
    response
}

/// 409: the first request with this key has not answered yet.
fn in_progress() -> Problem {
    Problem::new(
        StatusCode::CONFLICT,
        "REQUEST_IN_PROGRESS",
        "a request with this Idempotency-Key is still running; retry shortly for its answer",
    )
    .with_header(http::header::RETRY_AFTER, "1")
}

/// 422: the key already belongs to another request.
fn reused() -> Problem {
    Problem::new(
        StatusCode::UNPROCESSABLE_ENTITY,
        "IDEMPOTENCY_KEY_REUSED",
        "this Idempotency-Key was used for a different request; use a new key for a new request",
    )
}

#[cfg(test)]
mod tests;
