//! The Keyspaces adapters over the CQL wire, against an in-process CQL server (kassandra, see
//! the `cqlserver` crate), a fresh one per test: the schema file runs, every statement
//! prepares, and carts, the membership index and the catalog round-trip through real frames.
//! The server checks no `IF` condition, so the conflict half of the contract runs against a
//! real Cassandra in `cassandra.rs`.

use domain::testing::{cart_store_round_trips, catalog_contract};
use keyspaces::{Keyspace, KeyspacesCartStore, KeyspacesCatalog, KeyspacesConfig, schema};

async fn keyspace() -> Keyspace {
    let address = cqlserver::start().await;
    let config = KeyspacesConfig::from_settings(&|name| {
        (name == "CASSANDRA_CONTACT_POINTS").then(|| address.to_string())
    })
    .ok()
    .flatten()
    .unwrap_or_else(|| panic!("a config for {address}"));
    schema::open_creating(&config)
        .await
        .unwrap_or_else(|e| panic!("{e:?}"))
}

#[tokio::test]
async fn carts_and_their_members_round_trip_through_cql() {
    cart_store_round_trips(&KeyspacesCartStore::new(keyspace().await)).await;
}

#[tokio::test]
async fn the_catalog_round_trips_through_cql() {
    catalog_contract(&KeyspacesCatalog::new(keyspace().await)).await;
}

#[tokio::test]
async fn the_schema_can_be_applied_twice() {
    let keyspace = keyspace().await;
    schema::create(
        keyspace.session(),
        keyspaces::KeyspacesConfig::DEFAULT_KEYSPACE,
    )
    .await
    .unwrap_or_else(|e| panic!("{e:?}"));
}

#[tokio::test]
async fn stock_is_taken_once_per_checkout_through_cql() {
    let keyspace = keyspace().await;
    let catalog = KeyspacesCatalog::new(keyspace.clone());
    domain::testing::stock_ledger_contract(&keyspaces::KeyspacesLedger::new(keyspace), &catalog)
        .await;
}
