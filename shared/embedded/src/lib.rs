//! The adapters the local stack runs on: a persistent cart store and item catalog in one redb
//! file under a directory the user picks, and an in-process event bus.

mod bus;
mod cache;
mod connections;
mod store;
mod writer;

pub use bus::EventBus;
pub use store::{EmbeddedStore, OpenError};

use domain::{CartService, ItemService};
use std::path::PathBuf;
use std::sync::Arc;

/// Where the store lives: `DATA_DIR`, else `./data`.
pub fn data_dir_from_env() -> PathBuf {
    std::env::var_os("DATA_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("data"))
}

/// The cart service on the embedded adapters under `DATA_DIR`: how a cart function runs on its
/// own (`cargo lambda watch`) until it is wired to the AWS adapters.
pub fn cart_service_from_env() -> Result<CartService, OpenError> {
    let store = Arc::new(EmbeddedStore::open(&data_dir_from_env())?);
    Ok(CartService::new(
        store.clone(),
        store,
        Arc::new(EventBus::default()),
    ))
}

/// The item service on the embedded catalog under `DATA_DIR`.
pub fn item_service_from_env() -> Result<ItemService, OpenError> {
    Ok(ItemService::new(Arc::new(EmbeddedStore::open(
        &data_dir_from_env(),
    )?)))
}

/// The embedded store under `DATA_DIR`, for functions that use it as several ports at once
/// (the WebSocket functions: connections and carts).
pub fn store_from_env() -> Result<Arc<EmbeddedStore>, OpenError> {
    Ok(Arc::new(EmbeddedStore::open(&data_dir_from_env())?))
}
