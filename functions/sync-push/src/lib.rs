//! `sync-push`: the consumer that makes a cart shared live. For every cart event in an MSK batch
//! it finds the connections of every member and posts them the change, concurrently (with a
//! bound) across members and partitions, in order within a partition, so each cart's
//! changes arrive in version order. A connection that is gone (410) is forgotten; a record that
//! does not decode is logged and counted and the batch goes on: nothing here panics or fails
//! the batch, so no poison record can stall a partition. An event no newer than what this
//! instance already pushed for its cart (a redelivery) is skipped.

use aws_lambda_events::event::kafka::{KafkaEvent, KafkaRecord};
use domain::{CartEvent, CartId, ConnectionPoster, ConnectionRegistry, PostError, UserId};
use futures_util::StreamExt;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

/// Members served at once for one event (each a lookup, then a post per connection); API
/// Gateway's management API takes thousands of posts per second, and a Lambda has few sockets
/// to spare.
pub const MAX_CONCURRENT_MEMBERS: usize = 64;

/// Carts whose newest pushed version this instance remembers; past it, it forgets them all
/// and starts again (a forgotten cart costs at most one repeated push).
const REMEMBERED_CARTS: usize = 100_000;

/// What the push function needs: where connections are, and how to reach them.
pub struct Push {
    /// The connection registry.
    pub registry: Arc<dyn ConnectionRegistry>,
    /// The management API.
    pub poster: Arc<dyn ConnectionPoster>,
    /// The versions this instance pushed lately, per cart.
    pushed: Mutex<HashMap<CartId, Pushed>>,
}

/// The versions of one cart pushed lately: the newest, and which of the 64 before it.
#[derive(Clone, Copy, Default)]
struct Pushed {
    newest: u64,
    /// Bit `n` set: version `newest - n` was pushed.
    recent: u64,
}

impl Pushed {
    /// Records `version`; false if it was pushed already (or is too old to tell, which only a
    /// redelivery far behind its cart's stream could be).
    fn record(&mut self, version: u64) -> bool {
        if version > self.newest {
            let shift = version - self.newest;
            self.recent = if shift >= 64 { 0 } else { self.recent << shift };
            self.recent |= 1;
            self.newest = version;
            return true;
        }
        let age = self.newest - version;
        if age >= 64 || self.recent & (1 << age) != 0 {
            return false;
        }
        self.recent |= 1 << age;
        true
    }
}

impl Push {
    /// Pushes through `poster` to the connections `registry` knows.
    pub fn new(registry: Arc<dyn ConnectionRegistry>, poster: Arc<dyn ConnectionPoster>) -> Self {
        Self {
            registry,
            poster,
            pushed: Mutex::default(),
        }
    }

    /// True the first time this instance sees a version of the cart. A redelivered batch, or an
    /// event the outbox relay republished after the broker took it after all, is not: members
    /// already have it. A version that arrives after newer ones (the outbox can reorder a
    /// cart's events) is news, and pushed: clients drop what is not newer than they hold.
    fn is_news(&self, event: &CartEvent) -> bool {
        if !event.event_type.is_change() {
            // A notice carries the version of the change it is about, which was pushed already.
            return true;
        }
        let mut pushed = self.pushed.lock().unwrap_or_else(|p| p.into_inner());
        if pushed.len() >= REMEMBERED_CARTS && !pushed.contains_key(&event.cart_id) {
            pushed.clear();
        }
        pushed
            .entry(event.cart_id)
            .or_default()
            .record(event.version)
    }
}

#[cfg(test)]
mod tests {
    use super::Pushed;

    #[test]
    fn a_version_is_news_once_even_when_it_comes_late() {
        let mut pushed = Pushed::default();
        assert!(pushed.record(4));
        assert!(pushed.record(5));
        assert!(!pushed.record(5), "a repeat");
        assert!(pushed.record(3), "late, but never pushed");
        assert!(!pushed.record(3));
        assert!(!pushed.record(4));
        assert!(pushed.record(200), "a jump past the window");
        assert!(!pushed.record(100), "too old to tell: treated as a repeat");
        assert!(pushed.record(199));
    }
}

/// What one batch did, for logs and tests.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Report {
    /// Records in the batch.
    pub records: usize,
    /// Records that were not cart events (logged, skipped).
    pub undecodable: usize,
    /// Events not newer than what this instance already pushed for their cart (skipped).
    pub repeated: usize,
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
    let mut report = Report {
        records: records.len(),
        ..Report::default()
    };
    let mut events: Vec<CartEvent> = records
        .iter()
        .filter_map(edge::records::cart_event)
        .collect();
    report.undecodable = report.records - events.len();
    // Two writers of one cart publish in the order they finish, which need not be version
    // order: within a batch, each cart's events go out by version (a stable sort, so a notice
    // stays behind the change it is about; other carts are independent of each other).
    events.sort_by_key(|event| (event.cart_id, event.version));
    for event in events {
        if push.is_news(&event) {
            report.add(push_event(push, &event).await);
        } else {
            report.repeated += 1;
        }
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
