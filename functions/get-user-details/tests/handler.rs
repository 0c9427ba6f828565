//! getUserDetails' handler, fed its sample API Gateway event.

use domain::testing::{SAMPLE_CART_ID, Sample};
use edge::testing::{body_json, request, sample_event, sample_request_as};

#[tokio::test]
async fn the_sample_event_describes_the_caller_and_their_carts() {
    let sample = Sample::new().await;
    let response =
        get_user_details::handle(&sample.carts, request(&sample_event("get-user-details"))).await;
    assert_eq!(response.status(), 200);
    let me = body_json(&response);
    assert_eq!(me["userId"], "alice");
    assert_eq!(me["displayName"], "Alice");
    assert_eq!(me["cartIds"], serde_json::json!([SAMPLE_CART_ID]));
}

#[tokio::test]
async fn a_user_with_no_carts_has_an_empty_list() {
    let sample = Sample::new().await;
    let response = get_user_details::handle(
        &sample.carts,
        sample_request_as("get-user-details", "nobody"),
    )
    .await;
    assert_eq!(body_json(&response)["cartIds"], serde_json::json!([]));
}
