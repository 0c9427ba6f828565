//! Where carts, the catalog and its stock live: Keyspaces, DynamoDB (carts only) or the
//! embedded store, and the item cache in front of the catalog.

use crate::{Config, dynamodb, event_publisher, local_or_refused, order_queue};
use domain::breaker::GuardedCatalog;
use domain::inventory::StockLedger;
use domain::ports::{BoxError, CartStore, Catalog, EventPublisher, PublishError};
use domain::unpublished::Relay;
use domain::{CartService, ItemService};
use itemcache::{CachedCatalog, DEFAULT_TTL};
use std::sync::Arc;

/// The cart service of every REST cart function: carts and catalog as [`stores`] chooses,
/// events as [`event_publisher`] does, orders to [`order_queue`]. The keyspace and the broker
/// are opened at once: each is a few round trips, and a cold start waits for the longer only.
pub async fn cart_service(config: &Config) -> Result<CartService, BoxError> {
    let ((carts, catalog), events) = tokio::try_join!(stores(config), event_publisher(config))?;
    let service = CartService::new(carts, catalog, events)
        .with_orders(order_queue(config).await)
        .settling_before_answering();
    Ok(match config.checkout_lock_minutes {
        Some(minutes) => service.with_lock_lasting(chrono::Duration::minutes(i64::from(minutes))),
        None => service,
    })
}

/// The cart service of the functions that only read carts (getCart, listMyCarts, getInvite,
/// listInvites, getUserDetails, ws-message's subscribe): carts and catalog as [`stores`]
/// chooses, and no event publisher, since a read changes nothing. The template gives them no
/// brokers and no outbox (they run outside the VPC); an event one tried to publish would be
/// refused, never dropped.
pub async fn cart_reader(config: &Config) -> Result<CartService, BoxError> {
    let (carts, catalog) = stores(config).await?;
    Ok(CartService::new(carts, catalog, Arc::new(ReadsOnly)))
}

/// The publisher of a function that only reads: it refuses every event.
struct ReadsOnly;

#[async_trait::async_trait]
impl EventPublisher for ReadsOnly {
    async fn publish(&self, _: &domain::CartEvent) -> Result<(), PublishError> {
        Err(PublishError(
            "this function only reads carts and has no event publisher".into(),
        ))
    }
}

/// The item service of the catalog functions.
pub async fn item_service(config: &Config) -> Result<ItemService, BoxError> {
    let (_, catalog) = stores(config).await?;
    Ok(ItemService::new(catalog))
}

/// The catalog itself, with no cache or breaker in front: Keyspaces when
/// `CASSANDRA_CONTACT_POINTS` is set, the embedded store otherwise (the demo catalog's seeder).
pub async fn catalog(config: &Config) -> Result<Arc<dyn Catalog>, BoxError> {
    match &config.keyspaces {
        Some(keyspace) => Ok(Arc::new(keyspaces::KeyspacesCatalog::new(
            keyspaces::Keyspace::open(keyspace).await?,
        ))),
        None => Ok(local_or_refused!(
            config,
            "CASSANDRA_CONTACT_POINTS is not set"
        )),
    }
}

/// The stock ledger: Keyspaces when `CASSANDRA_CONTACT_POINTS` is set, the embedded store
/// otherwise.
pub async fn stock_ledger(config: &Config) -> Result<Arc<dyn StockLedger>, BoxError> {
    match &config.keyspaces {
        Some(keyspace) => Ok(Arc::new(keyspaces::KeyspacesLedger::new(
            keyspaces::Keyspace::open(keyspace).await?,
        ))),
        None => Ok(local_or_refused!(
            config,
            "CASSANDRA_CONTACT_POINTS is not set"
        )),
    }
}

/// Carts and the catalog: carts on DynamoDB when `CARTS_TABLE` is set, else on Keyspaces when
/// a keyspace is configured, else in the embedded store; the catalog on Keyspaces or embedded.
/// The catalog is behind its circuit breaker and the item cache (in the process, and in Redis
/// when `REDIS_URL` is set).
// Without the local adapters, the Redis URL is only refused.
#[cfg_attr(not(feature = "local-adapters"), allow(unused_variables))]
async fn stores(config: &Config) -> Result<(Arc<dyn CartStore>, Arc<dyn Catalog>), BoxError> {
    let keyspace = match &config.keyspaces {
        Some(keyspace) => Some(keyspaces::Keyspace::open(keyspace).await?),
        None => None,
    };
    let carts = cart_store(config, keyspace.as_ref()).await?;
    let catalog: Arc<dyn Catalog> = match keyspace {
        Some(keyspace) => Arc::new(keyspaces::KeyspacesCatalog::new(keyspace)),
        None => local_or_refused!(config, "CASSANDRA_CONTACT_POINTS is not set"),
    };
    // The breaker sits behind the cache: an item the cache holds needs no catalog.
    let catalog: Arc<dyn Catalog> = Arc::new(GuardedCatalog::new(catalog, config.breakers.catalog));
    let cached = match &config.redis_url {
        Some(url) => local_or_refused!(
            "REDIS_URL is set",
            CachedCatalog::with_redis(catalog, DEFAULT_TTL, url).await?
        ),
        None => CachedCatalog::new(catalog, DEFAULT_TTL),
    };
    Ok((carts, Arc::new(cached)))
}

/// Carts on DynamoDB when `CARTS_TABLE` is set, else in `keyspace` when there is one, else in
/// the embedded store.
async fn cart_store(
    config: &Config,
    keyspace: Option<&keyspaces::Keyspace>,
) -> Result<Arc<dyn CartStore>, BoxError> {
    Ok(match (&config.carts_table, keyspace) {
        (Some(table), _) => {
            let memberships = config
                .memberships_table
                .clone()
                .unwrap_or_else(|| format!("{table}-memberships"));
            Arc::new(dynamo::DynamoCartStore::new(
                dynamodb(config).await,
                table,
                memberships,
            ))
        }
        (None, Some(keyspace)) => Arc::new(keyspaces::KeyspacesCartStore::new(keyspace.clone())),
        (None, None) => {
            local_or_refused!(
                config,
                "neither CARTS_TABLE nor CASSANDRA_CONTACT_POINTS is set"
            )
        }
    })
}

/// How long the `republish` function leaves an event to the operation that saved it: longer
/// than a live operation takes from its save to its publish (the broker's send is bounded by
/// seconds, the SQS outbox's by the SDK's timeouts), so it rarely sends an event twice.
pub const RELAY_GRACE: std::time::Duration = std::time::Duration::from_secs(30);

/// The transactional outbox's relay of the `republish` function: carts as the cart functions
/// keep them, events to where they publish.
pub async fn relay(config: &Config) -> Result<Relay, BoxError> {
    // As for a cart function: the keyspace and the broker are opened at once.
    let carts = async {
        let keyspace = match &config.keyspaces {
            Some(keyspace) => Some(keyspaces::Keyspace::open(keyspace).await?),
            None => None,
        };
        cart_store(config, keyspace.as_ref()).await
    };
    let (carts, events) = tokio::try_join!(carts, event_publisher(config))?;
    Ok(Relay::new(carts, events, RELAY_GRACE))
}
