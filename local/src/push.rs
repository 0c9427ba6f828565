//! The local stand-in for MSK's event source mappings: events from the in-process bus (or the
//! Kafka poller) are handed to the consumer functions, `sync-push`, `inventory` and
//! `analytics` and `notify`, as `KafkaEvent` batches (records keyed by cart id, spread over partitions,
//! values base64 JSON), so they run exactly as on AWS. `sync-push` posts through the real AWS
//! SDK client, pointed at this stack's own `@connections` emulation.

use aws_lambda_events::event::kafka::{KafkaEvent, KafkaRecord};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use domain::CartEvent;
use std::collections::HashMap;
use std::sync::Arc;
use tokio::sync::{broadcast, mpsc};

/// Partitions of the emulated `cart-events` topic.
const PARTITIONS: u64 = 3;
/// Most records in one batch, as the event source mapping's batch size.
const MAX_BATCH: usize = 100;

/// The consumer functions, as their event source mappings run them.
pub struct Consumers {
    /// `sync-push`.
    pub push: sync_push::Push,
    /// `inventory`.
    pub inventory: inventory::Inventory,
    /// `analytics`' store.
    pub analytics: Arc<dyn domain::analytics::AnalyticsStore>,
    /// `notify`.
    pub notify: notify::Notify,
}

/// Times a failed batch is handed over again, as MSK would redeliver it: each wait is 200 ms
/// longer than the one before, about 20 seconds in all.
const ATTEMPTS: u32 = 14;

impl Consumers {
    /// Hands `batch` to every consumer at once, as their event source mappings would, each
    /// redelivered while it fails.
    pub async fn consume(&self, batch: KafkaEvent) {
        let inventory = redeliver("inventory", || {
            inventory::handle(&self.inventory, batch.clone())
        });
        let push = redeliver("sync-push", || {
            sync_push::handle_and_hold(&self.push, batch.clone())
        });
        let analytics = redeliver("analytics", || {
            analytics::handle(self.analytics.as_ref(), batch.clone())
        });
        let notify = redeliver("notify", || notify::handle(&self.notify, batch.clone()));
        tokio::join!(push, inventory, analytics, notify);
    }
}

/// Runs `consumer` on a batch until it succeeds, up to [`ATTEMPTS`] times, waiting longer
/// after each failure.
async fn redeliver<T, E: std::fmt::Display, F: std::future::Future<Output = Result<T, E>>>(
    name: &str,
    consumer: impl Fn() -> F,
) {
    for attempt in 1..=ATTEMPTS {
        match consumer().await {
            Ok(_) => return,
            Err(e) => {
                tracing::warn!(consumer = name, error = %e, attempt, "a batch failed; delivering it again");
                tokio::time::sleep(std::time::Duration::from_millis(200 * u64::from(attempt)))
                    .await;
            }
        }
    }
    tracing::error!(
        consumer = name,
        "a batch failed every attempt; the trigger's retries are spent"
    );
}

/// Feeds the consumers from the Kafka topic, as MSK's trigger would.
pub async fn run_from_kafka(consumers: Arc<Consumers>, poller: kafka::Poller) {
    let (batches, received) = mpsc::channel(1);
    let feed = poller.run(|batch| {
        let batches = batches.clone();
        async move {
            // Closed only when the consumers stopped, with the stack.
            let _ = batches.send(batch).await;
        }
    });
    tokio::join!(feed, consume_all(consumers, received));
}

/// Feeds the consumers from the in-process bus until it closes.
pub async fn run_from_bus(consumers: Arc<Consumers>, events: broadcast::Receiver<Arc<CartEvent>>) {
    let (batches, received) = mpsc::channel(1);
    tokio::join!(batch_bus(events, batches), consume_all(consumers, received));
}

/// Hands `batches` to the consumers one at a time. Between batches, when none is waiting, it
/// pushes what waited long enough for a missing version; unlike a Lambda, the stack outlives a
/// batch, so a version published after a newer one can still be pushed before it.
async fn consume_all(consumers: Arc<Consumers>, mut batches: mpsc::Receiver<KafkaEvent>) {
    loop {
        let release = consumers.push.next_release();
        // Not polled while nothing waits, but select! builds it all the same.
        let wake = tokio::time::Instant::from_std(release.unwrap_or_else(std::time::Instant::now));
        tokio::select! {
            biased;
            batch = batches.recv() => match batch {
                Some(batch) => consumers.consume(batch).await,
                None => return,
            },
            () = tokio::time::sleep_until(wake), if release.is_some() => {
                if let Err(e) = sync_push::release_due(&consumers.push).await {
                    tracing::warn!(error = %e, "events past a gap could not be pushed; a later batch's redelivery or the next change brings them");
                }
            }
        }
    }
}

/// Gathers the bus's events into batches of what is waiting, as the trigger's poller would.
async fn batch_bus(
    mut events: broadcast::Receiver<Arc<CartEvent>>,
    batches: mpsc::Sender<KafkaEvent>,
) {
    let mut offsets = [0i64; PARTITIONS as usize];
    loop {
        let first = match events.recv().await {
            Ok(event) => event,
            Err(broadcast::error::RecvError::Lagged(missed)) => {
                // Clients see the gap in versions and re-read their carts.
                tracing::warn!(
                    missed,
                    "the push consumer fell behind; some pushes were skipped"
                );
                continue;
            }
            Err(broadcast::error::RecvError::Closed) => return,
        };
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match events.try_recv() {
                Ok(event) => batch.push(event),
                Err(_) => break,
            }
        }
        if batches
            .send(kafka_batch(&batch, &mut offsets))
            .await
            .is_err()
        {
            return;
        }
    }
}

/// The batch as MSK would deliver it: records grouped by `topic-partition`.
fn kafka_batch(events: &[Arc<CartEvent>], offsets: &mut [i64]) -> KafkaEvent {
    let mut records: HashMap<String, Vec<KafkaRecord>> = HashMap::new();
    for event in events {
        let key = event.cart_id.to_string();
        let partition = partition_of(&key);
        let offset = &mut offsets[partition as usize];
        *offset += 1;
        let mut record = KafkaRecord::default();
        record.topic = Some("cart-events".into());
        record.partition = partition as i64;
        record.offset = *offset;
        record.key = Some(STANDARD.encode(&key));
        record.value =
            Some(STANDARD.encode(serde_json::to_vec(event.as_ref()).unwrap_or_default()));
        records
            .entry(format!("cart-events-{partition}"))
            .or_default()
            .push(record);
    }
    let mut batch = KafkaEvent::default();
    batch.event_source = Some("aws:kafka".into());
    batch.records = records;
    batch
}

/// Kafka's idea of a key's partition, stably: the same cart always lands on the same one, so
/// its events stay in order.
fn partition_of(key: &str) -> u64 {
    // FNV-1a: tiny, stable across runs and builds.
    let hash = key.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    });
    hash % PARTITIONS
}
