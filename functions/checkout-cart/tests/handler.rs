//! checkoutCart's handler, fed its sample API Gateway event and variations of it.

use domain::testing::Sample;
use edge::testing::{body_json, request, sample_event, sample_request_as};

#[tokio::test]
async fn the_sample_event_checks_the_cart_out() {
    let sample = Sample::new().await;
    let response =
        checkout_cart::handle(&sample.carts, request(&sample_event("checkout-cart"))).await;
    assert_eq!(response.status(), 200);
    assert_eq!(body_json(&response)["status"], "CHECKED_OUT");
}

#[tokio::test]
async fn a_second_checkout_answers_the_checked_out_cart_unchanged() {
    // A retry after a failed order hand-off must complete it, not be refused.
    let sample = Sample::new().await;
    let first = checkout_cart::handle(&sample.carts, request(&sample_event("checkout-cart"))).await;
    let again = checkout_cart::handle(&sample.carts, request(&sample_event("checkout-cart"))).await;
    assert_eq!(again.status(), 200);
    assert_eq!(body_json(&again)["status"], "CHECKED_OUT");
    assert_eq!(body_json(&again)["version"], body_json(&first)["version"]);
}

#[tokio::test]
async fn checkout_by_viewer_is_forbidden() {
    let sample = Sample::new().await;
    let response =
        checkout_cart::handle(&sample.carts, sample_request_as("checkout-cart", "carol")).await;
    assert_eq!(response.status(), 403);
}
