//! `analytics`: the consumer that counts. For every cart event in an MSK batch it records what
//! the event counts ([`domain::analytics::Tally`]): units added, removed, checked out and short
//! per item and day, and carts created, shared and checked out per day. The store counts each
//! event once, so a batch the trigger delivers again after a failure adds nothing twice.
//!
//! A record that does not decode is logged and counted and the batch goes on; a store that
//! cannot count fails the batch, so the trigger delivers it again.

use aws_lambda_events::event::kafka::KafkaEvent;
use domain::analytics::{AnalyticsStore, Tally};
use domain::ports::StoreError;

/// What one batch did, for logs and tests.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Report {
    /// Records in the batch.
    pub records: usize,
    /// Records that were not cart events (logged, skipped).
    pub undecodable: usize,
    /// Events whose counts were added.
    pub counted: usize,
    /// Events counted before (a redelivery), or that count nothing.
    pub skipped: usize,
}

/// Counts every event of `batch`, in each partition's order.
pub async fn handle(store: &dyn AnalyticsStore, batch: KafkaEvent) -> Result<Report, StoreError> {
    let records = edge::records::in_order(batch);
    let mut report = Report {
        records: records.len(),
        ..Report::default()
    };
    for record in &records {
        let Some(event) = edge::records::cart_event(record) else {
            report.undecodable += 1;
            continue;
        };
        match Tally::of(&event) {
            Some(tally) if store.record(&tally).await? => report.counted += 1,
            _ => report.skipped += 1,
        }
    }
    tracing::info!(?report, "batch counted");
    Ok(report)
}
