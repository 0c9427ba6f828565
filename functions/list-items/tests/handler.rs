//! listItems' handler, fed its sample API Gateway event and variations of it.

use domain::testing::Sample;
use edge::testing::{body_json, request, sample_event};

#[tokio::test]
async fn the_sample_event_returns_a_page_and_a_token_for_the_next() {
    let sample = Sample::new().await;
    let response = list_items::handle(&sample.items, request(&sample_event("list-items"))).await;
    assert_eq!(response.status(), 200);
    let page = body_json(&response);
    assert_eq!(page["items"].as_array().unwrap().len(), 2);
    let mut next = sample_event("list-items");
    next["queryStringParameters"]["nextToken"] = page["nextToken"].clone();
    next["multiValueQueryStringParameters"]["nextToken"] =
        serde_json::json!([page["nextToken"].clone()]);
    let rest = body_json(&list_items::handle(&sample.items, request(&next)).await);
    assert_eq!(rest["items"].as_array().unwrap().len(), 1);
    assert!(rest.get("nextToken").is_none());
}

#[tokio::test]
async fn a_limit_out_of_range_is_400() {
    let sample = Sample::new().await;
    let mut event = sample_event("list-items");
    event["queryStringParameters"]["limit"] = "1000".into();
    event["multiValueQueryStringParameters"]["limit"] = serde_json::json!(["1000"]);
    let response = list_items::handle(&sample.items, request(&event)).await;
    assert_eq!(response.status(), 400);
    assert_eq!(body_json(&response)["field"], "limit");
}
