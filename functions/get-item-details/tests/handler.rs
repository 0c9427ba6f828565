//! getItemDetails' handler, fed its sample API Gateway event and variations of it.

use domain::testing::Sample;
use edge::testing::{body_json, request, sample_event};

#[tokio::test]
async fn the_sample_event_describes_the_item() {
    let sample = Sample::new().await;
    let response =
        get_item_details::handle(&sample.items, request(&sample_event("get-item-details"))).await;
    assert_eq!(response.status(), 200);
    let item = body_json(&response);
    assert_eq!(
        (
            item["name"].as_str(),
            item["price"].as_i64(),
            item["currency"].as_str()
        ),
        (Some("Apple"), Some(120), Some("EUR"))
    );
}

#[tokio::test]
async fn an_unknown_item_is_404() {
    let sample = Sample::new().await;
    let mut event = sample_event("get-item-details");
    event["pathParameters"]["itemId"] = "ghost".into();
    let response = get_item_details::handle(&sample.items, request(&event)).await;
    assert_eq!(response.status(), 404);
    assert_eq!(body_json(&response)["code"], "ITEM_NOT_FOUND");
}

#[tokio::test]
async fn the_event_sam_generates_describes_the_item_too() {
    let sample = Sample::new().await;
    let response = get_item_details::handle(
        &sample.items,
        request(&sample_event("sam/get-item-details")),
    )
    .await;
    assert_eq!(response.status(), 200);
    assert_eq!(body_json(&response)["itemId"], "apple");
}
