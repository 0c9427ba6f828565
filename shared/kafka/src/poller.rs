//! The local stand-in for MSK's event source mapping: each partition of the topic is read from
//! its latest offset on, and whatever a fetch returns is handed to the consumer as one
//! `KafkaEvent` (records under `topic-partition`, key and value base64, as Lambda receives
//! them). A partition's batches go one at a time and in offset order, partitions in parallel.
//! Offsets live in memory: a restart starts again from the latest, as `StartingPosition:
//! LATEST` does.

use crate::{KafkaError, partitions_of};
use aws_lambda_events::event::kafka::{KafkaEvent, KafkaRecord};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use rskafka::client::Client;
use rskafka::client::partition::{OffsetAt, PartitionClient, UnknownTopicHandling};
use rskafka::record::RecordAndOffset;
use std::future::Future;
use std::time::Duration;

/// The most a fetch asks for: MSK's default batch is up to 6 MB of records.
const MAX_FETCH_BYTES: i32 = 6 * 1024 * 1024;
/// How long a fetch waits on the broker for records (it returns as soon as one arrives).
const MAX_WAIT_MS: i32 = 250;
/// The pause before fetching again after the broker failed.
const RETRY_AFTER: Duration = Duration::from_millis(500);

/// Reads one topic's partitions and hands each batch to a consumer.
pub struct Poller {
    topic: String,
    partitions: Vec<(PartitionClient, i64)>,
}

impl Poller {
    /// A poller of `topic` positioned at the latest offset of each partition: it will see what
    /// is produced from now on.
    pub async fn connect(client: &Client, topic: &str) -> Result<Self, KafkaError> {
        let mut partitions = Vec::new();
        for partition in partitions_of(client, topic).await? {
            let reader = crate::bounded(client.partition_client(
                topic,
                partition,
                UnknownTopicHandling::Error,
            ))
            .await?;
            let next = crate::bounded(reader.get_offset(OffsetAt::Latest)).await?;
            partitions.push((reader, next));
        }
        Ok(Self {
            topic: topic.to_owned(),
            partitions,
        })
    }

    /// Hands every batch to `consume` until the returned future is dropped. A failed fetch is
    /// logged and retried; the consumer's own failures are its business (as with Lambda,
    /// where a function that returns has consumed its batch).
    pub async fn run<F, Fut>(self, consume: F)
    where
        F: Fn(KafkaEvent) -> Fut + Sync,
        Fut: Future<Output = ()>,
    {
        let topic = &self.topic;
        let consume = &consume;
        let readers = self
            .partitions
            .into_iter()
            .map(|(reader, next)| read_partition(topic, reader, next, consume));
        futures_util::future::join_all(readers).await;
    }
}

async fn read_partition<F, Fut>(topic: &str, reader: PartitionClient, mut next: i64, consume: &F)
where
    F: Fn(KafkaEvent) -> Fut,
    Fut: Future<Output = ()>,
{
    loop {
        let fetch = reader.fetch_records(next, 1..MAX_FETCH_BYTES, MAX_WAIT_MS);
        let fetched = tokio::time::timeout(crate::CALL_DEADLINE, fetch)
            .await
            .map_err(|_| KafkaError::TimedOut)
            .and_then(|f| f.map_err(KafkaError::from));
        match fetched {
            Ok((records, _high_watermark)) if records.is_empty() => {}
            Ok((records, _)) => {
                next = records.iter().map(|r| r.offset).max().unwrap_or(next - 1) + 1;
                consume(batch(topic, reader.partition(), records)).await;
            }
            Err(e) => {
                tracing::warn!(topic, partition = reader.partition(), error = %e, "fetch failed; retrying");
                tokio::time::sleep(RETRY_AFTER).await;
            }
        }
    }
}

/// The records as Lambda's MSK event carries them.
fn batch(topic: &str, partition: i32, records: Vec<RecordAndOffset>) -> KafkaEvent {
    let records = records
        .into_iter()
        .map(|r| {
            let mut record = KafkaRecord::default();
            record.topic = Some(topic.to_owned());
            record.partition = i64::from(partition);
            record.offset = r.offset;
            record.timestamp =
                aws_lambda_events::encodings::MillisecondTimestamp(r.record.timestamp);
            record.timestamp_type = Some("CREATE_TIME".to_owned());
            record.key = r.record.key.map(|k| STANDARD.encode(k));
            record.value = r.record.value.map(|v| STANDARD.encode(v));
            record.headers = r
                .record
                .headers
                .into_iter()
                .map(|(name, value)| {
                    // Lambda gives header values as signed bytes.
                    let signed = value.into_iter().map(|b| b as i8).collect();
                    std::iter::once((name, signed)).collect()
                })
                .collect();
            record
        })
        .collect();
    let mut event = KafkaEvent::default();
    event.event_source = Some("aws:kafka".to_owned());
    event.records = std::iter::once((format!("{topic}-{partition}"), records)).collect();
    event
}
