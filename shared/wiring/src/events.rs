//! Where events and orders go: Kafka (with the SQS outbox behind it) and the orders queue.

use crate::{Brokers, Config, KafkaAuth, local_or_refused, sqs};
use domain::breaker::GuardedPublisher;
use domain::outbox::PublishWithOutbox;
use domain::ports::{BoxError, EventPublisher, OrderQueue};
use std::sync::Arc;

/// The publisher to the events topic: Kafka when `KAFKA_BROKERS` is set, with the outbox at
/// `OUTBOX_QUEUE_URL` behind it; the process's own bus when neither is set (events go nowhere
/// else: `cargo lambda watch`).
///
/// A broker that cannot be reached at cold start does not stop the function when there is an
/// outbox: every event of this instance then goes through the outbox and the relay.
pub async fn event_publisher(config: &Config) -> Result<Arc<dyn EventPublisher>, BoxError> {
    let outbox: Option<Arc<dyn EventPublisher>> = match &config.outbox_queue_url {
        Some(url) => Some(Arc::new(::sqs::SqsOutbox::new(sqs(config).await, url))),
        None => None,
    };
    let topic = match (kafka_publisher(config).await, &outbox) {
        (Ok(topic), _) => topic,
        (Err(e), Some(_)) => {
            tracing::error!(error = %e, "the brokers cannot be reached; events go to the outbox");
            None
        }
        (Err(e), None) => return Err(e),
    };
    // The broker's breaker: once open, events go to the outbox without waiting for Kafka.
    let topic = topic.map(|topic| GuardedPublisher::new(Arc::new(topic), config.breakers.events));
    Ok(match (topic, outbox) {
        (Some(topic), Some(outbox)) => Arc::new(PublishWithOutbox::new(Arc::new(topic), outbox)),
        (Some(topic), None) => Arc::new(topic),
        (None, Some(outbox)) => outbox,
        (None, None) => local_or_refused!(
            "neither KAFKA_BROKERS, MSK_CLUSTER_ARN nor OUTBOX_QUEUE_URL is set",
            Arc::new(embedded::EventBus::default())
        ),
    })
}

/// The publisher to `EVENTS_TOPIC` (default `cart-events`) on `KAFKA_BROKERS`, or on the brokers
/// of the MSK cluster `MSK_CLUSTER_ARN` (looked up once, `MSK_ENDPOINT` overriding the API's
/// address); `None` when neither is set. With `KAFKA_AUTH=iam`, over TLS with MSK IAM signed by
/// the function's role.
pub async fn kafka_publisher(config: &Config) -> Result<Option<kafka::KafkaPublisher>, BoxError> {
    let (Some(kafka), Some(client)) = (&config.kafka, kafka_client(config).await?) else {
        return Ok(None);
    };
    Ok(Some(
        kafka::KafkaPublisher::connect(&client, &kafka.topic).await?,
    ))
}

/// A client of the brokers `config` names, connected as `KAFKA_AUTH` says; `None` when no
/// brokers are configured.
pub async fn kafka_client(config: &Config) -> Result<Option<rskafka::client::Client>, BoxError> {
    let Some(kafka) = &config.kafka else {
        return Ok(None);
    };
    let security = match kafka.auth {
        KafkaAuth::Iam => {
            let aws = crate::aws().await;
            kafka::Security::MskIam {
                roots: kafka.tls_roots.clone(),
                credentials: aws
                    .credentials_provider()
                    .ok_or("no AWS credentials for MSK IAM")?,
                region: aws.region().ok_or("AWS_REGION must be set")?.to_string(),
            }
        }
        KafkaAuth::Tls => kafka::Security::Tls {
            roots: kafka.tls_roots.clone(),
        },
        KafkaAuth::None => kafka::Security::Plaintext,
    };
    let brokers = match &kafka.brokers {
        Brokers::Listed(listed) => listed.clone(),
        Brokers::Cluster { arn, endpoint } => {
            let mut builder = aws_sdk_kafka::config::Builder::from(&crate::aws().await);
            if let Some(endpoint) = endpoint {
                builder = builder.endpoint_url(endpoint);
            }
            let msk = aws_sdk_kafka::Client::from_conf(builder.build());
            kafka::bootstrap::brokers_of(&msk, arn, &security).await?
        }
    };
    Ok(Some(kafka::connect_with(brokers, security).await?))
}

/// Where checkout hands orders: the SQS queue at `ORDERS_QUEUE_URL`, or, without one, the
/// process's own log (`cargo lambda watch`).
pub async fn order_queue(config: &Config) -> Arc<dyn OrderQueue> {
    match &config.orders_queue_url {
        Some(url) => Arc::new(::sqs::SqsOrders::new(sqs(config).await, url)),
        None => Arc::new(domain::memory::RecordingOrders::default()),
    }
}

/// Where the WebSocket functions announce presence changes: the SQS queue at
/// `PRESENCE_QUEUE_URL`, or, without one (`cargo lambda watch`), the process's log.
pub async fn presence_notices(config: &Config) -> Arc<dyn domain::PresenceNotices> {
    match &config.presence_queue_url {
        Some(url) => Arc::new(::sqs::SqsPresenceNotices::new(sqs(config).await, url)),
        None => Arc::new(LoggedNotices),
    }
}

/// Presence notices with nowhere to go: logged, so a developer sees them.
struct LoggedNotices;

#[async_trait::async_trait]
impl domain::PresenceNotices for LoggedNotices {
    async fn changed(&self, cart: domain::CartId) -> Result<(), domain::ports::BoxError> {
        tracing::info!(cart_id = %cart, "presence changed (no PRESENCE_QUEUE_URL to announce it on)");
        Ok(())
    }
}
