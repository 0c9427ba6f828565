//! `sync-push`: the consumer that makes a cart shared live. For every cart event in an MSK batch
//! it finds the connections of every member and posts them the change, concurrently (with a
//! bound) across members and partitions, in order within a partition, so each cart's
//! changes arrive in version order. A connection that is gone (410) is forgotten; a record that
//! does not decode is logged and counted and the batch goes on: nothing here panics or fails
//! the batch, so no poison record can stall a partition. Which events go out when, and which
//! are repeats, is the [`sequencer`]'s call.

use aws_lambda_events::event::kafka::{KafkaEvent, KafkaRecord};
use domain::{CartEvent, ConnectionPoster, ConnectionRegistry, PostError, UserId};
use futures_util::StreamExt;
use sequencer::{Admitted, Sequencer};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use std::time::{Duration, Instant};

pub mod sequencer;

/// Members served at once for one event (each a lookup, then a post per connection); API
/// Gateway's management API takes thousands of posts per second, and a Lambda has few sockets
/// to spare.
pub const MAX_CONCURRENT_MEMBERS: usize = 64;

/// What the push function needs: where connections are, and how to reach them.
pub struct Push {
    /// The connection registry.
    pub registry: Arc<dyn ConnectionRegistry>,
    /// The management API.
    pub poster: Arc<dyn ConnectionPoster>,
    /// What this instance pushed lately, and what waits for a missing version.
    sequencer: Mutex<Sequencer>,
}

impl Push {
    /// Pushes through `poster` to the connections `registry` knows.
    pub fn new(registry: Arc<dyn ConnectionRegistry>, poster: Arc<dyn ConnectionPoster>) -> Self {
        Self {
            registry,
            poster,
            sequencer: Mutex::new(Sequencer::new(sequencer::HOLD_FOR_MISSING)),
        }
    }

    /// The same, with events waiting at most `hold` for a missing version.
    pub fn holding_for(mut self, hold: Duration) -> Self {
        self.sequencer = Mutex::new(Sequencer::new(hold));
        self
    }

    /// When [`release_due`] next has something to push, if anything waits.
    pub fn next_release(&self) -> Option<Instant> {
        self.sequencer().next_release()
    }

    fn sequencer(&self) -> MutexGuard<'_, Sequencer> {
        self.sequencer.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// What one batch did, for logs and tests.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Report {
    /// Records in the batch.
    pub records: usize,
    /// Records that were not cart events (logged, skipped).
    pub undecodable: usize,
    /// Events this instance already pushed (skipped).
    pub repeated: usize,
    /// Events that waited for a missing earlier version of their cart.
    pub waited: usize,
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
        self.repeated += other.repeated;
        self.waited += other.waited;
        self.posted += other.posted;
        self.gone += other.gone;
        self.failed += other.failed;
    }
}

/// Pushes every event of `batch`, as the Lambda's trigger hands it over: partitions
/// concurrently, each cart in version order. Nothing is left waiting when it returns, since the
/// trigger hands this partition's next batch over only then, perhaps to another instance.
pub async fn handle(push: &Push, batch: KafkaEvent) -> Report {
    let mut report = handle_and_hold(push, batch).await;
    let rest = push.sequencer().release_all();
    report.add(push_in_order(push, rest).await);
    report
}

/// Pushes every event of `batch` that is next in line; an event that skips a version of its
/// cart waits for it, for a caller that hands batches over as they come and calls
/// [`release_due`] between them (the local stack).
pub async fn handle_and_hold(push: &Push, batch: KafkaEvent) -> Report {
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

/// Pushes the events whose wait for a missing version is over.
pub async fn release_due(push: &Push) -> Report {
    let due = push.sequencer().release_due(Instant::now());
    if !due.is_empty() {
        tracing::warn!(
            events = due.len(),
            "pushing past a version that did not come in time"
        );
    }
    push_in_order(push, due).await
}

async fn push_partition(push: &Push, records: Vec<KafkaRecord>) -> Report {
    let mut report = Report {
        records: records.len(),
        ..Report::default()
    };
    let mut events: Vec<CartEvent> = records
        .iter()
        .filter_map(edge::records::cart_event)
        .collect();
    report.undecodable = report.records - events.len();
    // Within a batch, each cart's events go out by version at once (a stable sort, so a notice
    // stays behind the change it is about); the sequencer holds what skips a version to later.
    events.sort_by_key(|event| (event.cart_id, event.version));
    for event in events {
        let admitted = push.sequencer().admit(event, Instant::now());
        match admitted {
            Admitted::Repeat => report.repeated += 1,
            Admitted::Waiting => report.waited += 1,
            Admitted::Ready(ready) => report.add(push_in_order(push, ready).await),
        }
    }
    report
}

/// Pushes `events` one after another, so each cart's stay in the order given.
async fn push_in_order(push: &Push, events: Vec<CartEvent>) -> Report {
    let mut report = Report::default();
    for event in &events {
        report.add(push_event(push, event).await);
    }
    report
}

/// Posts `event` to every connection of every member it names: members concurrently (with a
/// bound), each member's lookup followed by its posts, so lookups and posts overlap. On DynamoDB
/// a lookup is a query of its own, and a thousand of them one after another would be seconds.
async fn push_event(push: &Push, event: &CartEvent) -> Report {
    // Built by the first member found connected: at a thousand members nobody may be online,
    // and a membership change's snapshot is tens of KB.
    let messages = &OnceLock::new();
    let reports: Vec<Report> = futures_util::stream::iter(event.members.iter().cloned())
        .map(|member| async move { push_member(push, event, messages, &member).await })
        .buffer_unordered(MAX_CONCURRENT_MEMBERS)
        .collect()
        .await;
    let mut report = Report::default();
    for member in reports {
        report.add(member);
    }
    report
}

/// Posts `event` to each of `member`'s connections.
async fn push_member(
    push: &Push,
    event: &CartEvent,
    messages: &OnceLock<realtime::PushMessages>,
    member: &UserId,
) -> Report {
    let mut report = Report::default();
    let connections = match push.registry.connections_of(member).await {
        Ok(connections) => connections,
        Err(e) => {
            tracing::error!(user_id = %member, error = %e, "cannot look up connections; skipping the member");
            return report;
        }
    };
    for connection in connections {
        let message = messages
            .get_or_init(|| realtime::PushMessages::of(event))
            .for_recipient(member);
        let id = &connection.connection_id;
        match push.poster.post(id, message.as_bytes()).await {
            Ok(()) => report.posted += 1,
            Err(PostError::Gone) => {
                report.gone += 1;
                if let Err(e) = push.registry.remove(id).await {
                    tracing::warn!(connection_id = %id, error = %e, "cannot forget a gone connection; its TTL will");
                }
            }
            Err(PostError::Failed(e)) => {
                report.failed += 1;
                tracing::warn!(connection_id = %id, error = %e, "post failed");
            }
        }
    }
    report
}
