//! The events topic, created with Kafka's own CreateTopics: MSK's topic APIs (and so
//! CloudFormation's `AWS::MSK::Topic`) are "not available for MSK Serverless clusters"
//! ("Topic Operations", MSK Developer Guide), while a Kafka client with `kafka-cluster:CreateTopic`
//! may create one there, as the MSK Serverless tutorial does with `kafka-topics.sh --create`.

use crate::{KafkaError, bounded};
use rskafka::client::Client;
use rskafka::client::error::Error as ClientError;
use rskafka::client::error::ProtocolError;

/// Let the cluster choose the replication factor (-1), as `kafka-topics.sh --create` does without
/// `--replication-factor`; MSK Serverless sets its own.
pub const CLUSTER_DEFAULT_REPLICATION: i16 = -1;

/// How long the broker may take to create the topic.
const CREATE_TIMEOUT_MS: i32 = 30_000;

/// What [`ensure`] found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ensured {
    /// The topic was created now.
    Created,
    /// It was there already, and was left as it is.
    Existed,
}

/// Creates `topic` with `partitions` unless it exists. An existing topic is left as it is, its
/// partitions included: Kafka can add partitions but never remove them, and adding them moves
/// carts between partitions, which would break the order of their events.
pub async fn ensure(
    client: &Client,
    topic: &str,
    partitions: i32,
    replication: i16,
) -> Result<Ensured, KafkaError> {
    let topics = bounded(client.list_topics()).await?;
    if topics.iter().any(|t| t.name == topic) {
        return Ok(Ensured::Existed);
    }
    let controller = client.controller_client().map_err(KafkaError::from)?;
    let created = tokio::time::timeout(
        std::time::Duration::from_millis(CREATE_TIMEOUT_MS as u64 + 5_000),
        controller.create_topic(topic, partitions, replication, CREATE_TIMEOUT_MS),
    )
    .await
    .map_err(|_| KafkaError::TimedOut)?;
    match created {
        Ok(()) => Ok(Ensured::Created),
        // Another creator won the race since the listing.
        Err(ClientError::ServerError {
            protocol_error: ProtocolError::TopicAlreadyExists,
            ..
        }) => Ok(Ensured::Existed),
        Err(e) => Err(e.into()),
    }
}
