//! The Amazon Keyspaces adapters, over the CQL protocol through the `scylla` driver: the cart
//! store (every write a lightweight transaction on the version), the item catalog, and the stock
//! ledger the inventory consumer takes checked-out lines from.
//!
//! One [`Keyspace`] per process: it holds the session and the statements, each prepared once, on
//! its first use (so a function prepares only what it runs, and its IAM role need allow no
//! more). Reads and writes run at `LOCAL_QUORUM`, which Keyspaces supports for both ("Supported
//! Apache Cassandra consistency levels in Amazon Keyspaces"); the conditions' serial
//! consistency is `LOCAL_SERIAL`. The schema is
//! `infra/keyspaces/schema.cql`.

mod applied;
pub mod carts;
pub mod catalog;
pub mod config;
pub mod ledger;
mod rows;
pub mod schema;
pub mod session;
pub mod sigv4;

pub use carts::KeyspacesCartStore;
pub use catalog::KeyspacesCatalog;
pub use config::{Auth, KeyspacesConfig};
pub use ledger::KeyspacesLedger;
pub use session::{Keyspace, KeyspacesError, Statement};

/// Any driver failure, as the ports report it: unavailable, with the driver's error kept as the
/// source (the edge logs the whole chain).
fn unavailable(e: impl Into<domain::ports::BoxError>) -> domain::ports::StoreError {
    domain::ports::StoreError::unavailable(e)
}
