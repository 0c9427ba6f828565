//! createInvite's handler, fed its sample API Gateway event and variations of it.

use domain::invite::InviteToken;
use domain::testing::{Sample, user};
use edge::testing::{body_json, request, sample_event, sample_request_as};

#[tokio::test]
async fn the_sample_event_creates_a_link_whose_token_lets_someone_join() {
    let sample = Sample::new().await;
    let response =
        create_invite::handle(&sample.carts, None, request(&sample_event("create-invite"))).await;
    assert_eq!(response.status(), 201);
    let created = body_json(&response);
    assert_eq!(
        (
            created["role"].as_str(),
            created["maxUses"].as_u64(),
            created["state"].as_str()
        ),
        (Some("editor"), Some(5), Some("open"))
    );
    let token = created["token"].as_str().unwrap();
    assert!(
        created.get("url").is_none(),
        "without a page, a link would lead nowhere"
    );
    let joined = sample
        .carts
        .accept_invite(&user("zoe"), &InviteToken::parse(token).unwrap())
        .await
        .unwrap();
    assert!(joined.role_of(&user("zoe")).is_some());
}

#[tokio::test]
async fn a_configured_page_is_where_links_point() {
    let sample = Sample::new().await;
    let response = create_invite::handle(
        &sample.carts,
        Some("https://carts.example.com"),
        request(&sample_event("create-invite")),
    )
    .await;
    let created = body_json(&response);
    assert_eq!(
        created["url"],
        format!(
            "https://carts.example.com/?invite={}",
            created["token"].as_str().unwrap()
        )
    );
}

#[tokio::test]
async fn terms_out_of_range_are_400_naming_the_field() {
    let sample = Sample::new().await;
    for (body, field) in [
        (r#"{"expiresInDays": 31}"#, "expiresInDays"),
        (r#"{"expiresInDays": -1}"#, "expiresInDays"),
        (r#"{"maxUses": 0}"#, "maxUses"),
        (r#"{"role": "owner"}"#, "role"),
    ] {
        let mut event = sample_event("create-invite");
        event["body"] = body.into();
        let response = create_invite::handle(&sample.carts, None, request(&event)).await;
        assert_eq!(response.status(), 400, "{body}");
        assert_eq!(body_json(&response)["field"], field, "{body}");
    }
}

#[tokio::test]
async fn only_the_owner_invites() {
    let sample = Sample::new().await;
    let response = create_invite::handle(
        &sample.carts,
        None,
        sample_request_as("create-invite", "bob"),
    )
    .await;
    assert_eq!(response.status(), 403);
    assert_eq!(body_json(&response)["code"], "OWNER_ONLY");
}
