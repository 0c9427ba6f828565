//! addItemToCart's handler, fed its sample API Gateway event and variations of it.

use domain::testing::Sample;
use edge::testing::{
    body_json, request, sample_event, sample_request_as, sample_request_with_body,
};

#[tokio::test]
async fn the_sample_event_adds_to_the_existing_line() {
    let sample = Sample::new().await;
    let response =
        add_item_to_cart::handle(&sample.carts, request(&sample_event("add-item-to-cart"))).await;
    assert_eq!(response.status(), 200);
    let cart = body_json(&response);
    assert_eq!(cart["version"], 4);
    assert_eq!(cart["items"][0]["itemId"], "apple");
    assert_eq!(cart["items"][0]["quantity"], 3);
    assert_eq!(sample.events.events().last().map(|e| e.version), Some(4));
}

#[tokio::test]
async fn add_item_by_viewer_is_forbidden() {
    let sample = Sample::new().await;
    let response = add_item_to_cart::handle(
        &sample.carts,
        sample_request_as("add-item-to-cart", "carol"),
    )
    .await;
    assert_eq!(response.status(), 403);
    assert_eq!(body_json(&response)["code"], "READ_ONLY_MEMBER");
}

#[tokio::test]
async fn a_quantity_out_of_range_names_the_limit() {
    let sample = Sample::new().await;
    for quantity in ["0", "1000", "-3", "1.5"] {
        let body = format!(r#"{{"itemId":"apple","quantity":{quantity}}}"#);
        let response = add_item_to_cart::handle(
            &sample.carts,
            sample_request_with_body("add-item-to-cart", &body),
        )
        .await;
        assert_eq!(response.status(), 400, "quantity {quantity}");
    }
    let response = add_item_to_cart::handle(
        &sample.carts,
        sample_request_with_body("add-item-to-cart", r#"{"itemId":"apple","quantity":0}"#),
    )
    .await;
    assert!(
        body_json(&response)["detail"]
            .as_str()
            .unwrap()
            .contains("between 1 and 999")
    );
}

#[tokio::test]
async fn an_item_without_stock_is_409_out_of_stock() {
    let sample = Sample::new().await;
    let body = r#"{"itemId":"fig","quantity":1}"#;
    let response = add_item_to_cart::handle(
        &sample.carts,
        sample_request_with_body("add-item-to-cart", body),
    )
    .await;
    assert_eq!(response.status(), 409);
    let problem = body_json(&response);
    assert_eq!(problem["code"], "OUT_OF_STOCK");
    assert_eq!(problem["shortages"][0]["available"], 0);
}

#[tokio::test]
async fn an_unknown_item_is_422_item_not_found() {
    let sample = Sample::new().await;
    let body = r#"{"itemId":"ghost","quantity":1}"#;
    let response = add_item_to_cart::handle(
        &sample.carts,
        sample_request_with_body("add-item-to-cart", body),
    )
    .await;
    assert_eq!(response.status(), 422);
    assert_eq!(body_json(&response)["code"], "ITEM_NOT_FOUND");
}

#[tokio::test]
async fn unknown_body_fields_are_refused() {
    let sample = Sample::new().await;
    let body = r#"{"itemId":"apple","quantity":1,"userId":"mallory"}"#;
    let response = add_item_to_cart::handle(
        &sample.carts,
        sample_request_with_body("add-item-to-cart", body),
    )
    .await;
    assert_eq!(response.status(), 400);
    assert_eq!(body_json(&response)["code"], "VALIDATION_FAILED");
}
