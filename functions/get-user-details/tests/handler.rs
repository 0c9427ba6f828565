//! getUserDetails' handler, fed its sample API Gateway event.

use domain::directory::{Directory, Email, Handle};
use domain::memory::MemoryDirectory;
use domain::testing::{SAMPLE_CART_ID, Sample, user};
use edge::testing::{body_json, request, sample_event, sample_request_as};

#[tokio::test]
async fn the_sample_event_describes_the_caller_and_their_carts() {
    let sample = Sample::new().await;
    let response = get_user_details::handle(
        &sample.carts,
        &MemoryDirectory::default(),
        request(&sample_event("get-user-details")),
    )
    .await;
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
        &MemoryDirectory::default(),
        sample_request_as("get-user-details", "nobody"),
    )
    .await;
    assert_eq!(body_json(&response)["cartIds"], serde_json::json!([]));
}

#[tokio::test]
async fn signing_in_keeps_the_profile_the_token_states_so_an_email_finds_the_user() {
    let sample = Sample::new().await;
    let directory = MemoryDirectory::default();
    let mut event = sample_event("get-user-details");
    event["requestContext"]["authorizer"]["email"] = "Alice@Example.com".into();
    event["requestContext"]["authorizer"]["userName"] = "alice.k".into();
    let response = get_user_details::handle(&sample.carts, &directory, request(&event)).await;
    let me = body_json(&response);
    assert_eq!(
        (me["email"].as_str(), me["userName"].as_str()),
        (Some("alice@example.com"), Some("alice.k"))
    );
    let email = Email::parse("email", "alice@example.com").unwrap();
    assert_eq!(
        directory.find(&Handle::Email(email)).await.unwrap(),
        [user("alice")]
    );
    let profile = directory.profile(&user("alice")).await.unwrap().unwrap();
    assert_eq!(profile.name.as_deref(), Some("Alice"));
}
