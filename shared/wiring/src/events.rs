//! Where events and orders go: Kafka (with the SQS outbox behind it) and the orders queue.

use crate::{Settings, sqs};
use domain::outbox::PublishWithOutbox;
use domain::ports::{BoxError, EventPublisher, OrderQueue};
use std::sync::Arc;

/// The publisher to the events topic: Kafka when `KAFKA_BROKERS` is set, with the outbox at
/// `OUTBOX_QUEUE_URL` behind it; the process's own bus when neither is set (events go nowhere
/// else: `cargo lambda watch`).
///
/// A broker that cannot be reached at cold start does not stop the function when there is an
/// outbox: every event of this instance then goes through the outbox and the relay.
pub async fn event_publisher(settings: Settings<'_>) -> Result<Arc<dyn EventPublisher>, BoxError> {
    let outbox: Option<Arc<dyn EventPublisher>> = match settings("OUTBOX_QUEUE_URL") {
        Some(url) => Some(Arc::new(::sqs::SqsOutbox::new(sqs(settings).await, url))),
        None => None,
    };
    let topic = match (kafka_publisher(settings).await, &outbox) {
        (Ok(topic), _) => topic,
        (Err(e), Some(_)) => {
            tracing::error!(error = %e, "the brokers cannot be reached; events go to the outbox");
            None
        }
        (Err(e), None) => return Err(e),
    };
    Ok(match (topic, outbox) {
        (Some(topic), Some(outbox)) => Arc::new(PublishWithOutbox::new(Arc::new(topic), outbox)),
        (Some(topic), None) => Arc::new(topic),
        (None, Some(outbox)) => outbox,
        (None, None) => Arc::new(embedded::EventBus::default()),
    })
}

/// The publisher to `EVENTS_TOPIC` (default `cart-events`) on `KAFKA_BROKERS`, or on the brokers
/// of the MSK cluster `MSK_CLUSTER_ARN` (looked up once, `MSK_ENDPOINT` overriding the API's
/// address); `None` when neither is set. With `KAFKA_AUTH=iam`, over TLS with MSK IAM signed by
/// the function's role.
pub async fn kafka_publisher(
    settings: Settings<'_>,
) -> Result<Option<kafka::KafkaPublisher>, BoxError> {
    let (listed, cluster) = (settings("KAFKA_BROKERS"), settings("MSK_CLUSTER_ARN"));
    if listed.is_none() && cluster.is_none() {
        return Ok(None);
    }
    let topic = settings("EVENTS_TOPIC").unwrap_or_else(|| "cart-events".to_owned());
    let security = match settings("KAFKA_AUTH").as_deref() {
        Some("iam") => {
            let aws = crate::aws().await;
            kafka::Security::MskIam {
                credentials: aws
                    .credentials_provider()
                    .ok_or("no AWS credentials for MSK IAM")?,
                region: aws.region().ok_or("AWS_REGION must be set")?.to_string(),
            }
        }
        Some("none") | None => kafka::Security::Plaintext,
        Some(other) => return Err(format!("KAFKA_AUTH: '{other}' is not 'iam' or 'none'").into()),
    };
    let brokers = match (listed, cluster) {
        (Some(listed), _) => listed.split(',').map(|b| b.trim().to_owned()).collect(),
        (None, Some(arn)) => {
            let mut config = aws_sdk_kafka::config::Builder::from(&crate::aws().await);
            if let Some(endpoint) = settings("MSK_ENDPOINT") {
                config = config.endpoint_url(endpoint);
            }
            let msk = aws_sdk_kafka::Client::from_conf(config.build());
            kafka::bootstrap::brokers_of(&msk, &arn, &security).await?
        }
        (None, None) => return Ok(None),
    };
    let client = kafka::connect_with(brokers, security).await?;
    Ok(Some(kafka::KafkaPublisher::connect(&client, &topic).await?))
}

/// Where checkout hands orders: the SQS queue at `ORDERS_QUEUE_URL`, or, without one, the
/// process's own log (`cargo lambda watch`).
pub async fn order_queue(settings: Settings<'_>) -> Arc<dyn OrderQueue> {
    match settings("ORDERS_QUEUE_URL") {
        Some(url) => Arc::new(::sqs::SqsOrders::new(sqs(settings).await, url)),
        None => Arc::new(domain::memory::RecordingOrders::default()),
    }
}
