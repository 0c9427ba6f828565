//! The Keyspaces adapters over the CQL wire, against a CQL server as strict as Keyspaces (the
//! `cqlserver` crate: TLS with the endpoint's certificate name while dialled at 127.0.0.1, a
//! sign-in, IAM-like grants, and `IF` conditions evaluated), a fresh one per test. The whole cart
//! store contract runs here, conflicts included, and so do the catalog's and the stock ledger's,
//! with takes racing on one item, and the transactional outbox's.

use cqlserver::{Action, CqlServer, Grants, REGION};
use domain::ports::{CartStore, Catalog};
use domain::testing::{cart_store_contract, catalog_contract};
use keyspaces::{
    Auth, Keyspace, KeyspacesCartStore, KeyspacesCatalog, KeyspacesConfig, KeyspacesLedger, schema,
};

/// The config that reaches `server` as `login`, from the settings a function would have.
fn config(server: &CqlServer, login: &cqlserver::Login) -> KeyspacesConfig {
    let settings = server.settings(login);
    KeyspacesConfig::from_settings(&|name| settings.get(name).cloned())
        .unwrap_or_else(|e| panic!("{e}"))
        .unwrap_or_else(|| panic!("a config"))
}

/// The IAM resource of one of our tables, as a grant names it.
fn table(name: &str) -> String {
    format!(
        "/keyspace/{}/table/{name}",
        KeyspacesConfig::DEFAULT_KEYSPACE
    )
}

/// A fresh server with the schema, and the keyspace as its test login sees it.
async fn keyspace() -> (CqlServer, Keyspace) {
    let server = CqlServer::start().await;
    let keyspace = schema::open_creating(&config(&server, server.admin()))
        .await
        .unwrap_or_else(|e| panic!("{e:?}"));
    (server, keyspace)
}

#[tokio::test]
async fn the_whole_cart_store_contract_holds_through_cql_conflicts_included() {
    let (_server, keyspace) = keyspace().await;
    cart_store_contract(&KeyspacesCartStore::new(keyspace)).await;
}

#[tokio::test]
async fn an_operation_ended_after_its_save_still_has_its_event_published_by_the_relay() {
    let (_server, keyspace) = keyspace().await;
    domain::testing::unpublished_events_contract(std::sync::Arc::new(KeyspacesCartStore::new(
        keyspace,
    )))
    .await;
}

/// The relay's entry is written beside the cart's conditional write, not before it (one round
/// trip fewer per change). Refused here by a login without `cassandra:Modify` on its table, the
/// entry fails while the write lands: the change stands, and its event goes out with the
/// operation's own publish or, when that fails too, ahead of the cart's next change.
#[tokio::test]
async fn a_change_whose_relay_entry_fails_still_stands_and_its_event_still_goes_out_in_order() {
    use domain::memory::{MemoryCatalog, RecordingPublisher};
    use std::sync::Arc;
    let (server, _) = keyspace().await;
    let no_relay_list = server.login_with(
        Grants::none()
            .allow(Action::Select, table("carts"))
            .allow(Action::Modify, table("carts"))
            .allow(Action::Select, table("user_cart_sharing"))
            .allow(Action::Modify, table("user_cart_sharing"))
            .allow(Action::Select, "/keyspace/system*"),
    );
    let keyspace = Keyspace::open(&config(&server, &no_relay_list))
        .await
        .unwrap_or_else(|e| panic!("{e:?}"));
    let store = Arc::new(KeyspacesCartStore::new(keyspace));
    let events = Arc::new(RecordingPublisher::default());
    let catalog = Arc::new(MemoryCatalog::with(domain::testing::sample_items()));
    let carts = domain::CartService::new(store.clone(), catalog, events.clone())
        .settling_before_answering();
    let alice = domain::testing::user("alice");
    let items = domain::testing::sample_items();
    let one = domain::Quantity::try_from(1u32).unwrap_or_else(|e| panic!("{e}"));

    let cart = carts
        .create(&alice, domain::Currency::DEFAULT, &[])
        .await
        .unwrap_or_else(|e| panic!("the create stands without its entry: {e}"));
    let refusals = server.refusals();
    assert!(
        !refusals.is_empty() && refusals.iter().all(|r| r.contains("unpublished_events")),
        "only the relay's entry was refused: {refusals:?}"
    );

    events.set_down(true);
    carts
        .add_item(&alice, cart.cart_id, &items[0].item_id, one)
        .await
        .unwrap_or_else(|e| panic!("the add stands without entry or publish: {e}"));
    let stored = store.load(cart.cart_id).await.ok().flatten();
    assert_eq!(
        stored.as_ref().map(|c| (c.version, c.unpublished.len())),
        Some((2, 1)),
        "the add is saved with its event in the record"
    );

    events.set_down(false);
    carts
        .add_item(&alice, cart.cart_id, &items[1].item_id, one)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let versions: Vec<u64> = events.events().iter().map(|e| e.version).collect();
    assert_eq!(
        versions,
        [1, 2, 3],
        "the held event goes out first, in order"
    );
    let stored = store.load(cart.cart_id).await.ok().flatten();
    assert_eq!(
        stored.map(|c| (c.version, c.unpublished.len())),
        Some((3, 0)),
        "and both are settled out of the record"
    );
}

#[tokio::test]
async fn the_catalog_round_trips_through_cql() {
    let (_server, keyspace) = keyspace().await;
    catalog_contract(&KeyspacesCatalog::new(keyspace)).await;
}

#[tokio::test]
async fn the_schema_can_be_applied_twice() {
    let (_server, keyspace) = keyspace().await;
    schema::create(keyspace.session(), KeyspacesConfig::DEFAULT_KEYSPACE)
        .await
        .unwrap_or_else(|e| panic!("{e:?}"));
}

#[tokio::test]
async fn stock_is_taken_once_per_checkout_through_cql() {
    let (_server, keyspace) = keyspace().await;
    let catalog = KeyspacesCatalog::new(keyspace.clone());
    domain::testing::stock_ledger_contract(&KeyspacesLedger::new(keyspace), &catalog).await;
}

#[tokio::test]
async fn checkouts_racing_for_one_item_never_take_more_than_its_stock() {
    let (_server, keyspace) = keyspace().await;
    let catalog = KeyspacesCatalog::new(keyspace.clone());
    domain::testing::stock_ledger_races(
        std::sync::Arc::new(KeyspacesLedger::new(keyspace)),
        &catalog,
    )
    .await;
}

#[tokio::test]
async fn sigv4_with_the_right_keys_signs_in_and_with_the_wrong_secret_does_not() {
    let server = CqlServer::start().await;
    let keys = server.sigv4_keys();
    let mut sigv4 = config(&server, server.admin());
    sigv4.auth = Auth::SigV4Keys {
        access_key_id: keys.access_key_id.clone(),
        secret_access_key: keys.secret_access_key.clone(),
        region: REGION.to_owned(),
    };
    let keyspace = schema::open_creating(&sigv4)
        .await
        .unwrap_or_else(|e| panic!("{e:?}"));
    catalog_contract(&KeyspacesCatalog::new(keyspace)).await;

    for (secret, region) in [
        ("wrong", REGION),
        (keys.secret_access_key.as_str(), "eu-west-1"),
    ] {
        let mut wrong = sigv4.clone();
        wrong.auth = Auth::SigV4Keys {
            access_key_id: keys.access_key_id.clone(),
            secret_access_key: secret.to_owned(),
            region: region.to_owned(),
        };
        let refused = Keyspace::open(&wrong).await.err().map(|e| format!("{e:?}"));
        assert!(
            refused.as_deref().is_some_and(|e| e.contains("signature")),
            "signed with {secret} in {region}: {refused:?}"
        );
    }
}

#[tokio::test]
async fn a_wrong_password_or_plaintext_or_an_unpinned_name_cannot_connect() {
    let server = CqlServer::start().await;
    let good = config(&server, server.admin());
    let mut wrong_password = good.clone();
    wrong_password.auth = Auth::Password {
        username: server.admin().username.clone(),
        password: "guess".to_owned(),
    };
    let mut plaintext = good.clone();
    plaintext.tls = None;
    let mut dialled_name = good.clone();
    if let Some(tls) = dialled_name.tls.as_mut() {
        // What the driver checks by default: the address it dialled.
        tls.server_name = None;
    }
    let mut system_roots = good.clone();
    if let Some(tls) = system_roots.tls.as_mut() {
        tls.roots = tls::Roots::System;
    }
    for (what, config) in [
        ("a wrong password", wrong_password),
        ("plaintext", plaintext),
        ("the dialled address as the name", dialled_name),
        ("roots without the test CA", system_roots),
    ] {
        assert!(
            Keyspace::open(&config).await.is_err(),
            "{what} connected to a Keyspaces-like endpoint"
        );
    }
    assert!(Keyspace::open(&good).await.is_ok());
}

#[tokio::test]
async fn a_read_only_login_reads_carts_and_the_catalog_and_may_prepare_no_write() {
    let (server, admin) = keyspace().await;
    let (store, catalog) = (
        KeyspacesCartStore::new(admin.clone()),
        KeyspacesCatalog::new(admin),
    );
    let sample = domain::testing::sample_items();
    catalog
        .put(&sample[0])
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let alice = domain::testing::user("alice");
    let cart = domain::Cart::new(
        domain::CartId::new(),
        alice.clone(),
        domain::Currency::DEFAULT,
        chrono::Utc::now(),
    );
    store
        .save(None, &cart)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    // As stored: the timestamps keep milliseconds.
    let cart = store
        .load(cart.cart_id)
        .await
        .ok()
        .flatten()
        .unwrap_or_else(|| panic!("the cart was stored"));

    // What the template's read policies grant a read-only function: Select, and nothing else.
    let reader = server.login_with(
        Grants::none()
            .allow(Action::Select, table("carts"))
            .allow(Action::Select, table("user_cart_sharing"))
            .allow(Action::Select, table("items"))
            .allow(Action::Select, "/keyspace/system*"),
    );
    let read_only = Keyspace::open(&config(&server, &reader))
        .await
        .unwrap_or_else(|e| panic!("{e:?}"));
    let (store, catalog) = (
        KeyspacesCartStore::new(read_only.clone()),
        KeyspacesCatalog::new(read_only.clone()),
    );
    assert_eq!(
        store.load(cart.cart_id).await.ok().flatten(),
        Some(cart.clone())
    );
    assert_eq!(store.carts_of(&alice).await.ok(), Some(vec![cart.cart_id]));
    assert_eq!(catalog.list(None, 10).await.map(|l| l.len()).ok(), Some(1));
    assert_eq!(
        server.refusals(),
        Vec::<String>::new(),
        "reads prepared no write"
    );

    assert!(store.save(Some(&cart), &cart).await.is_err());
    let refusals = server.refusals();
    assert!(
        // The driver prepares on each connection of its pool, so once or more.
        !refusals.is_empty() && refusals.iter().all(|r| r.contains("cassandra:Modify")),
        "a write is refused for want of cassandra:Modify: {refusals:?}"
    );
    assert!(read_only.prepare_all().await.is_err());
}
