//! The servers behind the local stack's ports. By default everything is in the process: the
//! embedded store and the in-process bus. Settings in the environment move a port to a real
//! server instead, through the same adapters the Lambdas use on AWS:
//!
//! | setting | port |
//! |---|---|
//! | `KAFKA_BROKERS` (`host:port,...`), `EVENTS_TOPIC` | cart events go to Kafka; `sync-push` reads them back through a poller, as MSK's trigger would hand them over |
//! | `OUTBOX_QUEUE_URL`, `SQS_ENDPOINT` | events Kafka refuses go to this SQS queue; a relay loop feeds them to `event-relay` |
//! | `ORDERS_QUEUE_URL`, `SQS_ENDPOINT` | checkout hands each order to this SQS queue (else they are logged and kept in the process) |
//! | `CONNECTIONS_TABLE`, `DYNAMODB_ENDPOINT` | the WebSocket connection registry on DynamoDB |
//! | `CARTS_TABLE`, `MEMBERSHIPS_TABLE` | carts and their membership index on DynamoDB (also beside a keyspace, which then keeps the catalog only) |
//! | `IDEMPOTENCY_TABLE`, `DYNAMODB_ENDPOINT` | the answers kept under `Idempotency-Key` on DynamoDB |
//! | `CASSANDRA_CONTACT_POINTS` (and the other settings of `keyspaces::config`) | carts, their membership index and the item catalog on Keyspaces or Cassandra |
//! | `REDIS_URL` | item details cached in Redis (and in memory) in front of the catalog |
//! | `CATALOG_BREAKER_*`, `CATALOG_TIMEOUT_MS`, `EVENTS_BREAKER_*`, `EVENTS_TIMEOUT_MS` | the circuit breakers' thresholds, as the functions read them (`wiring::Breakers`) |
//!
//! Tables, queues, the keyspace and the topic are created when missing, since this is a
//! development stack. Without a keyspace the item catalog stays in the embedded store.

use async_trait::async_trait;
use domain::idempotency::IdempotencyStore;
use domain::inventory::StockLedger;
use domain::ports::{CartStore, Catalog, Delivery, EventPublisher, OrderQueue, PublishError};
use domain::{CartEvent, ConnectionRegistry};
use embedded::{EmbeddedStore, EventBus};
use std::sync::Arc;

/// Which real servers to use; `None` keeps a port in the process.
#[derive(Clone, Debug, Default)]
pub struct Backends {
    /// Kafka bootstrap brokers.
    pub kafka_brokers: Option<Vec<String>>,
    /// The topic of cart events.
    pub events_topic: String,
    /// The SQS outbox queue's URL.
    pub outbox_queue_url: Option<String>,
    /// The SQS queue checkout hands orders to.
    pub orders_queue_url: Option<String>,
    /// SQS at this URL instead of AWS's.
    pub sqs_endpoint: Option<String>,
    /// The DynamoDB connections table.
    pub connections_table: Option<String>,
    /// The DynamoDB carts and memberships tables.
    pub cart_tables: Option<(String, String)>,
    /// The DynamoDB table of idempotency records.
    pub idempotency_table: Option<String>,
    /// DynamoDB at this URL instead of AWS's.
    pub dynamodb_endpoint: Option<String>,
    /// Redis for the item cache.
    pub redis_url: Option<String>,
    /// Keyspaces or Cassandra for carts and the catalog.
    pub keyspaces: Option<keyspaces::KeyspacesConfig>,
    /// The thresholds of the breakers around the catalog and the event publisher.
    pub breakers: wiring::Breakers,
}

/// Why a backend could not be reached or prepared.
#[derive(Debug, thiserror::Error)]
pub enum BackendError {
    /// Kafka.
    #[error(transparent)]
    Kafka(#[from] kafka::KafkaError),
    /// DynamoDB.
    #[error("dynamodb: {0}")]
    DynamoDb(#[from] domain::ports::StoreError),
    /// SQS.
    #[error("sqs: {0}")]
    Sqs(#[from] Box<aws_sdk_sqs::Error>),
    /// Redis.
    #[error("redis: {0}")]
    Redis(#[from] redis::RedisError),
    /// Keyspaces or Cassandra.
    #[error("keyspaces")]
    Keyspaces(#[from] keyspaces::KeyspacesError),
}

impl Backends {
    /// Everything in the process.
    pub fn embedded() -> Self {
        Self {
            events_topic: "cart-events".to_owned(),
            ..Self::default()
        }
    }

    /// Read from the environment (see the module's table).
    pub fn from_env() -> Result<Self, wiring::ConfigError> {
        Self::from_settings(&wiring::environment)
    }

    /// Read from `setting`, a lookup by variable name.
    pub fn from_settings(setting: wiring::Settings<'_>) -> Result<Self, wiring::ConfigError> {
        Ok(Self {
            kafka_brokers: setting("KAFKA_BROKERS")
                .map(|b| b.split(',').map(|s| s.trim().to_owned()).collect()),
            events_topic: setting("EVENTS_TOPIC").unwrap_or_else(|| "cart-events".to_owned()),
            outbox_queue_url: setting("OUTBOX_QUEUE_URL"),
            orders_queue_url: setting("ORDERS_QUEUE_URL"),
            sqs_endpoint: setting("SQS_ENDPOINT"),
            connections_table: setting("CONNECTIONS_TABLE"),
            cart_tables: setting("CARTS_TABLE").map(|carts| {
                let memberships =
                    setting("MEMBERSHIPS_TABLE").unwrap_or_else(|| format!("{carts}-memberships"));
                (carts, memberships)
            }),
            idempotency_table: setting("IDEMPOTENCY_TABLE"),
            dynamodb_endpoint: setting("DYNAMODB_ENDPOINT"),
            redis_url: setting("REDIS_URL"),
            keyspaces: keyspaces::KeyspacesConfig::from_settings(setting)?,
            breakers: wiring::Breakers::from_settings(setting)?,
        })
    }

    /// One line per port for the start-up log.
    pub fn describe(&self) -> String {
        let on = |real: bool, what: &str| {
            if real {
                what.to_owned()
            } else {
                "embedded".to_owned()
            }
        };
        format!(
            "events: {}, outbox: {}, orders: {}, connections: {}, idempotency: {}, carts: {}, catalog: {}, item cache: {}",
            on(self.kafka_brokers.is_some(), "kafka"),
            on(self.outbox_queue_url.is_some(), "sqs"),
            on(self.orders_queue_url.is_some(), "sqs"),
            on(self.connections_table.is_some(), "dynamodb"),
            on(self.idempotency_table.is_some(), "dynamodb"),
            match (&self.cart_tables, &self.keyspaces) {
                (Some(_), _) => "dynamodb".to_owned(),
                (None, Some(_)) => "keyspaces".to_owned(),
                (None, None) => "embedded".to_owned(),
            },
            on(self.keyspaces.is_some(), "keyspaces"),
            on(self.redis_url.is_some(), "redis"),
        )
    }
}

/// The ports, connected.
pub struct Connected {
    /// The item catalog (the embedded one, behind the Redis cache when configured).
    pub catalog: Arc<dyn Catalog>,
    /// Where carts live.
    pub carts: Arc<dyn CartStore>,
    /// Where connections are registered.
    pub registry: Arc<dyn ConnectionRegistry>,
    /// Where answers are kept under their `Idempotency-Key`.
    pub idempotency: Arc<dyn IdempotencyStore>,
    /// Where the cart service publishes.
    pub publisher: Arc<dyn EventPublisher>,
    /// Where checkout hands orders.
    pub orders: Arc<dyn OrderQueue>,
    /// The stock the inventory consumer takes checkouts from (the catalog's store).
    pub ledger: Arc<dyn StockLedger>,
    /// The Kafka poller feeding `sync-push`, when events go through Kafka.
    pub poller: Option<kafka::Poller>,
    /// The outbox and the topic its relay republishes to, when there is an outbox.
    pub outbox: Option<(aws_sdk_sqs::Client, String, Arc<dyn EventPublisher>)>,
}

/// Connects every configured backend (creating its table, queue or topic when missing); the
/// rest stay on `store` and `bus`.
pub async fn connect(
    backends: &Backends,
    store: &Arc<EmbeddedStore>,
    bus: &EventBus,
) -> Result<Connected, BackendError> {
    let wants_dynamodb = backends.connections_table.is_some()
        || backends.cart_tables.is_some()
        || backends.idempotency_table.is_some();
    let dynamodb = if wants_dynamodb {
        let config = aws(backends.dynamodb_endpoint.as_deref()).await;
        Some(aws_sdk_dynamodb::Client::new(&config))
    } else {
        None
    };
    let registry: Arc<dyn ConnectionRegistry> = match (&backends.connections_table, &dynamodb) {
        (Some(table), Some(client)) => {
            dynamo::tables::create_connections_table(client, table).await?;
            Arc::new(dynamo::DynamoConnectionRegistry::new(client.clone(), table))
        }
        _ => store.clone(),
    };
    let idempotency: Arc<dyn IdempotencyStore> = match (&backends.idempotency_table, &dynamodb) {
        (Some(table), Some(client)) => {
            dynamo::tables::create_idempotency_table(client, table).await?;
            Arc::new(dynamo::DynamoIdempotency::new(client.clone(), table))
        }
        _ => store.clone(),
    };
    let carts: Arc<dyn CartStore> = match (&backends.cart_tables, &dynamodb) {
        (Some((carts, memberships)), Some(client)) => {
            dynamo::tables::create_cart_tables(client, carts, memberships).await?;
            Arc::new(dynamo::DynamoCartStore::new(
                client.clone(),
                carts,
                memberships,
            ))
        }
        _ => store.clone(),
    };
    // A keyspace takes the catalog and its stock, and the carts unless a carts table has them.
    let (carts, catalog, ledger): (Arc<dyn CartStore>, Arc<dyn Catalog>, Arc<dyn StockLedger>) =
        match &backends.keyspaces {
            Some(config) => {
                let keyspace = keyspaces::schema::open_creating(config).await?;
                let carts: Arc<dyn CartStore> = match backends.cart_tables {
                    Some(_) => carts,
                    None => Arc::new(keyspaces::KeyspacesCartStore::new(keyspace.clone())),
                };
                (
                    carts,
                    Arc::new(keyspaces::KeyspacesCatalog::new(keyspace.clone())),
                    Arc::new(keyspaces::KeyspacesLedger::new(keyspace)),
                )
            }
            None => (carts, store.clone(), store.clone()),
        };
    // As the functions wire it: the breaker behind the cache, in front of the catalog.
    let catalog: Arc<dyn Catalog> = Arc::new(domain::breaker::GuardedCatalog::new(
        catalog,
        backends.breakers.catalog,
    ));
    let catalog: Arc<dyn Catalog> = match &backends.redis_url {
        Some(url) => Arc::new(
            itemcache::CachedCatalog::with_redis(catalog, itemcache::DEFAULT_TTL, url).await?,
        ),
        None => catalog,
    };
    let orders: Arc<dyn OrderQueue> = match &backends.orders_queue_url {
        Some(url) => {
            let sqs = aws_sdk_sqs::Client::new(&aws(backends.sqs_endpoint.as_deref()).await);
            let name = url.rsplit('/').next().unwrap_or("orders");
            let queues = sqs::create_queue_with_dead_letters(&sqs, name, 5)
                .await
                .map_err(Box::new)?;
            Arc::new(sqs::SqsOrders::new(sqs, queues.url))
        }
        None => Arc::new(domain::memory::RecordingOrders::default()),
    };
    let Some(brokers) = &backends.kafka_brokers else {
        return Ok(Connected {
            catalog,
            carts,
            registry,
            idempotency,
            orders,
            ledger,
            publisher: Arc::new(bus.clone()),
            poller: None,
            outbox: None,
        });
    };
    let client = kafka::connect(brokers.clone()).await?;
    ensure_topic(&client, &backends.events_topic).await?;
    let kafka: Arc<dyn EventPublisher> =
        Arc::new(kafka::KafkaPublisher::connect(&client, &backends.events_topic).await?);
    let guarded: Arc<dyn EventPublisher> = Arc::new(domain::breaker::GuardedPublisher::new(
        kafka.clone(),
        backends.breakers.events,
    ));
    let poller = Some(kafka::Poller::connect(&client, &backends.events_topic).await?);
    let (primary, outbox) = match &backends.outbox_queue_url {
        None => (guarded, None),
        Some(url) => {
            let sqs = aws_sdk_sqs::Client::new(&aws(backends.sqs_endpoint.as_deref()).await);
            let name = url.rsplit('/').next().unwrap_or("cart-events-outbox");
            let queues = sqs::create_queue_with_dead_letters(&sqs, name, 5)
                .await
                .map_err(Box::new)?;
            let with_outbox = domain::outbox::PublishWithOutbox::new(
                guarded,
                Arc::new(sqs::SqsOutbox::new(sqs.clone(), &queues.url)),
            );
            let publisher: Arc<dyn EventPublisher> = Arc::new(with_outbox);
            // The relay republishes to Kafka itself: an outbox message stays until Kafka takes it.
            (publisher, Some((sqs, queues.url, kafka)))
        }
    };
    Ok(Connected {
        catalog,
        carts,
        registry,
        idempotency,
        orders,
        ledger,
        publisher: Arc::new(AlsoOnBus {
            bus: bus.clone(),
            next: primary,
        }),
        poller,
        outbox,
    })
}

/// The topic, created with three partitions unless it exists.
async fn ensure_topic(client: &rskafka::client::Client, topic: &str) -> Result<(), BackendError> {
    let exists = kafka::bounded(client.list_topics())
        .await?
        .iter()
        .any(|t| t.name == topic);
    if !exists {
        let controller = client
            .controller_client()
            .map_err(kafka::KafkaError::from)?;
        kafka::bounded(controller.create_topic(topic, 3, 1, 5_000)).await?;
    }
    Ok(())
}

/// The SDK settings from the environment, at `endpoint` when given; a local endpoint with no
/// credentials in the environment gets placeholder ones (local servers check none).
async fn aws(endpoint: Option<&str>) -> aws_config::SdkConfig {
    let mut loader = tls::aws_config_loader();
    if let Some(endpoint) = endpoint {
        loader = loader.endpoint_url(endpoint);
        if std::env::var_os("AWS_ACCESS_KEY_ID").is_none() {
            loader = loader.credentials_provider(aws_sdk_sqs::config::Credentials::new(
                "local",
                "local",
                None,
                None,
                "local-stack",
            ));
        }
        if std::env::var_os("AWS_REGION").is_none() {
            loader = loader.region(aws_config::Region::new("us-east-1"));
        }
    }
    loader.load().await
}

/// Publishes on the in-process bus (what tests and the bench watch) and then to `next`.
struct AlsoOnBus {
    bus: EventBus,
    next: Arc<dyn EventPublisher>,
}

#[async_trait]
impl EventPublisher for AlsoOnBus {
    async fn publish(&self, event: &CartEvent) -> Result<(), PublishError> {
        self.deliver(event).await.map(|_| ())
    }

    async fn deliver(&self, event: &CartEvent) -> Result<Delivery, PublishError> {
        self.bus.publish(event).await?;
        self.next.deliver(event).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn from(pairs: &[(&str, &str)]) -> Backends {
        let lookup = |name: &str| {
            pairs
                .iter()
                .find(|(key, _)| *key == name)
                .map(|(_, value)| (*value).to_owned())
        };
        Backends::from_settings(&lookup).unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn with_nothing_set_every_port_stays_in_the_process() {
        let backends = from(&[]);
        assert_eq!(
            backends.describe(),
            "events: embedded, outbox: embedded, orders: embedded, connections: embedded, idempotency: embedded, carts: embedded, catalog: embedded, item cache: embedded"
        );
        assert_eq!(backends.events_topic, "cart-events");
    }

    #[test]
    fn each_setting_moves_its_port() {
        let backends = from(&[
            ("KAFKA_BROKERS", "a:9092, b:9092"),
            ("CARTS_TABLE", "carts"),
            ("REDIS_URL", "redis://127.0.0.1:6379"),
        ]);
        assert_eq!(
            backends.kafka_brokers,
            Some(vec!["a:9092".to_owned(), "b:9092".to_owned()])
        );
        assert_eq!(
            backends.cart_tables,
            Some(("carts".to_owned(), "carts-memberships".to_owned())),
            "the membership table defaults beside the carts table"
        );
        assert!(backends.describe().contains("item cache: redis"));
        assert!(backends.connections_table.is_none());
        let on_cassandra = from(&[("CASSANDRA_CONTACT_POINTS", "127.0.0.1:9042")]);
        assert!(
            on_cassandra
                .describe()
                .contains("carts: keyspaces, catalog: keyspaces")
        );
    }
}
