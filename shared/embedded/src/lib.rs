//! The adapters the local stack runs on: a persistent cart store and item catalog in one redb
//! file under a directory the user picks, and an in-process event bus.

mod analytics;
mod bus;
mod cache;
mod connections;
mod directory;
mod idempotency;
mod notifications;
mod store;
mod writer;

pub use bus::EventBus;
pub use store::{EmbeddedStore, OpenError};
