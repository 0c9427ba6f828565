//! Starting and stopping the local stack: open the store, seed it, listen, serve, drain.

use crate::config::Config;
use crate::{gateway, seed};
use domain::{CartService, ItemService};
use embedded::{EmbeddedStore, EventBus};
use hyper::server::conn::http1;
use hyper_util::rt::TokioIo;
use hyper_util::server::graceful::GracefulShutdown;
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
    /// The authorizer's keys (and `/dev/token`'s).
    pub keys: TokenKeys,
    /// The in-process stand-in for the `cart-events` topic.
    pub bus: EventBus,
}

/// The local stack could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The embedded store did not open.
    #[error(transparent)]
    Store(#[from] embedded::OpenError),
    /// The demo catalog could not be written.
    #[error("cannot seed the demo catalog")]
    Seed(#[source] domain::ports::StoreError),
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
        let mut seeded = 0;
        if config.seed_demo_catalog && store.catalog_is_empty().map_err(StartError::Seed)? {
            seeded = seed::demo_catalog(store.as_ref())
                .await
                .map_err(StartError::Seed)?;
        }
        let bus = EventBus::default();
        let services = Arc::new(Services {
            carts: CartService::new(store.clone(), store.clone(), Arc::new(bus.clone())),
            items: ItemService::new(store),
            keys: config.keys,
            bus,
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
        let done = tokio::spawn(accept_loop(listener, services.clone(), stopped));
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

    /// The in-process event bus, to watch what the functions publish.
    pub fn bus(&self) -> &EventBus {
        &self.services.bus
    }

    /// Stops accepting, lets in-flight requests finish (up to five seconds), and returns once
    /// the store is released.
    pub async fn shutdown(self) {
        let _ = self.stop.send(true);
        let _ = self.done.await;
    }
}

async fn accept_loop(
    listener: TcpListener,
    services: Arc<Services>,
    mut stopped: watch::Receiver<bool>,
) {
    let graceful = GracefulShutdown::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let Ok((stream, _)) = accepted else { continue };
                // Small JSON responses: send them now rather than wait to fill a segment.
                let _ = stream.set_nodelay(true);
                let services = services.clone();
                let service = hyper::service::service_fn(move |request| {
                    let services = services.clone();
                    async move { Ok::<_, std::convert::Infallible>(gateway::serve(&services, request).await) }
                });
                let connection = http1::Builder::new().serve_connection(TokioIo::new(stream), service);
                let connection = graceful.watch(connection);
                tokio::spawn(async move {
                    if let Err(e) = connection.await {
                        tracing::debug!(error = %e, "connection ended with an error");
                    }
                });
            }
            _ = stopped.changed() => break,
        }
    }
    drop(listener);
    if tokio::time::timeout(DRAIN_TIMEOUT, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!("some connections were still busy after {DRAIN_TIMEOUT:?}; closing them");
    }
}
