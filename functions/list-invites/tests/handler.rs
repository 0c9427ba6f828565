//! listInvites's handler, fed its sample API Gateway event and variations of it.

use domain::testing::Sample;
use edge::testing::{body_json, request, sample_event, sample_request_as};

#[tokio::test]
async fn the_owner_sees_each_invite_with_its_state_and_never_a_token() {
    let sample = Sample::new().await;
    let response =
        list_invites::handle(&sample.carts, request(&sample_event("list-invites"))).await;
    assert_eq!(response.status(), 200);
    let body = body_json(&response);
    let invites = body["invites"].as_array().unwrap();
    assert_eq!(invites.len(), 1);
    assert_eq!(invites[0]["state"], "open");
    assert_eq!(invites[0]["inviteId"], "1297835f7a62d5ac");
    let text = body.to_string();
    assert!(
        !text.contains("secret") && !text.contains("token"),
        "{text}"
    );
}

#[tokio::test]
async fn an_editor_may_not_list_them() {
    let sample = Sample::new().await;
    let response =
        list_invites::handle(&sample.carts, sample_request_as("list-invites", "bob")).await;
    assert_eq!(response.status(), 403);
}
