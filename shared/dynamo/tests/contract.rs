//! The DynamoDB adapters against a real DynamoDB implementation (moto, started by
//! `tests/services.sh`), each test on tables of its own: the same contract suites the in-memory
//! and embedded adapters pass, and what only DynamoDB can get wrong.

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::config::{BehaviorVersion, Credentials, Region};
use domain::ports::CartStore;
use domain::testing::{cart_store_contract, connection_registry_contract, user};
use domain::{Cart, CartId, Currency, Role};
use dynamo::{DynamoCartStore, DynamoConnectionRegistry, tables};
use std::sync::Arc;

/// A client for the DynamoDB the services script started.
fn client() -> Client {
    let endpoint = std::env::var("DYNAMODB_ENDPOINT").unwrap_or_else(|_| {
        panic!("DYNAMODB_ENDPOINT is not set: run the tests through tests/services.sh (tests/run.sh does)")
    });
    let config = aws_sdk_dynamodb::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .endpoint_url(endpoint)
        .region(Region::new("us-east-1"))
        .http_client(tls::aws_http_client())
        .credentials_provider(Credentials::new("test", "test", None, None, "tests"))
        .build();
    Client::from_conf(config)
}

/// A table name no other test uses.
fn fresh(prefix: &str) -> String {
    format!("{prefix}-{}", uuid::Uuid::new_v4())
}

async fn cart_store() -> DynamoCartStore {
    let client = client();
    let (carts, memberships) = (fresh("carts"), fresh("memberships"));
    tables::create_cart_tables(&client, &carts, &memberships)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    DynamoCartStore::new(client, carts, memberships)
}

#[tokio::test]
async fn the_dynamodb_registry_keeps_the_registry_contract() {
    let client = client();
    let table = fresh("connections");
    tables::create_connections_table(&client, &table)
        .await
        .unwrap();
    connection_registry_contract(&DynamoConnectionRegistry::new(client, table)).await;
}

#[tokio::test]
async fn the_dynamodb_directory_keeps_the_directory_contract() {
    let client = client();
    let table = fresh("profiles");
    tables::create_profiles_table(&client, &table)
        .await
        .unwrap();
    domain::testing::directory_contract(&dynamo::DynamoDirectory::new(client, table)).await;
}

#[tokio::test]
async fn the_dynamodb_analytics_keep_the_analytics_contract() {
    let client = client();
    let table = fresh("analytics");
    tables::create_analytics_table(&client, &table)
        .await
        .unwrap();
    domain::testing::analytics_store_contract(&dynamo::DynamoAnalytics::new(client, table)).await;
}

#[tokio::test]
async fn the_dynamodb_notifications_keep_the_notification_contract() {
    let client = client();
    let table = fresh("notifications");
    tables::create_notifications_table(&client, &table)
        .await
        .unwrap();
    domain::testing::notification_store_contract(&dynamo::DynamoNotifications::new(client, table))
        .await;
}

/// A checkout of more lines than one transaction takes is counted in chunks, each once: a
/// second record of the event adds nothing, and every line is there.
#[tokio::test]
async fn a_checkout_of_more_lines_than_a_transaction_takes_is_counted_whole_and_once() {
    use domain::analytics::{AnalyticsStore, Day, FunnelCounts, ItemCounts, Tally};
    let client = client();
    let table = fresh("analytics");
    tables::create_analytics_table(&client, &table)
        .await
        .unwrap();
    let store = dynamo::DynamoAnalytics::new(client, table);
    let day = Day::parse("2026-11-22").unwrap();
    let lines = domain::cart::MAX_LINES;
    let tally = Tally {
        event_id: uuid::Uuid::new_v4(),
        day,
        items: (0..lines)
            .map(|i| {
                let item = domain::ItemId::parse(&format!("item-{i:03}")).unwrap();
                (
                    item,
                    ItemCounts {
                        checked_out: 1,
                        ..Default::default()
                    },
                )
            })
            .collect(),
        funnel: FunnelCounts {
            checked_out: 1,
            ..Default::default()
        },
        shares: None,
    };
    assert!(store.record(&tally).await.unwrap());
    assert!(!store.record(&tally).await.unwrap(), "counted once");
    let report = store.day(day).await.unwrap();
    assert_eq!(report.items.len(), lines);
    assert!(report.items.iter().all(|i| i.counts.checked_out == 1));
    assert_eq!(report.funnel.checked_out, 1);
}

#[tokio::test]
async fn the_dynamodb_store_keeps_the_cart_store_contract() {
    cart_store_contract(&cart_store().await).await;
}

#[tokio::test]
async fn an_operation_ended_after_its_save_still_has_its_event_published_by_the_relay() {
    domain::testing::unpublished_events_contract(Arc::new(cart_store().await)).await;
}

#[tokio::test]
async fn creating_the_tables_twice_is_harmless() {
    let client = client();
    let (carts, memberships) = (fresh("carts"), fresh("memberships"));
    for _ in 0..2 {
        tables::create_cart_tables(&client, &carts, &memberships)
            .await
            .unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn of_concurrent_writes_from_one_read_exactly_one_lands() {
    let store = Arc::new(cart_store().await);
    let alice = user("alice");
    let created = Cart::new(
        CartId::new(),
        alice.clone(),
        Currency::DEFAULT,
        chrono::Utc::now(),
    );
    store.save(None, &created).await.unwrap();
    let writers = (0..8).map(|i| {
        let (store, created, alice) = (store.clone(), created.clone(), alice.clone());
        tokio::spawn(async move {
            // Half the writers change membership (a transaction), half do not (a plain put).
            let next = if i % 2 == 0 {
                domain::commands::share(
                    &created,
                    &alice,
                    &[user(&format!("guest{i}"))],
                    Role::Viewer,
                    chrono::Utc::now(),
                )
                .unwrap()
            } else {
                let apple = &domain::testing::sample_items()[0];
                let one = domain::Quantity::try_from(1u32).unwrap();
                domain::commands::add_item(&created, &alice, apple, one, chrono::Utc::now())
                    .unwrap()
            };
            store.save(Some(&created), &next).await
        })
    });
    let mut landed = 0;
    for writer in writers {
        match writer.await.unwrap() {
            Ok(()) => landed += 1,
            Err(e) => assert!(e.is_conflict(), "a lost race is a conflict, not {e}"),
        }
    }
    assert_eq!(landed, 1);
    assert_eq!(
        store
            .load(created.cart_id)
            .await
            .unwrap()
            .map(|c| c.version),
        Some(created.version + 1)
    );
}

#[tokio::test]
async fn an_unreachable_table_is_unavailable_not_a_conflict() {
    let store = DynamoCartStore::new(client(), fresh("missing"), fresh("missing"));
    let cart = Cart::new(
        CartId::new(),
        user("alice"),
        Currency::DEFAULT,
        chrono::Utc::now(),
    );
    let failed = store.save(None, &cart).await.unwrap_err();
    assert!(!failed.is_conflict(), "{failed}");
    assert!(store.load(cart.cart_id).await.is_err());
}

#[tokio::test]
async fn the_dynamodb_records_keep_the_idempotency_contract() {
    let client = client();
    let table = fresh("idempotency");
    tables::create_idempotency_table(&client, &table)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    domain::testing::idempotency_contract(&dynamo::DynamoIdempotency::new(client, table)).await;
}

/// A connection registered before presence has no `seenAt` and lives on until its TTL: it still
/// reads, as seen when it connected, so pushes to its user keep working across the upgrade.
#[tokio::test]
async fn a_connection_stored_before_presence_still_reads() {
    use aws_sdk_dynamodb::types::AttributeValue::{N, S};
    use domain::ConnectionRegistry;
    let client = client();
    let table = fresh("connections");
    tables::create_connections_table(&client, &table)
        .await
        .unwrap();
    let connected = chrono::Utc::now();
    client
        .put_item()
        .table_name(&table)
        .item("connectionId", S("Old1=".into()))
        .item("userId", S("alice".into()))
        .item("connectedAt", S(connected.to_rfc3339()))
        .item(
            tables::CONNECTION_TTL_ATTRIBUTE,
            N((connected.timestamp() + 3600).to_string()),
        )
        .send()
        .await
        .unwrap();
    let registry = DynamoConnectionRegistry::new(client, table);
    let found = registry.connections_of(&user("alice")).await.unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].viewing, None);
    assert_eq!(found[0].seen_at.timestamp(), connected.timestamp());
}
