//! updateCartSettings' handler, fed its sample API Gateway event (alice, the owner, letting
//! editors lock) and variations of it.

use domain::testing::{Sample, user};
use edge::testing::{body_json, request, sample_event};

#[tokio::test]
async fn the_owner_lets_editors_lock_and_an_editor_then_locks() {
    let sample = Sample::new().await;
    let response = update_cart_settings::handle(
        &sample.carts,
        request(&sample_event("update-cart-settings")),
    )
    .await;
    assert_eq!(response.status(), 200);
    let cart = body_json(&response);
    assert_eq!(cart["whoMayLock"], "editors");
    assert_eq!(cart["version"], sample.cart.version + 1);

    let again = update_cart_settings::handle(
        &sample.carts,
        request(&sample_event("update-cart-settings")),
    )
    .await;
    assert_eq!(
        body_json(&again)["version"],
        sample.cart.version + 1,
        "a setting in force changes nothing"
    );
    let locked = sample
        .carts
        .lock(&user("bob"), sample.cart.cart_id)
        .await
        .expect("bob, an editor, may lock now");
    assert_eq!(locked.lock.map(|l| l.locked_by), Some(user("bob")));
}

#[tokio::test]
async fn a_setting_that_is_not_one_is_400() {
    let sample = Sample::new().await;
    for body in [
        r#"{"whoMayLock": "everyone"}"#,
        r#"{}"#,
        r#"{"whoMayLock": "owner", "x": 1}"#,
        r#"{"whoMayLock": true}"#,
    ] {
        let mut event = sample_event("update-cart-settings");
        event["body"] = body.into();
        let response = update_cart_settings::handle(&sample.carts, request(&event)).await;
        assert_eq!(response.status(), 400, "{body}");
        assert_eq!(body_json(&response)["code"], "VALIDATION_FAILED", "{body}");
    }
}

#[tokio::test]
async fn only_the_owner_changes_who_may_lock() {
    let sample = Sample::new().await;
    let refused = sample
        .carts
        .set_who_may_lock(
            &user("bob"),
            sample.cart.cart_id,
            domain::WhoMayLock::Editors,
        )
        .await;
    let problem = edge::Problem::from(refused.expect_err("bob is an editor")).into_response();
    assert_eq!(problem.status(), 403);
    assert_eq!(body_json(&problem)["code"], "OWNER_ONLY");
}
