//! The events topic as a CloudFormation custom resource (`Custom::KafkaTopic`). MSK's topic
//! APIs, and so `AWS::MSK::Topic`, are "not available for MSK Serverless clusters" ("Topic
//! Operations", MSK Developer Guide); a Kafka client may still create topics there with
//! `kafka-cluster:CreateTopic`. This function does, with Kafka's own CreateTopics over MSK IAM.
//!
//! - `Create` and `Update`: the topic is created unless it exists. An existing topic is left as
//!   it is (see [`kafka::topics::ensure`]); the physical id is the topic's name.
//! - `Delete`: nothing. The topic holds the events nobody has consumed yet; it goes with the
//!   cluster when the stack made the cluster, and stays on a cluster the stack was given.
//!
//! Every request is answered, in time ([`custom_resource::respond`]).

use async_trait::async_trait;
use custom_resource::{Answer, Done, RequestType, ResourceRequest, ResourceResponse};
use domain::ports::BoxError;
use serde_json::{Value, json};

/// The largest partition count accepted. MSK Serverless allows thousands per cluster; a cart
/// topic needs a few.
pub const MAX_PARTITIONS: i32 = 1000;

/// The topic a request asks for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TopicSpec {
    /// Its name.
    pub topic: String,
    /// Its partition count, when it has to be created.
    pub partitions: i32,
}

impl TopicSpec {
    /// The spec in `properties` (`Topic`, `Partitions`), or why it is not one.
    pub fn from_properties(properties: &Value) -> Result<Self, String> {
        let topic = properties["Topic"]
            .as_str()
            .ok_or("the Topic property is missing")?
            .to_owned();
        // Kafka's rule for topic names.
        let valid = !topic.is_empty()
            && topic.len() <= 249
            && topic
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
        if !valid {
            return Err(format!(
                "{topic:?} is not a Kafka topic name (letters, digits, '.', '_', '-')"
            ));
        }
        let partitions = match &properties["Partitions"] {
            Value::String(text) => text.trim().parse::<i32>().ok(),
            Value::Number(number) => number.as_i64().and_then(|n| i32::try_from(n).ok()),
            _ => None,
        }
        .filter(|n| (1..=MAX_PARTITIONS).contains(n))
        .ok_or_else(|| format!("Partitions must be a whole number from 1 to {MAX_PARTITIONS}"))?;
        Ok(Self { topic, partitions })
    }
}

/// Makes sure a topic exists.
#[async_trait]
pub trait Topics: Send + Sync {
    /// Creates `spec`'s topic unless it exists; whether this call created it.
    async fn ensure(&self, spec: &TopicSpec) -> Result<bool, BoxError>;
}

/// Topics on the brokers a function's config names, connected for each request: a custom
/// resource is asked a few times in a stack's life, and a broker unreachable at cold start must
/// still get its `FAILED` answer sent.
pub struct KafkaTopics {
    config: wiring::Config,
}

impl KafkaTopics {
    /// Topics on the brokers of `config` (`KAFKA_BROKERS` or `MSK_CLUSTER_ARN`, `KAFKA_AUTH`).
    pub fn new(config: wiring::Config) -> Self {
        Self { config }
    }
}

#[async_trait]
impl Topics for KafkaTopics {
    async fn ensure(&self, spec: &TopicSpec) -> Result<bool, BoxError> {
        let client = wiring::kafka_client(&self.config)
            .await?
            .ok_or("KAFKA_BROKERS or MSK_CLUSTER_ARN must be set")?;
        let ensured = kafka::topics::ensure(
            &client,
            &spec.topic,
            spec.partitions,
            kafka::topics::CLUSTER_DEFAULT_REPLICATION,
        )
        .await?;
        Ok(ensured == kafka::topics::Ensured::Created)
    }
}

/// Does what `request` asks and sends the answer to its response URL; returns the answer.
pub async fn handle(
    topics: &dyn Topics,
    answer: &dyn Answer,
    request: &ResourceRequest,
) -> ResourceResponse {
    custom_resource::respond(request, answer, work(topics, request)).await
}

/// The topic's name, and whether this request created it.
async fn work(topics: &dyn Topics, request: &ResourceRequest) -> Result<Done, String> {
    if request.request_type == RequestType::Delete {
        let kept = request.current_id();
        tracing::info!(topic = %kept, "the stack no longer names the topic; it is kept");
        return Ok((kept.clone(), json!({"Topic": kept, "Created": "false"})));
    }
    let spec = TopicSpec::from_properties(&request.resource_properties)?;
    let created = topics
        .ensure(&spec)
        .await
        .map_err(|e| custom_resource::reason(e.as_ref()))?;
    tracing::info!(topic = %spec.topic, partitions = spec.partitions, created, "the topic exists");
    Ok((
        spec.topic.clone(),
        json!({"Topic": spec.topic, "Created": created.to_string()}),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_properties_read_as_cloudformation_sends_them() {
        let spec = TopicSpec::from_properties(&json!({"Topic": "cart-events", "Partitions": "6"}));
        assert_eq!(
            spec,
            Ok(TopicSpec {
                topic: "cart-events".into(),
                partitions: 6
            })
        );
        let number = TopicSpec::from_properties(&json!({"Topic": "t", "Partitions": 3}));
        assert_eq!(number.map(|s| s.partitions), Ok(3));
    }

    #[test]
    fn a_bad_name_or_partition_count_says_what_is_wrong() {
        for properties in [
            json!({"Partitions": "6"}),
            json!({"Topic": "cart events", "Partitions": "6"}),
            json!({"Topic": "", "Partitions": "6"}),
            json!({"Topic": "t", "Partitions": "0"}),
            json!({"Topic": "t", "Partitions": "six"}),
            json!({"Topic": "t", "Partitions": "100000"}),
        ] {
            assert!(
                TopicSpec::from_properties(&properties).is_err(),
                "{properties}"
            );
        }
    }
}
