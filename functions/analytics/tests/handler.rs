//! analytics' handler, fed its sample MSK batch (an add of two apples, a poison record, and a
//! checkout of three apples and a pear).

use aws_lambda_events::event::kafka::KafkaEvent;
use domain::analytics::{AnalyticsStore, Day, FunnelCounts, ItemCounts};
use domain::memory::MemoryAnalytics;

fn sample_batch() -> KafkaEvent {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../events/analytics.json");
    serde_json::from_str(&std::fs::read_to_string(path).expect("the sample event"))
        .expect("an MSK event")
}

#[tokio::test]
async fn the_sample_batch_is_counted_past_its_poison_record_and_a_redelivery_adds_nothing() {
    let store = MemoryAnalytics::default();
    let report = analytics::handle(&store, sample_batch()).await.unwrap();
    assert_eq!(
        (report.records, report.undecodable, report.counted),
        (3, 1, 2)
    );
    let again = analytics::handle(&store, sample_batch()).await.unwrap();
    assert_eq!(
        (again.counted, again.skipped),
        (0, 2),
        "each event counts once"
    );

    let day = store.day(Day::parse("2026-11-22").unwrap()).await.unwrap();
    assert_eq!(
        day.funnel,
        FunnelCounts {
            checked_out: 1,
            ..Default::default()
        }
    );
    let counts: Vec<(String, ItemCounts)> = day
        .items
        .into_iter()
        .map(|i| (i.item_id.to_string(), i.counts))
        .collect();
    assert_eq!(
        counts,
        [
            (
                "apple".to_owned(),
                ItemCounts {
                    added: 2,
                    checked_out: 3,
                    ..Default::default()
                }
            ),
            (
                "pear".to_owned(),
                ItemCounts {
                    checked_out: 1,
                    ..Default::default()
                }
            ),
        ]
    );
}
