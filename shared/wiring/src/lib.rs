//! Which adapter each port gets, chosen once per cold start from the environment: the AWS
//! adapter where its settings are present, the embedded store under `DATA_DIR` otherwise (one
//! process, `cargo lambda watch`, the local stack).
//!
//! | setting | effect |
//! |---|---|
//! | `CONNECTIONS_TABLE` | the connection registry on that DynamoDB table |
//! | `DYNAMODB_ENDPOINT` | DynamoDB at this URL instead of AWS's (moto, dynalite, LocalStack) |
//! | `ORDERS_QUEUE_URL` | checkout hands orders to that SQS queue |
//! | `SQS_ENDPOINT` | SQS at this URL instead of AWS's |

use domain::ConnectionRegistry;
use domain::ports::{BoxError, OrderQueue};
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
