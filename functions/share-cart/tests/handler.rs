//! shareCart's handler, fed its sample API Gateway event and variations of it.

use domain::testing::Sample;
use edge::testing::{
    body_json, request, sample_event, sample_request_as, sample_request_with_body,
};

#[tokio::test]
async fn the_sample_event_adds_an_editor() {
    let sample = Sample::new().await;
    let response = share_cart::handle(&sample.carts, request(&sample_event("share-cart"))).await;
    assert_eq!(response.status(), 200);
    let members = body_json(&response)["members"].clone();
    assert!(
        members
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m["userId"] == "dave" && m["role"] == "editor")
    );
}

#[tokio::test]
async fn share_by_editor_is_403_owner_only() {
    let sample = Sample::new().await;
    let response = share_cart::handle(&sample.carts, sample_request_as("share-cart", "bob")).await;
    assert_eq!(response.status(), 403);
    assert_eq!(body_json(&response)["code"], "OWNER_ONLY");
}

#[tokio::test]
async fn granting_the_owner_role_is_refused() {
    let sample = Sample::new().await;
    let response = share_cart::handle(
        &sample.carts,
        sample_request_with_body("share-cart", r#"{"userIds":["dave"],"role":"owner"}"#),
    )
    .await;
    assert_eq!(response.status(), 400);
    assert_eq!(body_json(&response)["field"], "role");
}
