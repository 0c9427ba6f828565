//! Which adapter each port gets, chosen once per cold start from the function's [`Config`]
//! (its environment, read once): the AWS adapter where its settings are present, the embedded
//! store under `DATA_DIR` otherwise (one process, `cargo lambda watch`, the local stack). The
//! embedded store and Redis are in builds with the `local-adapters` feature only; without it (the
//! deployed build) an absent AWS setting stops the function at cold start with [`AwsOnly`].
//!
//! | setting | effect |
//! |---|---|
//! | `CASSANDRA_CONTACT_POINTS` and the rest of `keyspaces::config` | carts, the catalog and its stock ledger on Keyspaces |
//! | `CARTS_TABLE`, `MEMBERSHIPS_TABLE` | carts on DynamoDB (the catalog stays on the keyspace, or embedded without one) |
//! | `REDIS_URL` | item details cached in Redis as well as in the process |
//! | `CONNECTIONS_TABLE` | the connection registry on that DynamoDB table |
//! | `IDEMPOTENCY_TABLE` | the answers kept under `Idempotency-Key` on that DynamoDB table |
//! | `DYNAMODB_ENDPOINT` | DynamoDB at this URL instead of AWS's (moto, dynalite, LocalStack) |
//! | `KAFKA_BROKERS` or `MSK_CLUSTER_ARN`, `KAFKA_AUTH` (`iam`, `tls` or `none`), `EVENTS_TOPIC` | events go to that Kafka topic (default `cart-events`) on those brokers, or on the cluster's (looked up at cold start; `MSK_ENDPOINT` overrides the MSK API's address); `iam` is TLS with MSK IAM, signed with the function's role, `tls` TLS alone |
//! | `KAFKA_TLS_CA_FILE` | with TLS, the roots the brokers' certificates must chain to (a PEM file; the system's by default) |
//! | `OUTBOX_QUEUE_URL` | events Kafka does not take go to that SQS queue |
//! | `ORDERS_QUEUE_URL` | checkout hands orders to that SQS queue |
//! | `SQS_ENDPOINT` | SQS at this URL instead of AWS's |
//! | `NOTIFICATIONS_TABLE` | the members' notifications on that DynamoDB table |
//! | `MAIL_FROM`, `SES_ENDPOINT` | notification mails through SES from that verified address (at that URL instead of AWS's); without it, notices are listed, not mailed |
//! | `PAGE_URL`, `MAILS_PER_HOUR` | the page mails link to; mails a member gets in an hour at most (default 6) |
//! | `WEBSOCKET_MANAGEMENT_ENDPOINT` | where `sync-push` posts to connections (`https://{api}.execute-api.{region}.amazonaws.com/{stage}`) |
//! | `CATALOG_BREAKER_FAILURES`, `CATALOG_BREAKER_OPEN_MS`, `CATALOG_TIMEOUT_MS` and the same with `EVENTS_` | the circuit breakers around the catalog and the event publisher ([`Breakers`]) |
//! | `DATA_DIR` | where the embedded store keeps whatever no setting above moved (default `./data`) |

mod config;
mod events;
mod stores;

pub use config::{
    Breakers, Brokers, Config, ConfigError, DEFAULT_EVENTS_TOPIC, KafkaAuth, KafkaConfig,
    checkout_lock_minutes, connections_per_user,
};
pub use events::{event_publisher, kafka_client, kafka_publisher, order_queue, presence_notices};
pub use stores::{
    RELAY_GRACE, cart_reader, cart_service, catalog, item_service, relay, stock_ledger,
};

use domain::ConnectionRegistry;
use domain::idempotency::IdempotencyStore;
use domain::ports::BoxError;
use std::sync::Arc;

/// What a port gets when its AWS setting is absent: the embedded store in a build with the
/// `local-adapters` feature (`$local`, which defaults to it), else a cold-start error that names
/// the setting (`$absent`, a sentence such as "CONNECTIONS_TABLE is not set").
macro_rules! local_or_refused {
    ($config:expr, $absent:literal) => {
        local_or_refused!($absent, $crate::embedded_store($config)?)
    };
    ($absent:literal, $local:expr) => {{
        #[cfg(feature = "local-adapters")]
        {
            $local
        }
        #[cfg(not(feature = "local-adapters"))]
        {
            $crate::refused($absent)?
        }
    }};
}
pub(crate) use local_or_refused;

/// The answer of a port whose AWS setting is absent, in a build without the local adapters.
#[cfg(not(feature = "local-adapters"))]
fn refused<T>(absent: &'static str) -> Result<T, AwsOnly> {
    Err(AwsOnly(absent))
}

/// A setting the deployed build cannot do without: it carries only the AWS adapters.
#[derive(Debug, thiserror::Error)]
#[error(
    "{0}, and this build has only the AWS adapters (the embedded store and Redis are in builds with wiring's `local-adapters` feature: the local stack, `cargo lambda watch`)"
)]
pub struct AwsOnly(pub &'static str);

/// Looks up one setting by name; the environment in production, a table in tests.
pub type Settings<'a> = &'a (dyn Fn(&str) -> Option<String> + Sync);

/// The connection registry: DynamoDB when `CONNECTIONS_TABLE` is set, the embedded store
/// otherwise.
pub async fn connection_registry(config: &Config) -> Result<Arc<dyn ConnectionRegistry>, BoxError> {
    match &config.connections_table {
        Some(table) => Ok(Arc::new(dynamo::DynamoConnectionRegistry::new(
            dynamodb(config).await,
            table,
        ))),
        None => Ok(local_or_refused!(config, "CONNECTIONS_TABLE is not set")),
    }
}

/// Where mutating functions keep their answers under `Idempotency-Key`: DynamoDB when
/// `IDEMPOTENCY_TABLE` is set, the embedded store otherwise.
pub async fn idempotency_store(config: &Config) -> Result<Arc<dyn IdempotencyStore>, BoxError> {
    match &config.idempotency_table {
        Some(table) => Ok(Arc::new(dynamo::DynamoIdempotency::new(
            dynamodb(config).await,
            table,
        ))),
        None => Ok(local_or_refused!(config, "IDEMPOTENCY_TABLE is not set")),
    }
}

/// Where the analytics counters are kept: DynamoDB when `ANALYTICS_TABLE` is set, the embedded
/// store otherwise.
pub async fn analytics_store(
    config: &Config,
) -> Result<Arc<dyn domain::analytics::AnalyticsStore>, BoxError> {
    match &config.analytics_table {
        Some(table) => Ok(Arc::new(dynamo::DynamoAnalytics::new(
            dynamodb(config).await,
            table,
        ))),
        None => Ok(local_or_refused!(config, "ANALYTICS_TABLE is not set")),
    }
}

/// The directory of profiles: DynamoDB when `PROFILES_TABLE` is set, the embedded store
/// otherwise.
pub async fn directory(config: &Config) -> Result<Arc<dyn domain::directory::Directory>, BoxError> {
    match &config.profiles_table {
        Some(table) => Ok(Arc::new(dynamo::DynamoDirectory::new(
            dynamodb(config).await,
            table,
        ))),
        None => Ok(local_or_refused!(config, "PROFILES_TABLE is not set")),
    }
}

/// Where notifications are kept: DynamoDB when `NOTIFICATIONS_TABLE` is set, the embedded store
/// otherwise.
pub async fn notification_store(
    config: &Config,
) -> Result<Arc<dyn domain::notification::NotificationStore>, BoxError> {
    match &config.notifications_table {
        Some(table) => Ok(Arc::new(dynamo::DynamoNotifications::new(
            dynamodb(config).await,
            table,
        ))),
        None => Ok(local_or_refused!(config, "NOTIFICATIONS_TABLE is not set")),
    }
}

/// What sends notification mails: Amazon SES from `MAIL_FROM` when it is set (at
/// `SES_ENDPOINT` when that is), none otherwise (notices are then listed, not mailed).
pub async fn mailer(config: &Config) -> Option<Arc<dyn domain::notification::Mailer>> {
    let from = config.mail_from.as_ref()?;
    let mut builder = aws_sdk_sesv2::config::Builder::from(&aws().await);
    if let Some(endpoint) = &config.ses_endpoint {
        builder = builder.endpoint_url(endpoint);
    }
    Some(Arc::new(ses::SesMailer::new(
        aws_sdk_sesv2::Client::from_conf(builder.build()),
        from,
    )))
}

/// Mail that is only logged: what the local stack, with no mail service, sends (addresses
/// included: it is a development machine's log).
pub struct LoggedMail;

#[async_trait::async_trait]
impl domain::notification::Mailer for LoggedMail {
    async fn send(
        &self,
        mail: &domain::notification::Mail,
    ) -> Result<(), domain::notification::MailError> {
        tracing::info!(to = mail.to.as_str(), subject = %mail.subject, "a notification mail (logged: MAIL_FROM is not set)");
        Ok(())
    }
}

/// The process's one embedded store, under `DATA_DIR` (its file can be open once at a time, and
/// several ports of one function may fall back to it).
#[cfg(feature = "local-adapters")]
pub fn embedded_store(
    config: &Config,
) -> Result<Arc<embedded::EmbeddedStore>, embedded::OpenError> {
    static STORE: std::sync::Mutex<Option<Arc<embedded::EmbeddedStore>>> =
        std::sync::Mutex::new(None);
    let mut opened = STORE.lock().unwrap_or_else(|p| p.into_inner());
    if let Some(store) = opened.as_ref() {
        return Ok(store.clone());
    }
    let store = Arc::new(embedded::EmbeddedStore::open(&config.data_dir)?);
    *opened = Some(store.clone());
    Ok(store)
}

/// The SDK settings of the Lambda's role and region, loaded once per process: resolving the
/// credential chain is I/O, and a cold start may build several clients from it.
pub async fn aws() -> aws_config::SdkConfig {
    static LOADED: tokio::sync::OnceCell<aws_config::SdkConfig> =
        tokio::sync::OnceCell::const_new();
    LOADED
        .get_or_init(|| tls::aws_config_loader().load())
        .await
        .clone()
}

/// A DynamoDB client from the Lambda's role and region, at `DYNAMODB_ENDPOINT` when set.
pub async fn dynamodb(config: &Config) -> aws_sdk_dynamodb::Client {
    let mut builder = aws_sdk_dynamodb::config::Builder::from(&aws().await);
    if let Some(endpoint) = &config.dynamodb_endpoint {
        builder = builder.endpoint_url(endpoint);
    }
    aws_sdk_dynamodb::Client::from_conf(builder.build())
}

/// An SQS client from the Lambda's role and region, at `SQS_ENDPOINT` when set.
pub async fn sqs(config: &Config) -> aws_sdk_sqs::Client {
    let mut builder = aws_sdk_sqs::config::Builder::from(&aws().await);
    if let Some(endpoint) = &config.sqs_endpoint {
        builder = builder.endpoint_url(endpoint);
    }
    aws_sdk_sqs::Client::from_conf(builder.build())
}

/// A non-empty environment variable: the [`Settings`] of a Lambda.
pub fn environment(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}
