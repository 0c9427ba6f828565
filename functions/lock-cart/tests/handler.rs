//! lockCart's handler, fed its sample API Gateway event and variations of it.

use domain::testing::Sample;
use edge::testing::{body_json, request, sample_event, sample_request_as};

#[tokio::test]
async fn the_sample_event_locks_the_cart_for_fifteen_minutes() {
    let sample = Sample::new().await;
    let response = lock_cart::handle(&sample.carts, request(&sample_event("lock-cart"))).await;
    assert_eq!(response.status(), 200);
    let cart = body_json(&response);
    assert_eq!(cart["status"], "LOCKED");
    assert_eq!(cart["lock"]["lockedBy"], "alice");
    let at = |field: &str| {
        chrono::DateTime::parse_from_rfc3339(cart["lock"][field].as_str().unwrap()).unwrap()
    };
    assert_eq!(
        at("expiresAt") - at("lockedAt"),
        chrono::Duration::minutes(15)
    );
}

#[tokio::test]
async fn an_edit_of_a_locked_cart_is_409_cart_locked_saying_who_and_until_when() {
    let sample = Sample::new().await;
    lock_cart::handle(&sample.carts, request(&sample_event("lock-cart"))).await;
    let item = sample.cart.items[0].item_id.clone();
    let refused = sample
        .carts
        .remove_item(&domain::testing::user("bob"), sample.cart.cart_id, &item)
        .await;
    let problem = edge::Problem::from(refused.unwrap_err()).into_response();
    assert_eq!(problem.status(), 409);
    let body = body_json(&problem);
    assert_eq!(body["code"], "CART_LOCKED");
    assert_eq!(body["lockedBy"], "alice");
    assert!(body["expiresAt"].is_string(), "{body}");
}

#[tokio::test]
async fn an_editor_cannot_lock_and_a_viewer_cannot_either() {
    let sample = Sample::new().await;
    for who in ["bob", "carol"] {
        let response = lock_cart::handle(&sample.carts, sample_request_as("lock-cart", who)).await;
        assert_eq!(response.status(), 403, "{who}");
        assert_eq!(body_json(&response)["code"], "OWNER_ONLY");
    }
}

#[tokio::test]
async fn a_stranger_is_told_there_is_no_such_cart() {
    let sample = Sample::new().await;
    let response = lock_cart::handle(&sample.carts, sample_request_as("lock-cart", "eve")).await;
    assert_eq!(response.status(), 404);
    assert_eq!(body_json(&response)["code"], "CART_NOT_FOUND");
}
