//! The wiring picks DynamoDB when its table is configured (against moto, started by
//! `tests/services.sh`).

use domain::{Connection, ConnectionId, ConnectionRegistry, UserId};

#[tokio::test]
async fn a_configured_connections_table_puts_the_registry_on_dynamodb() {
    let table = format!("connections-{}", uuid::Uuid::new_v4());
    let endpoint = wiring::environment("DYNAMODB_ENDPOINT").unwrap_or_else(|| {
        panic!("DYNAMODB_ENDPOINT is not set: run the tests through tests/services.sh")
    });
    let settings = |name: &str| match name {
        "CONNECTIONS_TABLE" => Some(table.clone()),
        "DYNAMODB_ENDPOINT" => Some(endpoint.clone()),
        _ => None,
    };
    let config = wiring::Config::from_settings(&settings).unwrap();
    let client = wiring::dynamodb(&config).await;
    dynamo::tables::create_connections_table(&client, &table)
        .await
        .unwrap();

    let registry = wiring::connection_registry(&config).await.unwrap();
    let connection = Connection::opened(
        ConnectionId::parse("Wired=").unwrap(),
        UserId::parse("alice").unwrap(),
        chrono::Utc::now(),
    );
    registry.register(&connection).await.unwrap();
    // Read back from the table itself: the write went to DynamoDB, not to a local fallback.
    let in_the_table = dynamo::DynamoConnectionRegistry::new(client, table.clone());
    let stored = in_the_table
        .connection(&connection.connection_id)
        .await
        .unwrap();
    assert_eq!(stored.map(|c| c.user_id), Some(connection.user_id));
}

#[tokio::test]
async fn a_configured_keyspace_puts_carts_and_the_catalog_on_it() {
    use domain::ports::{CartStore, Catalog};
    let server = cqlserver::CqlServer::start().await;
    let table = server.settings(server.admin());
    let settings = |name: &str| table.get(name).cloned();
    let config = keyspaces::KeyspacesConfig::from_settings(&settings)
        .unwrap()
        .unwrap();
    // The template creates the tables on AWS; here the test does.
    let keyspace = keyspaces::schema::open_creating(&config).await.unwrap();
    let apple = domain::testing::sample_items()[0].clone();
    keyspaces::KeyspacesCatalog::new(keyspace.clone())
        .put(&apple)
        .await
        .unwrap();

    let carts = wiring::cart_service(&wiring::Config::from_settings(&settings).unwrap())
        .await
        .unwrap();
    let alice = UserId::parse("alice").unwrap();
    let one = domain::Quantity::try_from(1u32).unwrap();
    let cart = carts
        .create(
            &alice,
            domain::Currency::DEFAULT,
            &[(apple.item_id.clone(), one)],
        )
        .await
        .unwrap();
    // Read back from the keyspace itself: the cart went to Keyspaces, not to a local fallback.
    let stored = keyspaces::KeyspacesCartStore::new(keyspace)
        .load(cart.cart_id)
        .await
        .unwrap();
    assert_eq!(stored, Some(cart));
}

#[tokio::test]
async fn a_configured_carts_table_puts_carts_on_dynamodb() {
    use domain::ports::CartStore;
    let fresh = uuid::Uuid::new_v4();
    let (carts_table, memberships) = (format!("carts-{fresh}"), format!("members-{fresh}"));
    let endpoint = wiring::environment("DYNAMODB_ENDPOINT").unwrap_or_else(|| {
        panic!("DYNAMODB_ENDPOINT is not set: run the tests through tests/services.sh")
    });
    let data_dir = std::env::temp_dir().join(format!("wiring-{fresh}"));
    let settings = |name: &str| match name {
        "CARTS_TABLE" => Some(carts_table.clone()),
        "MEMBERSHIPS_TABLE" => Some(memberships.clone()),
        "DYNAMODB_ENDPOINT" => Some(endpoint.clone()),
        "DATA_DIR" => Some(data_dir.to_string_lossy().into_owned()),
        _ => None,
    };
    let config = wiring::Config::from_settings(&settings).unwrap();
    let client = wiring::dynamodb(&config).await;
    dynamo::tables::create_cart_tables(&client, &carts_table, &memberships)
        .await
        .unwrap();

    let carts = wiring::cart_service(&config).await.unwrap();
    let pear = domain::testing::sample_items()[1].clone();
    carts.catalog().put(&pear).await.unwrap();
    let alice = UserId::parse("alice").unwrap();
    let one = domain::Quantity::try_from(1u32).unwrap();
    let cart = carts
        .create(
            &alice,
            domain::Currency::DEFAULT,
            &[(pear.item_id.clone(), one)],
        )
        .await
        .unwrap();
    let stored = dynamo::DynamoCartStore::new(client, carts_table.clone(), memberships.clone())
        .load(cart.cart_id)
        .await
        .unwrap();
    assert_eq!(stored, Some(cart));
}
