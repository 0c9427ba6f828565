//! revokeInvite's handler, fed its sample API Gateway event and variations of it.

use domain::CartError;
use domain::invite::InviteToken;
use domain::testing::{SAMPLE_INVITE_TOKEN, Sample, user};
use edge::testing::{body_json, request, sample_event};

#[tokio::test]
async fn the_sample_event_revokes_the_link_and_its_holder_is_refused() {
    let sample = Sample::new().await;
    let response =
        revoke_invite::handle(&sample.carts, request(&sample_event("revoke-invite"))).await;
    assert_eq!(response.status(), 204);
    let token = InviteToken::parse(SAMPLE_INVITE_TOKEN).unwrap();
    assert!(matches!(
        sample.carts.accept_invite(&user("gwen"), &token).await,
        Err(CartError::InviteRevoked)
    ));
}

#[tokio::test]
async fn an_unknown_or_malformed_invite_id_is_refused() {
    let sample = Sample::new().await;
    for (id, status) in [("0000000000000000", 404), ("not-an-id", 400)] {
        let mut event = sample_event("revoke-invite");
        event["pathParameters"]["inviteId"] = id.into();
        let response = revoke_invite::handle(&sample.carts, request(&event)).await;
        assert_eq!(response.status(), status, "{id}: {}", body_json(&response));
    }
}
