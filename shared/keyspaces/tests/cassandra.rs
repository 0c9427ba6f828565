//! The whole cart store contract, version conflicts included, and the catalog contract against
//! a real Cassandra or Amazon Keyspaces: the lightweight transactions the CQL test server cannot
//! check. Set `CASSANDRA_CONTACT_POINTS` (and, for Keyspaces, `CASSANDRA_TLS=true`,
//! `CASSANDRA_USERNAME`, `CASSANDRA_PASSWORD`, `CASSANDRA_LOCAL_DC`) and run
//!
//! ```sh
//! cargo test -p keyspaces --test cassandra -- --ignored
//! ```
//!
//! Each run creates a keyspace of its own (`carts_test_<random>`) and leaves it behind. Against a
//! multi-node cluster or Keyspaces, where new tables take a moment to be usable everywhere, run
//! once more if the first run cannot prepare its statements.

use domain::testing::{cart_store_contract, catalog_contract};
use keyspaces::{Keyspace, KeyspacesCartStore, KeyspacesCatalog, KeyspacesConfig, schema};

async fn keyspace() -> Keyspace {
    let fresh = format!("carts_test_{}", uuid_suffix());
    let config = KeyspacesConfig::from_settings(&|name| match name {
        "KEYSPACE" => Some(fresh.clone()),
        _ => std::env::var(name).ok().filter(|v| !v.is_empty()),
    })
    .unwrap_or_else(|e| panic!("{e}"))
    .unwrap_or_else(|| panic!("CASSANDRA_CONTACT_POINTS is not set"));
    schema::open_creating(&config)
        .await
        .unwrap_or_else(|e| panic!("{e:?}"))
}

fn uuid_suffix() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or_default();
    format!("{}_{nanos}", std::process::id())
}

#[tokio::test]
#[ignore = "needs a real Cassandra or Keyspaces: set CASSANDRA_CONTACT_POINTS and pass --ignored"]
async fn a_real_cassandra_keeps_the_whole_cart_store_contract() {
    cart_store_contract(&KeyspacesCartStore::new(keyspace().await)).await;
}

#[tokio::test]
#[ignore = "needs a real Cassandra or Keyspaces: set CASSANDRA_CONTACT_POINTS and pass --ignored"]
async fn a_real_cassandra_keeps_the_catalog_contract() {
    catalog_contract(&KeyspacesCatalog::new(keyspace().await)).await;
}

#[tokio::test]
#[ignore = "needs a real Cassandra or Keyspaces: set CASSANDRA_CONTACT_POINTS and pass --ignored"]
async fn a_real_cassandra_keeps_the_stock_ledger_contract() {
    let keyspace = keyspace().await;
    let catalog = KeyspacesCatalog::new(keyspace.clone());
    domain::testing::stock_ledger_contract(&keyspaces::KeyspacesLedger::new(keyspace), &catalog)
        .await;
}
