//! The key's life on one request shape (addItemToCart's sample event), with the in-memory store.

use super::*;
use domain::memory::MemoryIdempotency;
use serde_json::{Value, json};
use std::sync::atomic::{AtomicUsize, Ordering};

/// The sample addItemToCart event from `user` with `body`, and `key` when given.
fn add_request(user: &str, key: Option<&str>, body: &str) -> Request {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../events/add-item-to-cart.json"
    );
    let text = std::fs::read_to_string(path).unwrap();
    let mut event: Value = serde_json::from_str(&text).unwrap();
    event["requestContext"]["authorizer"]["userId"] = user.into();
    event["body"] = body.into();
    if let Some(key) = key {
        event["headers"]["Idempotency-Key"] = key.into();
        event["multiValueHeaders"]["Idempotency-Key"] = json!([key]);
    }
    lambda_http::request::from_str(&event.to_string()).unwrap()
}

fn with_method(mut request: Request, method: Method) -> Request {
    *request.method_mut() = method;
    request
}

/// A handler that counts its runs and answers `status` with an `ETag`.
struct Counted {
    runs: AtomicUsize,
    status: StatusCode,
}

impl Counted {
    fn answering(status: StatusCode) -> Self {
        Self {
            runs: AtomicUsize::new(0),
            status,
        }
    }

    async fn handle(&self, _request: Request) -> Response {
        let run = self.runs.fetch_add(1, Ordering::SeqCst) + 1;
        let mut response = crate::respond::json(self.status, &json!({ "run": run }));
        response
            .headers_mut()
            .insert(http::header::ETAG, HeaderValue::from_static("\"2\""));
        response
    }

    fn runs(&self) -> usize {
        self.runs.load(Ordering::SeqCst)
    }
}

fn body_of(response: &Response) -> Value {
    match response.body() {
        Body::Text(text) => serde_json::from_str(text).unwrap(),
        _ => Value::Null,
    }
}

const BODY: &str = r#"{"itemId":"apple","quantity":2}"#;

#[tokio::test]
async fn a_retry_with_the_same_key_and_body_gets_the_first_answer_without_a_second_run() {
    let (store, handler) = (
        MemoryIdempotency::default(),
        Counted::answering(StatusCode::OK),
    );
    let first = once(&store, add_request("alice", Some("k1"), BODY), |r| {
        handler.handle(r)
    })
    .await;
    let again = once(&store, add_request("alice", Some("k1"), BODY), |r| {
        handler.handle(r)
    })
    .await;
    assert_eq!(handler.runs(), 1);
    assert_eq!(again.status(), first.status());
    assert_eq!(body_of(&again), body_of(&first));
    assert_eq!(again.headers()[http::header::ETAG], "\"2\"");
    assert_eq!(
        again.headers()[http::header::CONTENT_TYPE],
        "application/json"
    );
    assert_eq!(again.headers()[REPLAYED], "true");
    assert!(first.headers().get(REPLAYED).is_none());
}

#[tokio::test]
async fn the_same_json_with_its_keys_in_another_order_and_spacing_is_the_same_request() {
    let (store, handler) = (
        MemoryIdempotency::default(),
        Counted::answering(StatusCode::OK),
    );
    once(&store, add_request("alice", Some("k"), BODY), |r| {
        handler.handle(r)
    })
    .await;
    let reordered = r#"{ "quantity": 2, "itemId": "apple" }"#;
    let again = once(&store, add_request("alice", Some("k"), reordered), |r| {
        handler.handle(r)
    })
    .await;
    assert_eq!((handler.runs(), again.status()), (1, StatusCode::OK));
}

#[tokio::test]
async fn the_same_key_on_another_body_is_422_idempotency_key_reused() {
    let (store, handler) = (
        MemoryIdempotency::default(),
        Counted::answering(StatusCode::OK),
    );
    once(&store, add_request("alice", Some("k"), BODY), |r| {
        handler.handle(r)
    })
    .await;
    let other = r#"{"itemId":"apple","quantity":3}"#;
    let reused = once(&store, add_request("alice", Some("k"), other), |r| {
        handler.handle(r)
    })
    .await;
    assert_eq!(reused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        reused.headers()[http::header::CONTENT_TYPE],
        crate::problem::CONTENT_TYPE
    );
    assert_eq!(body_of(&reused)["code"], "IDEMPOTENCY_KEY_REUSED");
    assert_eq!(handler.runs(), 1);
}

#[tokio::test]
async fn a_retry_while_the_first_runs_is_409_request_in_progress() {
    let (store, handler) = (
        MemoryIdempotency::default(),
        Counted::answering(StatusCode::OK),
    );
    let (release, released) = tokio::sync::oneshot::channel::<()>();
    let first = once(&store, add_request("alice", Some("k"), BODY), |r| async {
        let _ = released.await;
        handler.handle(r).await
    });
    let retry = async {
        let retry = once(&store, add_request("alice", Some("k"), BODY), |r| {
            handler.handle(r)
        })
        .await;
        let _ = release.send(());
        retry
    };
    let (first, retry) = tokio::join!(first, retry);
    assert_eq!(retry.status(), StatusCode::CONFLICT);
    assert_eq!(body_of(&retry)["code"], "REQUEST_IN_PROGRESS");
    assert_eq!(retry.headers()[http::header::RETRY_AFTER], "1");
    assert_eq!((first.status(), handler.runs()), (StatusCode::OK, 1));
}

#[tokio::test]
async fn answers_a_retry_could_improve_on_free_the_key() {
    for status in [
        StatusCode::SERVICE_UNAVAILABLE,
        StatusCode::CONFLICT,
        StatusCode::TOO_MANY_REQUESTS,
    ] {
        let (store, handler) = (MemoryIdempotency::default(), Counted::answering(status));
        once(&store, add_request("alice", Some("k"), BODY), |r| {
            handler.handle(r)
        })
        .await;
        once(&store, add_request("alice", Some("k"), BODY), |r| {
            handler.handle(r)
        })
        .await;
        assert_eq!(handler.runs(), 2, "{status} is not kept");
    }
    let (store, handler) = (
        MemoryIdempotency::default(),
        Counted::answering(StatusCode::NOT_FOUND),
    );
    once(&store, add_request("alice", Some("k"), BODY), |r| {
        handler.handle(r)
    })
    .await;
    once(&store, add_request("alice", Some("k"), BODY), |r| {
        handler.handle(r)
    })
    .await;
    assert_eq!(handler.runs(), 1, "a final 4xx is kept");
}

#[tokio::test]
async fn keys_belong_to_their_user_and_requests_without_one_always_run() {
    let (store, handler) = (
        MemoryIdempotency::default(),
        Counted::answering(StatusCode::OK),
    );
    once(&store, add_request("alice", Some("k"), BODY), |r| {
        handler.handle(r)
    })
    .await;
    once(&store, add_request("bob", Some("k"), BODY), |r| {
        handler.handle(r)
    })
    .await;
    once(&store, add_request("alice", None, BODY), |r| {
        handler.handle(r)
    })
    .await;
    once(&store, add_request("alice", None, BODY), |r| {
        handler.handle(r)
    })
    .await;
    assert_eq!(handler.runs(), 4);
}

#[tokio::test]
async fn reads_ignore_the_key() {
    let (store, handler) = (
        MemoryIdempotency::default(),
        Counted::answering(StatusCode::OK),
    );
    for _ in 0..2 {
        let read = with_method(add_request("alice", Some("k"), ""), Method::GET);
        once(&store, read, |r| handler.handle(r)).await;
    }
    assert_eq!(handler.runs(), 2);
}

#[tokio::test]
async fn a_key_that_is_too_long_or_not_visible_ascii_is_400_naming_the_header() {
    let (store, handler) = (
        MemoryIdempotency::default(),
        Counted::answering(StatusCode::OK),
    );
    let long = "k".repeat(RecordKey::MAX_LEN + 1);
    for key in [long.as_str(), "two words"] {
        let refused = once(&store, add_request("alice", Some(key), BODY), |r| {
            handler.handle(r)
        })
        .await;
        assert_eq!(refused.status(), StatusCode::BAD_REQUEST);
        assert_eq!(body_of(&refused)["field"], "Idempotency-Key");
    }
    assert_eq!(handler.runs(), 0);
}
