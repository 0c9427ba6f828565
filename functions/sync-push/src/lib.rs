//! `sync-push`: the consumer that makes a cart shared live. For every cart event in an MSK batch
//! it finds the connections of every member and posts them the change, concurrently (with a
//! bound) across connections and partitions, in order within a partition, so each cart's
//! changes arrive in version order. A connection that is gone (410) is forgotten; a record that
//! does not decode is logged and counted and the batch goes on: nothing here panics or fails
//! the batch, so no poison record can stall a partition.

use aws_lambda_events::event::kafka::{KafkaEvent, KafkaRecord};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use domain::{CartEvent, ConnectionPoster, ConnectionRegistry, PostError};
use futures_util::StreamExt;
use std::sync::Arc;

/// Posts in flight at once for one event; API Gateway's management API takes thousands per
/// second, and a Lambda has few sockets to spare.
pub const MAX_CONCURRENT_POSTS: usize = 64;

/// What the push function needs: where connections are, and how to reach them.
pub struct Push {
    /// The connection registry.
    pub registry: Arc<dyn ConnectionRegistry>,
    /// The management API.
    pub poster: Arc<dyn ConnectionPoster>,
}

/// What one batch did, for logs and tests.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Report {
    /// Records in the batch.
    pub records: usize,
    /// Records that were not cart events (logged, skipped).
    pub undecodable: usize,
    /// Messages delivered.
    pub posted: usize,
    /// Connections found gone and forgotten.
    pub gone: usize,
    /// Posts that failed otherwise (logged; the client re-reads on its next gap).
    pub failed: usize,
}

impl Report {
    fn add(&mut self, other: Report) {
        self.records += other.records;
        self.undecodable += other.undecodable;
        self.posted += other.posted;
        self.gone += other.gone;
        self.failed += other.failed;
    }
}

/// Pushes every event of `batch`; partitions concurrently, each partition in offset order.
pub async fn handle(push: &Push, batch: KafkaEvent) -> Report {
    let partitions = batch.records.into_values().map(|mut records| {
        records.sort_by_key(|r| r.offset);
        push_partition(push, records)
    });
    let mut report = Report::default();
    for partition in futures_util::future::join_all(partitions).await {
        report.add(partition);
    }
    tracing::info!(?report, "batch pushed");
    report
}

async fn push_partition(push: &Push, records: Vec<KafkaRecord>) -> Report {
    let mut report = Report::default();
    for record in records {
        report.records += 1;
        match decode(&record) {
            Ok(event) => report.add(push_event(push, &event).await),
            Err(reason) => {
                report.undecodable += 1;
                tracing::error!(
                    partition = record.partition,
                    offset = record.offset,
                    reason,
                    "skipping a record that is not a cart event"
                );
            }
        }
    }
    report
}

/// The cart event a record carries (its value: base64 of the event's JSON).
pub fn decode(record: &KafkaRecord) -> Result<CartEvent, &'static str> {
    let value = record.value.as_deref().ok_or("the record has no value")?;
    let bytes = STANDARD
        .decode(value)
        .map_err(|_| "the value is not base64")?;
    serde_json::from_slice(&bytes).map_err(|_| "the value is not a cart event")
}

/// Posts `event` to every connection of every member it names.
async fn push_event(push: &Push, event: &CartEvent) -> Report {
    let mut targets = Vec::new();
    for member in &event.members {
        match push.registry.connections_of(member).await {
            Ok(connections) => targets.extend(
                connections
                    .into_iter()
                    .map(|c| (member.clone(), c.connection_id)),
            ),
            Err(e) => {
                tracing::error!(user_id = %member, error = %e, "cannot look up connections; skipping the member")
            }
        }
    }
    if targets.is_empty() {
        // Nobody is connected: nothing to build or send.
        return Report::default();
    }
    // Serialized once: at a thousand members the snapshot is tens of KB.
    let messages = &realtime::PushMessages::of(event);
    let outcomes: Vec<Result<(), PostError>> = futures_util::stream::iter(targets)
        .map(|(member, connection): (domain::UserId, domain::ConnectionId)| async move {
            let message = messages.for_recipient(&member);
            let outcome = push.poster.post(&connection, message.as_bytes()).await;
            if let Err(PostError::Gone) = outcome
                && let Err(e) = push.registry.remove(&connection).await
            {
                tracing::warn!(connection_id = %connection, error = %e, "cannot forget a gone connection; its TTL will");
            }
            if let Err(PostError::Failed(e)) = &outcome {
                tracing::warn!(connection_id = %connection, error = %e, "post failed");
            }
            outcome
        })
        .buffer_unordered(MAX_CONCURRENT_POSTS)
        .collect()
        .await;
    let mut report = Report::default();
    for outcome in outcomes {
        match outcome {
            Ok(()) => report.posted += 1,
            Err(PostError::Gone) => report.gone += 1,
            Err(PostError::Failed(_)) => report.failed += 1,
        }
    }
    report
}
