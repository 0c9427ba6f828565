//! Starting and stopping the local stack: open the store, seed it, listen, serve, drain.

use crate::config::Config;
use crate::gateway;
use crate::sockets::Sockets;
use domain::limits::Buckets;
use domain::{CartService, ItemService};
use embedded::{EmbeddedStore, EventBus};
use hyper::server::conn::http1;
use hyper_util::rt::TokioIo;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use token::TokenKeys;
use tokio::net::TcpListener;
use tokio::sync::watch;

/// How long in-flight requests get to finish on shutdown.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(5);

/// What every request can reach: the functions' dependencies, built once.
pub struct Services {
    /// The cart service every cart function uses.
    pub carts: CartService,
    /// The item service the catalog functions use.
    pub items: ItemService,
    /// The keys `/dev/token` issues with.
    pub keys: TokenKeys,
    /// What the authorizer and `$connect` check tokens with: the same keys.
    pub verifier: token::Verifier,
    /// Every event the functions publish, in the process (also when they go to Kafka).
    pub bus: EventBus,
    /// Where the mutating functions keep their answers under `Idempotency-Key`.
    pub idempotency: Arc<dyn domain::idempotency::IdempotencyStore>,
    /// The connection registry of the WebSocket functions.
    pub registry: Arc<dyn domain::ConnectionRegistry>,
    /// The directory of profiles (the embedded store).
    pub directory: Arc<dyn domain::directory::Directory>,
    /// Where the analytics consumer counts, and `getAnalytics` reads (the embedded store).
    pub analytics: Arc<dyn domain::analytics::AnalyticsStore>,
    /// Where the notify consumer records notices, and the notification routes read them (the
    /// embedded store).
    pub notifications: Arc<dyn domain::notification::NotificationStore>,
    /// Where the WebSocket functions announce presence changes.
    pub notices: Arc<dyn domain::PresenceNotices>,
    /// The open WebSockets, for the `@connections` API.
    pub sockets: Sockets,
    /// Each user's token bucket across the REST routes, when rates are limited.
    pub throttle: Option<Buckets<String>>,
    /// Each WebSocket connection's message bucket, as `ws-message` keeps them.
    pub message_rate: Buckets<domain::ConnectionId>,
    /// API Gateway's WebSocket quotas, as the `/ws` emulation enforces them.
    pub websocket: crate::WebSocketQuotas,
}

/// The local stack could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The embedded store did not open.
    #[error(transparent)]
    Store(#[from] embedded::OpenError),
    /// The issuer's settings are unusable.
    #[error(transparent)]
    Issuer(#[from] token::ConfigError),
    /// The demo catalog could not be written.
    #[error("cannot seed the demo catalog")]
    Seed(#[source] domain::ports::StoreError),
    /// A configured real server could not be reached or prepared.
    #[error(transparent)]
    Backend(#[from] crate::BackendError),
    /// The address could not be bound.
    #[error("cannot listen on {addr}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// Why.
        #[source]
        source: std::io::Error,
    },
}

/// A running local stack.
pub struct LocalStack {
    addr: SocketAddr,
    services: Arc<Services>,
    stop: watch::Sender<bool>,
    done: tokio::task::JoinHandle<()>,
    seeded: usize,
}

impl LocalStack {
    /// Opens the store under `config.data_dir`, seeds the demo catalog on first start, and
    /// starts serving on `config.addr`.
    pub async fn start(config: Config) -> Result<LocalStack, StartError> {
        let store = Arc::new(EmbeddedStore::open(&config.data_dir)?);
        let bus = EventBus::default();
        let connected = crate::backends::connect(&config.backends, &store, &bus).await?;
        tracing::info!(backends = config.backends.describe(), "ports connected");
        // Whichever catalog the stack runs on (embedded or Keyspaces) gets the demo items once.
        let mut seeded = 0;
        let empty = connected
            .catalog
            .list(None, 1)
            .await
            .map_err(StartError::Seed)?
            .is_empty();
        if config.seed_demo_catalog && empty {
            seeded = domain::demo::put_all(connected.catalog.as_ref())
                .await
                .map_err(StartError::Seed)?;
        }
        let relay = domain::unpublished::Relay::new(
            connected.carts.clone(),
            connected.publisher.clone(),
            crate::republish::GRACE,
        );
        let (notices, presence_notices) = crate::presence::channel();
        let services = Arc::new(Services {
            carts: CartService::new(
                connected.carts,
                connected.catalog.clone(),
                connected.publisher.clone(),
            )
            .with_orders(connected.orders)
            .with_lock_lasting(config.checkout_lock),
            items: ItemService::new(connected.catalog),
            verifier: match &config.issuer {
                Some(issuer) => token::Verifier::Issuer(Box::new(issuer.verifier()?)),
                None => config.keys.clone().into(),
            },
            keys: config.keys,
            bus,
            registry: connected.registry,
            analytics: store.clone(),
            directory: store.clone(),
            notifications: store.clone(),
            notices: Arc::new(notices),
            idempotency: connected.idempotency,
            sockets: Sockets::default(),
            throttle: config.rate_per_user.map(Buckets::new),
            message_rate: Buckets::new(domain::limits::PER_CONNECTION),
            websocket: config.websocket,
        });
        let listener = TcpListener::bind(config.addr)
            .await
            .map_err(|source| StartError::Bind {
                addr: config.addr,
                source,
            })?;
        let addr = listener.local_addr().map_err(|source| StartError::Bind {
            addr: config.addr,
            source,
        })?;
        let (stop, stopped) = watch::channel(false);
        let poster = Arc::new(apigw::ManagementApi::unsigned_local(&format!(
            "http://{addr}"
        )));
        let push = sync_push::Push::new(services.registry.clone(), poster.clone())
            .announcing_presence(services.notices.clone());
        let presence = presence_push::Presence::new(services.registry.clone(), poster);
        let notify = notify::Notify {
            store: services.notifications.clone(),
            registry: services.registry.clone(),
            directory: services.directory.clone(),
            // No mail service on a development machine: mails are logged.
            mailer: Some(Arc::new(wiring::LoggedMail)),
            mails_per_hour: domain::notification::DEFAULT_EMAILS_PER_HOUR,
            page: Some(format!("http://{addr}/")),
        };
        let consumers = Arc::new(crate::push::Consumers {
            push,
            notify,
            analytics: services.analytics.clone(),
            inventory: inventory::Inventory {
                ledger: connected.ledger,
                events: connected.publisher.clone(),
            },
        });
        // The consumers read the topic: Kafka through a poller, or the bus.
        let mut feeders = vec![match connected.poller {
            Some(poller) => tokio::spawn(crate::push::run_from_kafka(consumers, poller)),
            None => tokio::spawn(crate::push::run_from_bus(
                consumers,
                services.bus.subscribe(),
            )),
        }];
        feeders.push(tokio::spawn(crate::republish::run(relay)));
        feeders.push(tokio::spawn(crate::presence::run(
            presence,
            presence_notices,
            config.presence_window,
        )));
        if let Some((client, queue_url, topic)) = connected.outbox {
            feeders.push(tokio::spawn(crate::relay::run(client, queue_url, topic)));
        }
        let services_for_loop = services.clone();
        let done = tokio::spawn(async move {
            accept_loop(listener, services_for_loop, stopped).await;
            // Each holds the store: wait until they are gone, not only told to go.
            for feeder in feeders {
                feeder.abort();
                let _ = feeder.await;
            }
        });
        Ok(LocalStack {
            addr,
            services,
            stop,
            done,
            seeded,
        })
    }

    /// Where it listens.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// How many demo items this start seeded (0 when the store already had a catalog).
    pub fn seeded_items(&self) -> usize {
        self.seeded
    }

    /// The connection registry the WebSocket functions keep.
    pub fn registry(&self) -> Arc<dyn domain::ConnectionRegistry> {
        self.services.registry.clone()
    }

    /// The cart service every cart operation runs on (a test's hook into it).
    pub fn cart_service(&self) -> &CartService {
        &self.services.carts
    }

    /// The in-process event bus, to watch what the functions publish.
    pub fn bus(&self) -> &EventBus {
        &self.services.bus
    }

    /// Stops accepting, lets in-flight requests finish (up to five seconds), and returns once
    /// the store is released.
    pub async fn shutdown(self) {
        let _ = self.stop.send(true);
        let _ = self.done.await;
        // Background settles hold the store; whoever opens it next must find it closed.
        self.services.carts.settled().await;
    }
}

async fn accept_loop(
    listener: TcpListener,
    services: Arc<Services>,
    stopped: watch::Receiver<bool>,
) {
    // Every connection task holds a clone of `busy`; when all are dropped, `idle` yields None.
    let (busy, mut idle) = tokio::sync::mpsc::channel::<()>(1);
    let mut stop = stopped.clone();
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let Ok((stream, _)) = accepted else { continue };
                // Small JSON responses: send them now rather than wait to fill a segment.
                let _ = stream.set_nodelay(true);
                tokio::spawn(serve_connection(stream, services.clone(), stopped.clone(), busy.clone()));
            }
            _ = stop.changed() => break,
        }
    }
    drop(listener);
    drop(busy);
    // WebSockets have left their HTTP connections behind: close them too, as API Gateway does
    // when a deployment goes away.
    services.sockets.close_all();
    let drained = async {
        let _ = idle.recv().await;
        while services.sockets.len() > 0 {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    };
    if tokio::time::timeout(DRAIN_TIMEOUT, drained).await.is_err() {
        tracing::warn!("some connections were still busy after {DRAIN_TIMEOUT:?}; closing them");
    }
}

/// Serves one HTTP connection until it ends, or finishes its in-flight request and ends once
/// the stack stops.
async fn serve_connection(
    stream: tokio::net::TcpStream,
    services: Arc<Services>,
    mut stopped: watch::Receiver<bool>,
    _busy: tokio::sync::mpsc::Sender<()>,
) {
    let service = hyper::service::service_fn(move |request| {
        let services = services.clone();
        async move { Ok::<_, std::convert::Infallible>(gateway::serve(&services, request).await) }
    });
    let connection = http1::Builder::new()
        .serve_connection(TokioIo::new(stream), service)
        .with_upgrades();
    tokio::pin!(connection);
    let result = tokio::select! {
        result = connection.as_mut() => result,
        _ = stopped.changed() => {
            connection.as_mut().graceful_shutdown();
            connection.await
        }
    };
    if let Err(e) = result {
        tracing::debug!(error = %e, "connection ended with an error");
    }
}
