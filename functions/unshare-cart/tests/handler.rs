//! unshareCart's handler, fed its sample API Gateway event and variations of it.

use domain::testing::Sample;
use edge::testing::{body_json, request, sample_event, sample_request_as};

#[tokio::test]
async fn the_sample_event_removes_the_viewer() {
    let sample = Sample::new().await;
    let response =
        unshare_cart::handle(&sample.carts, request(&sample_event("unshare-cart"))).await;
    assert_eq!(response.status(), 200);
    assert_eq!(body_json(&response)["members"].as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn a_member_leaving_gets_204() {
    let sample = Sample::new().await;
    let response =
        unshare_cart::handle(&sample.carts, sample_request_as("unshare-cart", "carol")).await;
    assert_eq!(response.status(), 204);
}

#[tokio::test]
async fn an_editor_removing_someone_else_is_403() {
    let sample = Sample::new().await;
    let response =
        unshare_cart::handle(&sample.carts, sample_request_as("unshare-cart", "bob")).await;
    assert_eq!(response.status(), 403);
}

#[tokio::test]
async fn removing_a_non_member_is_404_not_a_member() {
    let sample = Sample::new().await;
    let mut event = sample_event("unshare-cart");
    event["pathParameters"]["userId"] = "zed".into();
    let response = unshare_cart::handle(&sample.carts, request(&event)).await;
    assert_eq!(response.status(), 404);
    assert_eq!(body_json(&response)["code"], "NOT_A_MEMBER");
}
