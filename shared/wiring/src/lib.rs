//! Which adapter each port gets, chosen once per cold start from the environment: the AWS
//! adapter where its settings are present, the embedded store under `DATA_DIR` otherwise (one
//! process, `cargo lambda watch`, the local stack).
//!
//! | setting | effect |
//! |---|---|
//! | `CONNECTIONS_TABLE` | the connection registry on that DynamoDB table |
//! | `DYNAMODB_ENDPOINT` | DynamoDB at this URL instead of AWS's (moto, dynalite, LocalStack) |
//! | `ORDERS_QUEUE_URL` | checkout hands orders to that SQS queue |
//! | `KAFKA_BROKERS`, `KAFKA_AUTH` (`iam` or `none`), `EVENTS_TOPIC` | events go to that Kafka topic (default `cart-events`); `iam` is TLS with MSK IAM, signed with the function's role |
//! | `CASSANDRA_CONTACT_POINTS` and the rest of `keyspaces::config` | the catalog's stock ledger on Keyspaces |
//! | `SQS_ENDPOINT` | SQS at this URL instead of AWS's |

use domain::ConnectionRegistry;
use domain::inventory::StockLedger;
use domain::ports::{BoxError, EventPublisher, OrderQueue};
use std::sync::Arc;

/// Looks up one setting by name; the environment in production, a table in tests.
pub type Settings<'a> = &'a (dyn Fn(&str) -> Option<String> + Sync);

/// The connection registry: DynamoDB when `CONNECTIONS_TABLE` is set, the embedded store
/// otherwise.
pub async fn connection_registry() -> Result<Arc<dyn ConnectionRegistry>, BoxError> {
    connection_registry_from(&environment).await
}

/// [`connection_registry`], reading `settings` instead of the environment.
pub async fn connection_registry_from(
    settings: Settings<'_>,
) -> Result<Arc<dyn ConnectionRegistry>, BoxError> {
    match settings("CONNECTIONS_TABLE") {
        Some(table) => Ok(Arc::new(dynamo::DynamoConnectionRegistry::new(
            dynamodb(settings).await,
            table,
        ))),
        None => Ok(embedded::store_from_env()?),
    }
}

/// Where checkout hands orders: the SQS queue at `ORDERS_QUEUE_URL`, or, without one, the
/// process's own log (`cargo lambda watch`).
pub async fn order_queue() -> Arc<dyn OrderQueue> {
    order_queue_from(&environment).await
}

/// [`order_queue`], reading `settings` instead of the environment.
pub async fn order_queue_from(settings: Settings<'_>) -> Arc<dyn OrderQueue> {
    match settings("ORDERS_QUEUE_URL") {
        Some(url) => {
            let aws = aws_config::load_from_env().await;
            let mut config = aws_sdk_sqs::config::Builder::from(&aws);
            if let Some(endpoint) = settings("SQS_ENDPOINT") {
                config = config.endpoint_url(endpoint);
            }
            let client = aws_sdk_sqs::Client::from_conf(config.build());
            Arc::new(sqs::SqsOrders::new(client, url))
        }
        None => Arc::new(domain::memory::RecordingOrders::default()),
    }
}

/// The publisher to the events topic: Kafka when `KAFKA_BROKERS` is set, the process's own bus
/// otherwise (events go nowhere else: `cargo lambda watch`).
pub async fn event_publisher() -> Result<Arc<dyn EventPublisher>, BoxError> {
    match kafka_publisher().await? {
        Some(publisher) => Ok(Arc::new(publisher)),
        None => Ok(Arc::new(embedded::EventBus::default())),
    }
}

/// The publisher to `EVENTS_TOPIC` (default `cart-events`) on `KAFKA_BROKERS`, if set; with
/// `KAFKA_AUTH=iam`, over TLS with MSK IAM signed by the function's role.
pub async fn kafka_publisher() -> Result<Option<kafka::KafkaPublisher>, BoxError> {
    let Some(brokers) = environment("KAFKA_BROKERS") else {
        return Ok(None);
    };
    let topic = environment("EVENTS_TOPIC").unwrap_or_else(|| "cart-events".to_owned());
    let security = match environment("KAFKA_AUTH").as_deref() {
        Some("iam") => {
            let aws = aws_config::load_from_env().await;
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
    let brokers = brokers.split(',').map(|b| b.trim().to_owned()).collect();
    let client = kafka::connect_with(brokers, security).await?;
    Ok(Some(kafka::KafkaPublisher::connect(&client, &topic).await?))
}

/// The stock ledger: Keyspaces when `CASSANDRA_CONTACT_POINTS` is set, the embedded store
/// otherwise.
pub async fn stock_ledger() -> Result<Arc<dyn StockLedger>, BoxError> {
    match keyspaces::KeyspacesConfig::from_settings(&environment)? {
        Some(config) => Ok(Arc::new(keyspaces::KeyspacesLedger::new(
            keyspaces::Keyspace::open(&config).await?,
        ))),
        None => Ok(embedded::store_from_env()?),
    }
}

/// A DynamoDB client from the Lambda's role and region, at `DYNAMODB_ENDPOINT` when set.
pub async fn dynamodb(settings: Settings<'_>) -> aws_sdk_dynamodb::Client {
    let aws = aws_config::load_from_env().await;
    let mut config = aws_sdk_dynamodb::config::Builder::from(&aws);
    if let Some(endpoint) = settings("DYNAMODB_ENDPOINT") {
        config = config.endpoint_url(endpoint);
    }
    aws_sdk_dynamodb::Client::from_conf(config.build())
}

/// A non-empty environment variable.
pub fn environment(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}
