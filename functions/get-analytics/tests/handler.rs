//! getAnalytics' handler, fed its sample API Gateway event (an admin asking for 2026-11-22)
//! and variations of it.

use domain::analytics::{AnalyticsStore, Day, FunnelCounts, ItemCounts, Tally};
use domain::memory::MemoryAnalytics;
use edge::testing::{body_json, request, sample_event};

#[tokio::test]
async fn the_sample_event_answers_the_day_s_counts() {
    let store = MemoryAnalytics::default();
    let day = Day::parse("2026-11-22").unwrap();
    store
        .record(&Tally {
            event_id: uuid::Uuid::new_v4(),
            day,
            items: [(
                domain::ItemId::parse("apple").unwrap(),
                ItemCounts {
                    added: 2,
                    ..Default::default()
                },
            )]
            .into(),
            funnel: FunnelCounts {
                created: 1,
                ..Default::default()
            },
            shares: None,
        })
        .await
        .unwrap();
    let response = get_analytics::handle(&store, request(&sample_event("get-analytics"))).await;
    assert_eq!(response.status(), 200);
    assert_eq!(
        body_json(&response),
        serde_json::json!({
            "day": "2026-11-22",
            "funnel": {"created": 1, "shared": 0, "checkedOut": 0},
            "items": [{"itemId": "apple", "added": 2, "removed": 0, "checkedOut": 0, "short": 0}]
        })
    );
}

#[tokio::test]
async fn without_the_admin_scope_it_is_403() {
    let mut event = sample_event("get-analytics");
    event["requestContext"]["authorizer"]["scopes"] = "".into();
    let response = get_analytics::handle(&MemoryAnalytics::default(), request(&event)).await;
    assert_eq!(response.status(), 403);
    assert_eq!(body_json(&response)["code"], "SCOPE_REQUIRED");
}

#[tokio::test]
async fn a_day_that_is_no_date_is_400() {
    let mut event = sample_event("get-analytics");
    event["pathParameters"]["day"] = "2026-02-30".into();
    let response = get_analytics::handle(&MemoryAnalytics::default(), request(&event)).await;
    assert_eq!(response.status(), 400);
    assert_eq!(body_json(&response)["code"], "VALIDATION_FAILED");
}
