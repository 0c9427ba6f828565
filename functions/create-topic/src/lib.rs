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
//! CloudFormation waits for the answer at the request's presigned S3 URL, up to an hour, and
//! fails the stack operation without it ("CloudFormation custom resource request and response
//! reference"). So every request gets an answer, `FAILED` with the reason when the topic could
//! not be made, and the work is bounded well inside the function's timeout.

mod answer;

pub use answer::{Answer, HttpsAnswer};

use async_trait::async_trait;
use domain::ports::BoxError;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use std::time::Duration;

/// How long the work may take before the answer says it failed: the template gives the
/// function 60 s, and the answer itself needs a few.
pub const WORK_DEADLINE: Duration = Duration::from_secs(45);

/// The largest partition count accepted. MSK Serverless allows thousands per cluster; a cart
/// topic needs a few.
pub const MAX_PARTITIONS: i32 = 1000;

/// What CloudFormation asks for.
#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
pub enum RequestType {
    /// The resource is new.
    Create,
    /// Its properties changed.
    Update,
    /// It is going.
    Delete,
}

/// A custom resource request, as CloudFormation sends it.
#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ResourceRequest {
    /// Create, Update or Delete.
    pub request_type: RequestType,
    /// Where the answer goes (a presigned S3 URL).
    #[serde(rename = "ResponseURL")]
    pub response_url: String,
    /// The stack.
    pub stack_id: String,
    /// This request.
    pub request_id: String,
    /// The resource's name in the template.
    pub logical_resource_id: String,
    /// The id the last answer gave (Update, Delete).
    #[serde(default)]
    pub physical_resource_id: Option<String>,
    /// The resource's properties: `Topic` and `Partitions` (CloudFormation sends numbers as
    /// strings).
    #[serde(default)]
    pub resource_properties: Value,
}

/// The answer CloudFormation reads from the response URL.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ResourceResponse {
    /// `SUCCESS` or `FAILED`.
    pub status: &'static str,
    /// Why, when it failed (CloudFormation shows it in the stack's events).
    pub reason: String,
    /// The topic's name.
    pub physical_resource_id: String,
    /// Echoed from the request.
    pub stack_id: String,
    /// Echoed from the request.
    pub request_id: String,
    /// Echoed from the request.
    pub logical_resource_id: String,
    /// `Topic` and `Created` (`true` when this request made it).
    pub data: Value,
}

/// The topic a request asks for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TopicSpec {
    /// Its name.
    pub topic: String,
    /// Its partition count, when it has to be created.
    pub partitions: i32,
}

impl TopicSpec {
    /// The spec in `properties`, or why it is not one.
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
    let outcome = tokio::time::timeout(WORK_DEADLINE, work(topics, request))
        .await
        .unwrap_or_else(|_| {
            Err(format!(
                "the brokers did not answer within {WORK_DEADLINE:?}"
            ))
        });
    let (status, reason, physical, data) = match outcome {
        Ok((topic, created)) => (
            "SUCCESS",
            String::new(),
            topic.clone(),
            json!({"Topic": topic, "Created": created.to_string()}),
        ),
        Err(reason) => {
            tracing::error!(%reason, request = ?request.request_type, "the topic request failed");
            let physical = request
                .physical_resource_id
                .clone()
                .unwrap_or_else(|| request.logical_resource_id.clone());
            ("FAILED", reason, physical, json!({}))
        }
    };
    let response = ResourceResponse {
        status,
        reason,
        physical_resource_id: physical,
        stack_id: request.stack_id.clone(),
        request_id: request.request_id.clone(),
        logical_resource_id: request.logical_resource_id.clone(),
        data,
    };
    if let Err(e) = answer.put(&request.response_url, &response).await {
        // Nothing more can be done: CloudFormation will time the request out.
        tracing::error!(error = %e, "could not send the answer to CloudFormation");
    }
    response
}

/// The topic's name and whether this request created it.
async fn work(topics: &dyn Topics, request: &ResourceRequest) -> Result<(String, bool), String> {
    if request.request_type == RequestType::Delete {
        let kept = request
            .physical_resource_id
            .clone()
            .unwrap_or_else(|| request.logical_resource_id.clone());
        tracing::info!(topic = %kept, "the stack no longer names the topic; it is kept");
        return Ok((kept, false));
    }
    let spec = TopicSpec::from_properties(&request.resource_properties)?;
    let created = topics.ensure(&spec).await.map_err(|e| {
        let mut reason = e.to_string();
        let mut source = e.source();
        while let Some(cause) = source {
            reason.push_str(": ");
            reason.push_str(&cause.to_string());
            source = cause.source();
        }
        reason
    })?;
    tracing::info!(topic = %spec.topic, partitions = spec.partitions, created, "the topic exists");
    Ok((spec.topic, created))
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
