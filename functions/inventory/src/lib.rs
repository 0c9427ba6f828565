//! `inventory`: the consumer that takes checked-out carts from stock. For every `CartCheckedOut`
//! in an MSK batch it takes each line's quantity through the stock ledger, which records the
//! checkout with the take: a redelivered batch takes nothing twice, and stock never goes below
//! zero. Lines stock cannot cover (another checkout took it first) become one `CartStockShort`
//! event on the topic, which `sync-push` delivers to every member as a `shortfall` message.
//!
//! Records that are not cart events are logged and skipped, like events of other types. A store
//! or broker failure fails the whole batch, so MSK delivers it again: harmless, since every take
//! is recorded.

use aws_lambda_events::event::kafka::KafkaEvent;
use domain::inventory::{StockLedger, reserve};
use domain::ports::{EventPublisher, PublishError, StoreError};
use domain::{CartEvent, EventType, ItemId};
use serde::Deserialize;
use std::sync::Arc;

/// What the consumer needs: the stock, and where to announce shortfalls.
pub struct Inventory {
    /// The stock ledger.
    pub ledger: Arc<dyn StockLedger>,
    /// The topic the shortfalls go to.
    pub events: Arc<dyn EventPublisher>,
}

/// What one batch did, for logs and tests.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Report {
    /// Records in the batch.
    pub records: usize,
    /// Records that were not cart events (logged, skipped).
    pub undecodable: usize,
    /// Checkouts seen.
    pub checkouts: usize,
    /// Lines taken from stock by this batch.
    pub taken: usize,
    /// Lines an earlier delivery had taken.
    pub already_taken: usize,
    /// Checkouts with lines stock could not cover (each announced once per delivery).
    pub shortfalls: usize,
}

/// Why a batch must be delivered again.
#[derive(Debug, thiserror::Error)]
pub enum InventoryError {
    /// The stock ledger failed.
    #[error("the stock ledger is unavailable")]
    Store(#[from] StoreError),
    /// A shortfall could not be announced.
    #[error("a shortfall could not be announced")]
    Publish(#[from] PublishError),
}

/// The part of a cart snapshot the consumer reads.
#[derive(Deserialize)]
struct Snapshot {
    items: Vec<SnapshotLine>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct SnapshotLine {
    item_id: ItemId,
    quantity: u32,
}

/// Takes every checkout in `batch` from stock, record by record in offset order.
pub async fn handle(inventory: &Inventory, batch: KafkaEvent) -> Result<Report, InventoryError> {
    let records = edge::records::in_order(batch);
    let mut report = Report::default();
    for record in records {
        report.records += 1;
        let Some(event) = edge::records::cart_event(&record) else {
            report.undecodable += 1;
            continue;
        };
        if event.event_type != EventType::CartCheckedOut {
            continue;
        }
        let Ok(snapshot) = serde_json::from_str::<Snapshot>(event.snapshot.get()) else {
            report.undecodable += 1;
            tracing::error!(cart_id = %event.cart_id, "skipping a checkout whose snapshot has no lines");
            continue;
        };
        report.checkouts += 1;
        checkout(inventory, &event, &snapshot, &mut report).await?;
    }
    tracing::info!(?report, "batch reserved");
    Ok(report)
}

async fn checkout(
    inventory: &Inventory,
    event: &CartEvent,
    snapshot: &Snapshot,
    report: &mut Report,
) -> Result<(), InventoryError> {
    let lines: Vec<(ItemId, u32)> = snapshot
        .items
        .iter()
        .map(|l| (l.item_id.clone(), l.quantity))
        .collect();
    let reservation = reserve(inventory.ledger.as_ref(), event.cart_id, &lines).await?;
    report.taken += reservation.taken.len();
    report.already_taken += reservation.already_taken.len();
    if !reservation.shortages.is_empty() {
        report.shortfalls += 1;
        tracing::warn!(cart_id = %event.cart_id, shortages = ?reservation.shortages,
            "stock could not cover a checkout");
        let short = CartEvent::stock_short(event, reservation.shortages);
        inventory.events.publish(&short).await?;
    }
    Ok(())
}
