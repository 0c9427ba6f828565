//! modifyCart's handler, fed its sample API Gateway event and variations of it.

use domain::testing::Sample;
use edge::testing::{body_json, request, sample_event};

#[tokio::test]
async fn the_sample_event_applies_the_batch_against_the_named_version() {
    let sample = Sample::new().await;
    let response = modify_cart::handle(&sample.carts, request(&sample_event("modify-cart"))).await;
    assert_eq!(response.status(), 200);
    let cart = body_json(&response);
    assert_eq!(cart["items"].as_array().unwrap().len(), 1);
    assert_eq!(cart["items"][0]["quantity"], 3);
    assert_eq!(cart["version"], 4);
}

#[tokio::test]
async fn a_stale_if_match_is_409_with_the_current_version() {
    let sample = Sample::new().await;
    let mut event = sample_event("modify-cart");
    event["headers"]["If-Match"] = "\"2\"".into();
    event["multiValueHeaders"]["If-Match"] = serde_json::json!(["\"2\""]);
    let response = modify_cart::handle(&sample.carts, request(&event)).await;
    assert_eq!(response.status(), 409);
    let problem = body_json(&response);
    assert_eq!(problem["code"], "VERSION_CONFLICT");
    assert_eq!(problem["currentVersion"], 3);
    assert!(
        sample.events.events().is_empty(),
        "nothing changed, nothing announced"
    );
}

#[tokio::test]
async fn an_expected_version_that_disagrees_with_if_match_is_a_409_with_the_current_version() {
    let sample = Sample::new().await;
    let mut event = sample_event("modify-cart");
    event["body"] = r#"{"expectedVersion":2,"changes":[{"itemId":"apple","quantity":1}]}"#.into();
    let response = modify_cart::handle(&sample.carts, request(&event)).await;
    assert_eq!(response.status(), 409);
    let problem = body_json(&response);
    assert_eq!(
        (&problem["code"], &problem["currentVersion"]),
        (&"VERSION_CONFLICT".into(), &3.into())
    );
    assert!(sample.events.events().is_empty(), "nothing changed");
}

#[tokio::test]
async fn quantities_written_with_a_zero_fraction_are_whole_numbers() {
    let sample = Sample::new().await;
    let mut event = sample_event("modify-cart");
    event["body"] = r#"{"changes":[{"itemId":"apple","quantity":3.0}]}"#.into();
    let response = modify_cart::handle(&sample.carts, request(&event)).await;
    assert_eq!(response.status(), 200, "{}", body_json(&response));
}
