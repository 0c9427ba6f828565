//! listMyCarts' handler, fed its sample API Gateway event.

use domain::testing::{SAMPLE_CART_ID, Sample};
use edge::testing::{body_json, request, sample_event};

#[tokio::test]
async fn the_sample_event_lists_the_shared_cart_with_the_callers_role() {
    let sample = Sample::new().await;
    let response =
        list_my_carts::handle(&sample.carts, request(&sample_event("list-my-carts"))).await;
    assert_eq!(response.status(), 200);
    let carts = body_json(&response)["carts"].clone();
    assert_eq!(carts[0]["cartId"], SAMPLE_CART_ID);
    assert_eq!(carts[0]["role"], "viewer");
    assert_eq!(carts[0]["status"], "ACTIVE");
    assert_eq!(carts[0]["itemCount"], 2);
}
