//! The Kafka adapters on `rskafka`: the cart event publisher (key = cart id, `acks=all`, the
//! partition Kafka's own default partitioner would pick), and a poller that hands a consumer
//! function each partition's new records as a `KafkaEvent`, the way MSK's event source mapping
//! invokes a Lambda. The local stack runs `sync-push` on that poller against a real broker.
//!
//! `rskafka` is pure Rust (rustls for TLS, SASL PLAIN/SCRAM/OAUTHBEARER), so every function
//! cross-compiles for arm64 Lambda with cargo-lambda as it is, with no C toolchain to carry.

pub mod bootstrap;
pub mod msk_iam;
mod partitioner;
pub mod poller;
pub mod publisher;
pub mod topics;

pub use poller::Poller;
pub use publisher::KafkaPublisher;

use rskafka::client::{Client, ClientBuilder};
use std::time::Duration;

/// How long one Kafka call may take before it fails. rskafka retries forever by default, and
/// its retry deadline counts only the pauses between attempts (nested ones for connections and
/// metadata multiply it): a publish to an unreachable broker took minutes. Every call here is
/// also bounded by the clock, so a refused event reaches the outbox in seconds.
pub const CALL_DEADLINE: Duration = Duration::from_secs(3);

/// Why Kafka could not be used.
#[derive(Debug, thiserror::Error)]
pub enum KafkaError {
    /// The client failed (the broker is unreachable, or answered with an error).
    #[error("kafka: {0}")]
    Client(#[from] rskafka::client::error::Error),
    /// The topic is not on the cluster.
    #[error("the topic {0:?} does not exist")]
    NoSuchTopic(String),
    /// The MSK API did not give the cluster's bootstrap brokers.
    #[error("could not look up the cluster's bootstrap brokers: {0}")]
    Bootstrap(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// The TLS settings could not be built.
    #[error("kafka tls: {0}")]
    Tls(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// No answer within `CALL_DEADLINE`.
    #[error("kafka did not answer within {CALL_DEADLINE:?}")]
    TimedOut,
}

/// `call`, failing with `TimedOut` when it takes longer than `CALL_DEADLINE`.
pub async fn bounded<T>(
    call: impl std::future::Future<Output = Result<T, rskafka::client::error::Error>>,
) -> Result<T, KafkaError> {
    tokio::time::timeout(CALL_DEADLINE, call)
        .await
        .map_err(|_| KafkaError::TimedOut)?
        .map_err(KafkaError::from)
}

/// How to reach the brokers.
#[derive(Clone, Debug, Default)]
pub enum Security {
    /// Plaintext, no authentication (a local broker).
    #[default]
    Plaintext,
    /// TLS, checking each broker's certificate against its host name, and no authentication (an
    /// MSK Provisioned cluster's TLS listener, a self-managed cluster).
    Tls {
        /// The roots the brokers' certificates chain to.
        roots: tls::Roots,
    },
    /// TLS and MSK IAM (SASL/OAUTHBEARER signed with these credentials, for this region).
    MskIam {
        /// The roots the brokers' certificates chain to (Amazon's, in the system's store).
        roots: tls::Roots,
        /// The function role's credentials.
        credentials: aws_credential_types::provider::SharedCredentialsProvider,
        /// The cluster's region.
        region: String,
    },
}

/// A client for `brokers` (`host:port`, plaintext) whose calls give up after `CALL_DEADLINE`.
pub async fn connect(brokers: Vec<String>) -> Result<Client, KafkaError> {
    connect_with(brokers, Security::Plaintext).await
}

/// A client for `brokers` over `security`, whose calls give up after `CALL_DEADLINE`.
pub async fn connect_with(brokers: Vec<String>, security: Security) -> Result<Client, KafkaError> {
    let backoff = rskafka::BackoffConfig {
        deadline: Some(CALL_DEADLINE),
        max_backoff: Duration::from_millis(500),
        ..Default::default()
    };
    let mut builder = ClientBuilder::new(brokers)
        .client_id("shared-carts")
        .backoff_config(backoff);
    // A broker is dialled by the host name the cluster advertises, and its certificate is
    // checked against that name.
    let tls = |roots: tls::Roots| {
        tls::client_config(&tls::TlsSettings {
            roots,
            server_name: None,
        })
        .map_err(|e| KafkaError::Tls(Box::new(e)))
    };
    match security {
        Security::Plaintext => {}
        Security::Tls { roots } => builder = builder.tls_config(tls(roots)?),
        Security::MskIam {
            roots,
            credentials,
            region,
        } => {
            builder = builder
                .tls_config(tls(roots)?)
                .sasl_config(msk_iam::sasl(credentials, region));
        }
    }
    bounded(builder.build()).await
}

/// The partitions of `topic`, in order.
async fn partitions_of(client: &Client, topic: &str) -> Result<Vec<i32>, KafkaError> {
    let topics = bounded(client.list_topics()).await?;
    let found = topics
        .into_iter()
        .find(|t| t.name == topic)
        .ok_or_else(|| KafkaError::NoSuchTopic(topic.to_owned()))?;
    Ok(found.partitions.into_iter().collect())
}
