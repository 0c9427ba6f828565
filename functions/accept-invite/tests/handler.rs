//! acceptInvite's handler, fed its sample API Gateway event and variations of it.

use domain::EventType;
use domain::testing::Sample;
use edge::testing::{body_json, request, sample_event, sample_request_as};

#[tokio::test]
async fn the_holder_joins_in_the_links_role_and_every_member_hears_of_it() {
    let sample = Sample::new().await;
    let response =
        accept_invite::handle(&sample.carts, request(&sample_event("accept-invite"))).await;
    assert_eq!(response.status(), 200);
    let cart = body_json(&response);
    let members = cart["members"].as_array().unwrap();
    assert!(
        members
            .iter()
            .any(|m| m["userId"] == "gwen" && m["role"] == "editor"),
        "{cart}"
    );
    let event = sample.events.events().pop().unwrap();
    assert_eq!(
        (event.event_type, event.actor.as_str()),
        (EventType::CartJoined, "gwen")
    );
    assert!(event.members.iter().any(|m| m.as_str() == "alice"));
}

#[tokio::test]
async fn a_second_accept_is_409_already_a_member() {
    let sample = Sample::new().await;
    accept_invite::handle(&sample.carts, request(&sample_event("accept-invite"))).await;
    let again = accept_invite::handle(&sample.carts, request(&sample_event("accept-invite"))).await;
    assert_eq!(again.status(), 409);
    assert_eq!(body_json(&again)["code"], "ALREADY_A_MEMBER");
}

#[tokio::test]
async fn a_revoked_link_is_410_invite_revoked() {
    let sample = Sample::new().await;
    let alice = domain::testing::user("alice");
    sample
        .carts
        .revoke_invite(
            &alice,
            sample.cart.cart_id,
            &sample.cart.invites[0].invite_id,
        )
        .await
        .unwrap();
    let response =
        accept_invite::handle(&sample.carts, sample_request_as("accept-invite", "erin")).await;
    assert_eq!(response.status(), 410);
    assert_eq!(body_json(&response)["code"], "INVITE_REVOKED");
}
