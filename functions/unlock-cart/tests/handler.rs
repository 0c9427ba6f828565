//! unlockCart's handler, fed its sample API Gateway event and variations of it.

use domain::testing::{Sample, user};
use edge::testing::{body_json, request, sample_event, sample_request_as};

#[tokio::test]
async fn the_sample_event_unlocks_a_locked_cart() {
    let sample = Sample::new().await;
    sample
        .carts
        .lock(&user("alice"), sample.cart.cart_id)
        .await
        .unwrap();
    let response = unlock_cart::handle(&sample.carts, request(&sample_event("unlock-cart"))).await;
    assert_eq!(response.status(), 200);
    let cart = body_json(&response);
    assert_eq!(cart["status"], "ACTIVE");
    assert!(cart.get("lock").is_none(), "{cart}");
}

#[tokio::test]
async fn unlocking_a_cart_that_holds_no_lock_is_409_cart_not_locked() {
    let sample = Sample::new().await;
    let response = unlock_cart::handle(&sample.carts, request(&sample_event("unlock-cart"))).await;
    assert_eq!(response.status(), 409);
    assert_eq!(body_json(&response)["code"], "CART_NOT_LOCKED");
}

#[tokio::test]
async fn only_the_owner_or_the_locker_unlocks() {
    let sample = Sample::new().await;
    sample
        .carts
        .lock(&user("alice"), sample.cart.cart_id)
        .await
        .unwrap();
    let response =
        unlock_cart::handle(&sample.carts, sample_request_as("unlock-cart", "bob")).await;
    assert_eq!(response.status(), 403);
    assert_eq!(body_json(&response)["code"], "OWNER_ONLY");
}
