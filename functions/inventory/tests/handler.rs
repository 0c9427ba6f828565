//! inventory's handler, fed its sample MSK batch: a `CartModified`, then the cart's
//! `CartCheckedOut` (3 apples, 1 pear) delivered twice around a poison record.

use aws_lambda_events::event::kafka::KafkaEvent;
use domain::inventory::{StockLedger, Take};
use domain::memory::{MemoryCatalog, RecordingPublisher};
use domain::ports::{Catalog, StoreError};
use domain::testing::sample_items;
use domain::{CartId, EventType, ItemId};
use inventory::{Inventory, InventoryError, Report};
use std::sync::Arc;

fn sample_batch() -> KafkaEvent {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../events/inventory.json");
    serde_json::from_str(&std::fs::read_to_string(path).expect("the sample event"))
        .expect("an MSK event")
}

/// The sample catalog (apple: 50, pear: 5), with pear's stock set to `pears`.
async fn inventory_with(pears: u32) -> (Inventory, Arc<MemoryCatalog>, Arc<RecordingPublisher>) {
    let catalog = Arc::new(MemoryCatalog::with(sample_items()));
    let pear = ItemId::parse("pear").expect("an item id");
    catalog
        .set_stock(&pear, pears)
        .await
        .expect("the memory catalog never fails");
    let events = Arc::new(RecordingPublisher::default());
    let inventory = Inventory {
        ledger: catalog.clone(),
        events: events.clone(),
    };
    (inventory, catalog, events)
}

async fn stock(catalog: &MemoryCatalog, item: &str) -> Option<u32> {
    let id = ItemId::parse(item).expect("an item id");
    catalog.item(&id).await.ok().flatten().map(|i| i.stock)
}

#[tokio::test]
async fn a_checkout_delivered_twice_takes_its_lines_once() {
    let (inventory, catalog, events) = inventory_with(5).await;
    let report = inventory::handle(&inventory, sample_batch()).await.unwrap();
    assert_eq!(
        report,
        Report {
            records: 4,
            undecodable: 1,
            checkouts: 2,
            taken: 2,
            already_taken: 2,
            shortfalls: 0,
        }
    );
    assert_eq!(stock(&catalog, "apple").await, Some(47));
    assert_eq!(stock(&catalog, "pear").await, Some(4));
    assert!(events.events().is_empty(), "nothing to announce");
}

#[tokio::test]
async fn a_redelivered_batch_takes_nothing_more() {
    let (inventory, catalog, _) = inventory_with(5).await;
    inventory::handle(&inventory, sample_batch()).await.unwrap();
    let again = inventory::handle(&inventory, sample_batch()).await.unwrap();
    assert_eq!((again.taken, again.already_taken), (0, 4));
    assert_eq!(stock(&catalog, "apple").await, Some(47));
    assert_eq!(stock(&catalog, "pear").await, Some(4));
}

#[tokio::test]
async fn a_line_stock_cannot_cover_is_announced_to_the_members_and_the_rest_is_taken() {
    let (inventory, catalog, events) = inventory_with(0).await;
    let report = inventory::handle(&inventory, sample_batch()).await.unwrap();
    assert_eq!((report.taken, report.shortfalls), (1, 2));
    assert_eq!(
        stock(&catalog, "apple").await,
        Some(47),
        "the apples are taken"
    );
    assert_eq!(stock(&catalog, "pear").await, Some(0), "never below zero");
    let announced = events.events();
    let short = announced.first().expect("a shortfall event");
    assert_eq!(short.event_type, EventType::CartStockShort);
    assert_eq!(short.version, 6, "the checkout's version: not a change");
    assert_eq!(short.members.len(), 3, "every member hears of it");
    assert_eq!(short.shortages[0].item_id.as_str(), "pear");
    assert_eq!(
        (short.shortages[0].requested, short.shortages[0].available),
        (1, 0)
    );
}

/// A ledger whose store is down.
struct Unavailable;

#[async_trait::async_trait]
impl StockLedger for Unavailable {
    async fn take(&self, _: CartId, _: &ItemId, _: u32) -> Result<Take, StoreError> {
        Err(StoreError::unavailable("down"))
    }
}

#[tokio::test]
async fn a_ledger_outage_fails_the_batch_so_it_is_delivered_again() {
    let inventory = Inventory {
        ledger: Arc::new(Unavailable),
        events: Arc::new(RecordingPublisher::default()),
    };
    let outcome = inventory::handle(&inventory, sample_batch()).await;
    assert!(
        matches!(outcome, Err(InventoryError::Store(_))),
        "{outcome:?}"
    );
}
