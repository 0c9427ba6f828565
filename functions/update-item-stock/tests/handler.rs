//! updateItemStock's handler, fed its sample API Gateway event and variations of it.

use domain::testing::Sample;
use edge::testing::{body_json, request, sample_event, sample_request_with_body};

#[tokio::test]
async fn the_sample_event_sets_the_stock() {
    let sample = Sample::new().await;
    let response =
        update_item_stock::handle(&sample.items, request(&sample_event("update-item-stock"))).await;
    assert_eq!(response.status(), 200);
    assert_eq!(body_json(&response)["stock"], 12);
}

#[tokio::test]
async fn without_the_admin_scope_it_is_403() {
    let sample = Sample::new().await;
    let mut event = sample_event("update-item-stock");
    event["requestContext"]["authorizer"]["scopes"] = "".into();
    let response = update_item_stock::handle(&sample.items, request(&event)).await;
    assert_eq!(response.status(), 403);
    assert_eq!(body_json(&response)["code"], "SCOPE_REQUIRED");
}

#[tokio::test]
async fn a_negative_stock_is_400() {
    let sample = Sample::new().await;
    let response = update_item_stock::handle(
        &sample.items,
        sample_request_with_body("update-item-stock", r#"{"stock":-1}"#),
    )
    .await;
    assert_eq!(response.status(), 400);
}
