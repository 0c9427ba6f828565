//! getInvite's handler, fed its sample API Gateway event and variations of it.

use domain::testing::Sample;
use edge::testing::{body_json, request, sample_event, sample_request_as};

#[tokio::test]
async fn a_stranger_holding_the_link_sees_whose_cart_and_the_role_it_gives() {
    let sample = Sample::new().await;
    let response = get_invite::handle(&sample.carts, request(&sample_event("get-invite"))).await;
    assert_eq!(response.status(), 200);
    let preview = body_json(&response);
    assert_eq!(preview["ownerId"], "alice");
    assert_eq!(preview["role"], "editor");
    assert_eq!(preview["memberCount"], 3);
    assert_eq!(preview["alreadyMember"], false);
}

#[tokio::test]
async fn a_member_is_told_they_are_in_already() {
    let sample = Sample::new().await;
    let response = get_invite::handle(&sample.carts, sample_request_as("get-invite", "bob")).await;
    assert_eq!(body_json(&response)["alreadyMember"], true);
}

#[tokio::test]
async fn a_token_that_opens_nothing_is_404_and_one_of_another_shape_400() {
    let sample = Sample::new().await;
    let forged = format!("{}.{}", domain::testing::SAMPLE_CART_ID, "A".repeat(43));
    for (token, status, code) in [
        (forged.as_str(), 404, "INVITE_NOT_FOUND"),
        ("nonsense", 400, "VALIDATION_FAILED"),
    ] {
        let mut event = sample_event("get-invite");
        event["pathParameters"]["token"] = token.into();
        let response = get_invite::handle(&sample.carts, request(&event)).await;
        assert_eq!(response.status(), status, "{token}");
        assert_eq!(body_json(&response)["code"], code, "{token}");
    }
}
