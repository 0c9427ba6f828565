//! `sync-push`: the consumer that makes a cart shared live. For every cart event in an MSK batch
//! it finds the connections of every member and posts them the change, concurrently (with a
//! bound) across members and partitions, in order within a partition, so each cart's
//! changes arrive in version order. Which events go out when, and which are repeats, is the
//! [`sequencer`]'s call.
//!
//! What it cannot post:
//! - a connection that is gone (410) is forgotten;
//! - any other failed post (throttling, a 5xx, a timeout) is tried again, [`POST_ATTEMPTS`] times
//!   in all with a jittered backoff; a connection that takes nothing for [`BROKEN_AFTER`] events
//!   in a row is broken, and is forgotten too rather than tried on every later event;
//! - when the registry cannot say who is connected, the batch fails, so the trigger hands it
//!   over again, and the events this instance could not push to everyone are kept and pushed
//!   first by its next batch (a member who got one already drops the repeat by its version).
//!
//! A record that does not decode is logged and counted and the batch goes on, so no poison
//! record can stall a partition.
//!
//! A member told they were removed from a cart stops viewing it: their connections' presence
//! there is cleared and a presence notice sent, so the others see them go at once and they
//! hear no more about who has the cart open.

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

/// Posts to one connection for one event before it counts as broken: the SDK retries each
/// call too, so this is for a failure that outlasts its retries by a moment.
pub const POST_ATTEMPTS: u32 = 3;

/// Events in a row a connection took no post for (each after [`POST_ATTEMPTS`]) before it
/// counts as broken and is forgotten: one throttled moment does not cut a member off.
pub const BROKEN_AFTER: u32 = 3;

/// How soon [`release_due`] tries again the events it could not push.
const UNSENT_RETRY: Duration = Duration::from_millis(500);

/// The first wait between posts to one connection; each later wait doubles it.
const POST_BACKOFF: Duration = Duration::from_millis(20);

/// The registry could not say who is connected, so the batch cannot be pushed: the trigger
/// must hand it over again.
#[derive(Debug, thiserror::Error)]
#[error("the connection registry could not name {user}'s connections")]
pub struct AudienceUnknown {
    user: UserId,
    #[source]
    source: domain::ports::StoreError,
}

/// What the push function needs: where connections are, and how to reach them.
pub struct Push {
    /// The connection registry.
    pub registry: Arc<dyn ConnectionRegistry>,
    /// The management API.
    pub poster: Arc<dyn ConnectionPoster>,
    /// What this instance pushed lately, and what waits for a missing version.
    sequencer: Mutex<Sequencer>,
    /// Events whose push failed (the registry down), in order: the sequencer has them as
    /// pushed, so a redelivery of their batch would drop them as repeats, and an event released
    /// from its wait belongs to a batch long acknowledged. The next batch or release pushes
    /// them first.
    unsent: Mutex<Vec<CartEvent>>,
    /// Connections whose posts failed every attempt, by how many events in a row.
    failing: Mutex<std::collections::HashMap<domain::ConnectionId, u32>>,
    /// Where presence changes are announced (a removed member leaving the cart's viewers).
    notices: Option<Arc<dyn domain::PresenceNotices>>,
}

impl Push {
    /// Pushes through `poster` to the connections `registry` knows.
    pub fn new(registry: Arc<dyn ConnectionRegistry>, poster: Arc<dyn ConnectionPoster>) -> Self {
        Self {
            registry,
            poster,
            sequencer: Mutex::new(Sequencer::new(sequencer::HOLD_FOR_MISSING)),
            unsent: Mutex::new(Vec::new()),
            failing: Mutex::new(std::collections::HashMap::new()),
            notices: None,
        }
    }

    /// The same, announcing presence changes through `notices`.
    pub fn announcing_presence(mut self, notices: Arc<dyn domain::PresenceNotices>) -> Self {
        self.notices = Some(notices);
        self
    }

    /// The same, with events waiting at most `hold` for a missing version.
    pub fn holding_for(mut self, hold: Duration) -> Self {
        self.sequencer = Mutex::new(Sequencer::new(hold));
        self
    }

    /// When [`release_due`] next has something to push, if anything waits.
    pub fn next_release(&self) -> Option<Instant> {
        if !self.unsent().is_empty() {
            return Some(Instant::now() + UNSENT_RETRY);
        }
        self.sequencer().next_release()
    }

    fn failing(&self) -> MutexGuard<'_, std::collections::HashMap<domain::ConnectionId, u32>> {
        self.failing.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn unsent(&self) -> MutexGuard<'_, Vec<CartEvent>> {
        self.unsent.lock().unwrap_or_else(|p| p.into_inner())
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
    /// Posts that failed and were tried again.
    pub retried: usize,
    /// Connections that took nothing after every attempt, and were forgotten.
    pub failed: usize,
}

impl Report {
    /// Counts what the batch did, for the operator's metrics.
    fn count(&self) {
        use domain::metrics::{Metric, count};
        count(Metric::PushesSent, self.posted as u64);
        count(Metric::PushesGone, self.gone as u64);
        count(Metric::PushesFailed, self.failed as u64);
        count(Metric::SequencerWaits, self.waited as u64);
    }

    fn add(&mut self, other: Report) {
        self.records += other.records;
        self.undecodable += other.undecodable;
        self.repeated += other.repeated;
        self.waited += other.waited;
        self.posted += other.posted;
        self.gone += other.gone;
        self.retried += other.retried;
        self.failed += other.failed;
    }
}

/// Pushes every event of `batch`, as the Lambda's trigger hands it over: partitions
/// concurrently, each cart in version order. Nothing is left waiting when it returns, since the
/// trigger hands this partition's next batch over only then, perhaps to another instance.
pub async fn handle(push: &Push, batch: KafkaEvent) -> Result<Report, AudienceUnknown> {
    let mut report = handle_and_hold(push, batch).await?;
    let rest = push.sequencer().release_all();
    let released = push_in_order(push, rest).await?;
    released.count();
    report.add(released);
    Ok(report)
}

/// Pushes every event of `batch` that is next in line; an event that skips a version of its
/// cart waits for it, for a caller that hands batches over as they come and calls
/// [`release_due`] between them (the local stack).
pub async fn handle_and_hold(push: &Push, batch: KafkaEvent) -> Result<Report, AudienceUnknown> {
    let earlier = push_unsent(push).await?;
    earlier.count();
    let partitions = batch.records.into_values().map(|mut records| {
        records.sort_by_key(|r| r.offset);
        push_partition(push, records)
    });
    let mut report = earlier;
    let mut failed = None;
    for partition in futures_util::future::join_all(partitions).await {
        match partition {
            Ok(pushed) => report.add(pushed),
            Err(e) => failed = Some(e),
        }
    }
    tracing::info!(?report, "batch pushed");
    report.count();
    match failed {
        Some(e) => Err(e),
        None => Ok(report),
    }
}

/// Pushes the events whose wait for a missing version is over.
pub async fn release_due(push: &Push) -> Result<Report, AudienceUnknown> {
    let due = push.sequencer().release_due(Instant::now());
    if !due.is_empty() {
        tracing::warn!(
            events = due.len(),
            "pushing past a version that did not come in time"
        );
    }
    let mut report = push_unsent(push).await?;
    report.add(push_in_order(push, due).await?);
    report.count();
    Ok(report)
}

async fn push_partition(push: &Push, records: Vec<KafkaRecord>) -> Result<Report, AudienceUnknown> {
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
            Admitted::Ready(ready) => report.add(push_in_order(push, ready).await?),
        }
    }
    Ok(report)
}

/// Pushes `events` one after another, so each cart's stay in the order given. When one cannot
/// be pushed, it and the ones after it are taken back from the sequencer.
async fn push_in_order(push: &Push, events: Vec<CartEvent>) -> Result<Report, AudienceUnknown> {
    let mut report = Report::default();
    for (at, event) in events.iter().enumerate() {
        match push_event(push, event).await {
            Ok(pushed) => report.add(pushed),
            Err(e) => {
                push.unsent().extend(events[at..].iter().cloned());
                return Err(e);
            }
        }
    }
    Ok(report)
}

/// Pushes, first and in order, the events an earlier push could not: kept until they go.
async fn push_unsent(push: &Push) -> Result<Report, AudienceUnknown> {
    let unsent = std::mem::take(&mut *push.unsent());
    push_in_order(push, unsent).await
}

/// Posts `event` to every connection of every member it names: members concurrently (with a
/// bound), each member's lookup followed by its posts, so lookups and posts overlap. On DynamoDB
/// a lookup is a query of its own, and a thousand of them one after another would be seconds.
#[tracing::instrument(name = "push", skip_all, fields(cart_id = %event.cart_id, version = event.version))]
async fn push_event(push: &Push, event: &CartEvent) -> Result<Report, AudienceUnknown> {
    // Built by the first member found connected: at a thousand members nobody may be online,
    // and a membership change's snapshot is tens of KB.
    let messages = &OnceLock::new();
    let reports: Vec<Result<Report, AudienceUnknown>> =
        futures_util::stream::iter(event.members.iter().cloned())
            .map(|member| async move { push_member(push, event, messages, &member).await })
            .buffer_unordered(MAX_CONCURRENT_MEMBERS)
            .collect()
            .await;
    let mut report = Report::default();
    for member in reports {
        report.add(member?);
    }
    Ok(report)
}

/// Posts `event` to each of `member`'s connections.
async fn push_member(
    push: &Push,
    event: &CartEvent,
    messages: &OnceLock<realtime::PushMessages>,
    member: &UserId,
) -> Result<Report, AudienceUnknown> {
    let mut report = Report::default();
    let connections = push
        .registry
        .connections_of(member)
        .await
        .map_err(|source| AudienceUnknown {
            user: member.clone(),
            source,
        })?;
    for connection in connections {
        let message = messages
            .get_or_init(|| realtime::PushMessages::of(event))
            .for_recipient(member);
        let id = &connection.connection_id;
        match post_with_retries(push, id, message.as_bytes(), &mut report).await {
            Ok(()) => {
                report.posted += 1;
                push.failing().remove(id);
                if messages.get().is_some_and(|m| m.removes(member)) {
                    stop_viewing(push, &connection, event.cart_id).await;
                }
            }
            Err(PostError::Gone) => {
                report.gone += 1;
                // A new connection answers 410 until its handshake is done: it stays.
                if !connection.may_still_be_opening(chrono::Utc::now()) {
                    forget(push, id).await;
                }
            }
            Err(PostError::Failed(e)) => {
                report.failed += 1;
                let in_a_row = {
                    let mut failing = push.failing();
                    let count = failing.entry(id.clone()).or_default();
                    *count += 1;
                    *count
                };
                tracing::warn!(connection_id = %id, error = %e, in_a_row, "a connection took no post");
                if in_a_row >= BROKEN_AFTER {
                    push.failing().remove(id);
                    forget(push, id).await;
                }
            }
        }
    }
    Ok(report)
}

/// Posts `message`, trying a failure other than a gone connection again after a jittered,
/// doubling wait, [`POST_ATTEMPTS`] times in all.
async fn post_with_retries(
    push: &Push,
    id: &domain::ConnectionId,
    message: &[u8],
    report: &mut Report,
) -> Result<(), PostError> {
    let mut attempt = 1;
    loop {
        match push.poster.post(id, message).await {
            Err(PostError::Failed(e)) if attempt < POST_ATTEMPTS => {
                tracing::debug!(connection_id = %id, error = %e, attempt, "post failed; trying again");
                report.retried += 1;
                let bound = POST_BACKOFF * 2u32.pow(attempt - 1);
                tokio::time::sleep(bound.mul_f64(0.5 + fastrand::f64() / 2.0)).await;
                attempt += 1;
            }
            other => return other,
        }
    }
}

/// Ends a removed member's presence in `cart` if the connection is there (not if it moved to
/// another cart meanwhile: the registry checks, not the copy this batch read), and announces
/// it; presence's TTL covers what fails here.
async fn stop_viewing(push: &Push, connection: &domain::Connection, cart: domain::CartId) {
    let id = &connection.connection_id;
    match push.registry.leave(id, cart).await {
        Ok(true) => {
            if let Some(notices) = &push.notices
                && let Err(e) = notices.changed(cart).await
            {
                tracing::warn!(cart_id = %cart, error = %e, "presence notice not sent");
            }
        }
        Ok(false) => {}
        Err(e) => {
            tracing::warn!(connection_id = %id, error = %e, "cannot end a removed member's presence");
        }
    }
}

/// Forgets a connection that takes no posts; if the registry cannot, its TTL will.
async fn forget(push: &Push, id: &domain::ConnectionId) {
    if let Err(e) = push.registry.remove(id).await {
        tracing::warn!(connection_id = %id, error = %e, "cannot forget a connection; its TTL will");
    }
}
