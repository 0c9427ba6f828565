//! shareCart's handler, fed its sample API Gateway event and variations of it.

use domain::directory::{Directory, Email, Profile, UserName};
use domain::memory::MemoryDirectory;
use domain::testing::{Sample, user};
use edge::testing::{
    body_json, request, sample_event, sample_request_as, sample_request_with_body,
};

#[tokio::test]
async fn the_sample_event_adds_an_editor() {
    let sample = Sample::new().await;
    let response = share_cart::handle(
        &sample.carts,
        &MemoryDirectory::default(),
        request(&sample_event("share-cart")),
    )
    .await;
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
    let response = share_cart::handle(
        &sample.carts,
        &MemoryDirectory::default(),
        sample_request_as("share-cart", "bob"),
    )
    .await;
    assert_eq!(response.status(), 403);
    assert_eq!(body_json(&response)["code"], "OWNER_ONLY");
}

#[tokio::test]
async fn granting_the_owner_role_is_refused() {
    let sample = Sample::new().await;
    let response = share_cart::handle(
        &sample.carts,
        &MemoryDirectory::default(),
        sample_request_with_body("share-cart", r#"{"userIds":["dave"],"role":"owner"}"#),
    )
    .await;
    assert_eq!(response.status(), 400);
    assert_eq!(body_json(&response)["field"], "role");
}

/// A directory that knows dave by email and user name, and two users by one address.
async fn directory() -> MemoryDirectory {
    let directory = MemoryDirectory::default();
    for (id, email, name) in [
        ("dave", "dave@example.com", Some("dave.k")),
        ("twin-1", "twins@example.com", None),
        ("twin-2", "twins@example.com", None),
    ] {
        directory
            .remember(&Profile {
                user_id: user(id),
                name: None,
                email: Some(Email::parse("email", email).expect("an email")),
                user_name: name.map(|n| UserName::parse("userName", n).expect("a user name")),
            })
            .await
            .expect("the memory directory never fails");
    }
    directory
}

fn role_of(response: &edge::Response, who: &str) -> Option<String> {
    body_json(response)["members"]
        .as_array()?
        .iter()
        .find(|m| m["userId"] == who)
        .and_then(|m| m["role"].as_str().map(str::to_owned))
}

#[tokio::test]
async fn an_owner_shares_by_email_or_user_name_with_whom_the_directory_knows() {
    for body in [
        r#"{"emails":["Dave@Example.com"],"role":"viewer"}"#,
        r#"{"userNames":["Dave.K"],"role":"viewer"}"#,
    ] {
        let sample = Sample::new().await;
        let response = share_cart::handle(
            &sample.carts,
            &directory().await,
            sample_request_with_body("share-cart", body),
        )
        .await;
        assert_eq!(response.status(), 200, "{body}");
        assert_eq!(
            role_of(&response, "dave").as_deref(),
            Some("viewer"),
            "{body}"
        );
    }
}

#[tokio::test]
async fn a_name_that_finds_nobody_or_two_users_refuses_the_whole_share() {
    let sample = Sample::new().await;
    let response = share_cart::handle(
        &sample.carts,
        &directory().await,
        sample_request_with_body(
            "share-cart",
            r#"{"userIds":["erin"],"emails":["nobody@example.com","twins@example.com"],"role":"editor"}"#,
        ),
    )
    .await;
    assert_eq!(response.status(), 422);
    let problem = body_json(&response);
    assert_eq!(problem["code"], "USER_UNKNOWN");
    assert_eq!(
        problem["unknown"],
        serde_json::json!(["nobody@example.com", "twins@example.com"])
    );
    assert_eq!(
        sample
            .carts
            .get(&user("alice"), sample.cart.cart_id)
            .await
            .unwrap()
            .members
            .len(),
        sample.cart.members.len(),
        "nobody was added"
    );
}

#[tokio::test]
async fn an_address_that_is_no_email_is_400() {
    let sample = Sample::new().await;
    let response = share_cart::handle(
        &sample.carts,
        &directory().await,
        sample_request_with_body("share-cart", r#"{"emails":["dave"],"role":"viewer"}"#),
    )
    .await;
    assert_eq!(response.status(), 400);
    assert_eq!(body_json(&response)["field"], "emails");
}

#[tokio::test]
async fn only_the_owner_learns_whether_an_address_signed_in() {
    let sample = Sample::new().await;
    let directory = directory().await;
    for email in ["dave@example.com", "nobody@example.com"] {
        let body = format!(r#"{{"emails":["{email}"],"role":"viewer"}}"#);
        let mut event = sample_event("share-cart");
        event["body"] = body.clone().into();
        event["requestContext"]["authorizer"]["userId"] = "bob".into();
        let as_editor = share_cart::handle(&sample.carts, &directory, request(&event)).await;
        assert_eq!(
            (as_editor.status(), body_json(&as_editor)["code"].clone()),
            (http::StatusCode::FORBIDDEN, serde_json::json!("OWNER_ONLY")),
            "{email}"
        );
        event["requestContext"]["authorizer"]["userId"] = "eve".into();
        let as_stranger = share_cart::handle(&sample.carts, &directory, request(&event)).await;
        assert_eq!(as_stranger.status(), 404, "{email}");
    }
}
