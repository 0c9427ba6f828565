//! createCart's handler, fed its sample API Gateway event and variations of it.

use domain::testing::Sample;
use edge::testing::{body_json, request, sample_event, sample_request_with_body};

#[tokio::test]
async fn the_sample_event_creates_a_cart_owned_by_the_caller() {
    let sample = Sample::new().await;
    let response = create_cart::handle(&sample.carts, request(&sample_event("create-cart"))).await;
    assert_eq!(response.status(), 201);
    let cart = body_json(&response);
    assert_eq!(cart["ownerId"], "alice");
    assert_eq!(cart["items"][0]["quantity"], 2);
    assert_eq!(cart["total"], 240);
    assert!(
        response.headers()["location"]
            .to_str()
            .unwrap()
            .ends_with(cart["cartId"].as_str().unwrap())
    );
    assert_eq!(response.headers()["etag"], "\"1\"");
}

#[tokio::test]
async fn an_empty_body_creates_an_empty_cart() {
    let sample = Sample::new().await;
    let mut event = sample_event("create-cart");
    event["body"] = serde_json::Value::Null;
    let response = create_cart::handle(&sample.carts, request(&event)).await;
    assert_eq!(response.status(), 201);
    assert_eq!(body_json(&response)["items"], serde_json::json!([]));
}

#[tokio::test]
async fn an_unknown_initial_item_is_422_item_not_found() {
    let sample = Sample::new().await;
    let response = create_cart::handle(
        &sample.carts,
        sample_request_with_body(
            "create-cart",
            r#"{"items":[{"itemId":"ghost","quantity":1}]}"#,
        ),
    )
    .await;
    assert_eq!(response.status(), 422);
    assert_eq!(body_json(&response)["code"], "ITEM_NOT_FOUND");
}

#[tokio::test]
async fn malformed_json_is_400_with_a_problem_body() {
    let sample = Sample::new().await;
    let response = create_cart::handle(
        &sample.carts,
        sample_request_with_body("create-cart", "{not json"),
    )
    .await;
    assert_eq!(response.status(), 400);
    assert_eq!(
        response.headers()["content-type"],
        "application/problem+json"
    );
    assert_eq!(body_json(&response)["code"], "MALFORMED_JSON");
}

#[tokio::test]
async fn a_request_without_authorizer_context_is_401() {
    let sample = Sample::new().await;
    let mut event = sample_event("create-cart");
    event["requestContext"]["authorizer"] = serde_json::Value::Null;
    let response = create_cart::handle(&sample.carts, request(&event)).await;
    assert_eq!(response.status(), 401);
}

#[tokio::test]
async fn the_event_sam_generates_creates_a_cart_too() {
    // Shaped by `sam local generate-event apigateway aws-proxy`: a base64 body, a proxy path
    // parameter, and the authorizer's context added as API Gateway adds it.
    let sample = Sample::new().await;
    let response =
        create_cart::handle(&sample.carts, request(&sample_event("sam/create-cart"))).await;
    assert_eq!(response.status(), 201);
    let cart = body_json(&response);
    assert_eq!(cart["ownerId"], "alice");
    assert_eq!(cart["items"][0]["quantity"], 2);
}
