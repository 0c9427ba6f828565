//! The cart event publisher: one record per event on the cart's partition of the topic, key =
//! cart id, value = the event's JSON, the event type in a header. The produce waits for every
//! in-sync replica (`acks=all`, rskafka's only setting), so an acknowledged publish survives a
//! broker loss. rskafka has no idempotent producer: a retried produce may write an event twice,
//! which consumers absorb (they deduplicate by cart id and version).

use crate::partitioner::partition_for;
use crate::{KafkaError, partitions_of};
use async_trait::async_trait;
use domain::CartEvent;
use domain::ports::{EventPublisher, PublishError};
use rskafka::client::Client;
use rskafka::client::partition::{Compression, PartitionClient, UnknownTopicHandling};
use rskafka::record::Record;
use std::collections::BTreeMap;

/// Publishes cart events to one topic.
pub struct KafkaPublisher {
    partitions: Vec<PartitionClient>,
}

impl KafkaPublisher {
    /// A publisher to `topic`, which must exist; connects to each partition's leader now (at
    /// cold start) rather than on the first change.
    pub async fn connect(client: &Client, topic: &str) -> Result<Self, KafkaError> {
        let mut partitions = Vec::new();
        for partition in partitions_of(client, topic).await? {
            partitions.push(
                crate::bounded(client.partition_client(
                    topic,
                    partition,
                    UnknownTopicHandling::Error,
                ))
                .await?,
            );
        }
        Ok(Self { partitions })
    }
}

#[async_trait]
impl EventPublisher for KafkaPublisher {
    async fn publish(&self, event: &CartEvent) -> Result<(), PublishError> {
        let key = event.cart_id.to_string();
        let partition = self
            .partitions
            .get(partition_for(key.as_bytes(), self.partitions.len()))
            .ok_or_else(|| PublishError("the topic has no partitions".into()))?;
        let value = serde_json::to_vec(event).map_err(|e| PublishError(e.into()))?;
        let record = Record {
            key: Some(key.into_bytes()),
            value: Some(value),
            headers: BTreeMap::from([(
                "type".to_owned(),
                format!("{:?}", event.event_type).into_bytes(),
            )]),
            timestamp: event.occurred_at,
        };
        crate::bounded(partition.produce(vec![record], Compression::NoCompression))
            .await
            .map_err(|e| PublishError(e.into()))?;
        Ok(())
    }
}
