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
    let client = wiring::dynamodb(&settings).await;
    dynamo::tables::create_connections_table(&client, &table)
        .await
        .unwrap();

    let registry = wiring::connection_registry_from(&settings).await.unwrap();
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
