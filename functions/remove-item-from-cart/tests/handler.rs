//! removeItemFromCart's handler, fed its sample API Gateway event and variations of it.

use domain::testing::Sample;
use edge::testing::{body_json, request, sample_event};

#[tokio::test]
async fn the_sample_event_removes_the_line() {
    let sample = Sample::new().await;
    let response = remove_item_from_cart::handle(
        &sample.carts,
        request(&sample_event("remove-item-from-cart")),
    )
    .await;
    assert_eq!(response.status(), 200);
    let cart = body_json(&response);
    assert_eq!(cart["items"].as_array().unwrap().len(), 1);
    assert_eq!(cart["version"], 4);
}

#[tokio::test]
async fn removing_an_absent_line_is_404_line_not_found() {
    let sample = Sample::new().await;
    let mut event = sample_event("remove-item-from-cart");
    event["pathParameters"]["itemId"] = "fig".into();
    let response = remove_item_from_cart::handle(&sample.carts, request(&event)).await;
    assert_eq!(response.status(), 404);
    assert_eq!(body_json(&response)["code"], "LINE_NOT_FOUND");
}
