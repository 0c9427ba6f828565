//! getCart's handler, fed its sample API Gateway event and variations of it.

use domain::testing::{SAMPLE_CART_ID, Sample};
use edge::testing::{body_json, request, sample_event, sample_request_as};

#[tokio::test]
async fn the_sample_event_returns_the_cart_to_a_member() {
    let sample = Sample::new().await;
    let response = get_cart::handle(&sample.carts, request(&sample_event("get-cart"))).await;
    assert_eq!(response.status(), 200);
    let cart = body_json(&response);
    assert_eq!(cart["cartId"], SAMPLE_CART_ID);
    assert_eq!(cart["version"], 3);
    assert_eq!(cart["members"].as_array().unwrap().len(), 3);
    assert_eq!(response.headers()["etag"], "\"3\"");
}

#[tokio::test]
async fn a_stranger_gets_404_not_a_hint() {
    let sample = Sample::new().await;
    let response = get_cart::handle(&sample.carts, sample_request_as("get-cart", "eve")).await;
    assert_eq!(response.status(), 404);
    assert_eq!(body_json(&response)["code"], "CART_NOT_FOUND");
}

#[tokio::test]
async fn a_malformed_cart_id_is_400_naming_the_field() {
    let sample = Sample::new().await;
    let mut event = sample_event("get-cart");
    event["pathParameters"]["cartId"] = "not-a-uuid".into();
    let response = get_cart::handle(&sample.carts, request(&event)).await;
    assert_eq!(response.status(), 400);
    assert_eq!(body_json(&response)["field"], "cartId");
}
