//! Analytics on the embedded store, in one table of prefixed keys: `event/<id>` and
//! `shared/<cart id>` mark what was counted, `funnel/<day>` and `item/<day>/<item id>` hold the
//! counts as JSON. A record is one write of the writer thread, so marking the event and adding
//! its counts commit together. Unlike DynamoDB's, these marks never expire: a development
//! store is small, and keeping them only makes a very late replay count once too.

use crate::store::{ANALYTICS, EmbeddedStore};
use crate::writer::Write;
use async_trait::async_trait;
use domain::ItemId;
use domain::analytics::{AnalyticsStore, Day, DayReport, FunnelCounts, ItemCounts, ItemDay, Tally};
use domain::ports::StoreError;
use redb::{ReadableTable, Table};
use serde::Serialize;
use serde::de::DeserializeOwned;

fn decode<T: DeserializeOwned + Default>(bytes: Option<&[u8]>) -> T {
    bytes
        .and_then(|b| serde_json::from_slice(b).ok())
        .unwrap_or_default()
}

fn encode(counts: &impl Serialize) -> Vec<u8> {
    // Our own plain types always serialize.
    serde_json::to_vec(counts).unwrap_or_default()
}

/// Adds `tally` unless its event is marked counted; true when it counted. Runs inside the
/// writer's transaction.
pub(crate) fn record_in(
    table: &mut Table<&str, &[u8]>,
    tally: &Tally,
) -> Result<bool, redb::StorageError> {
    let event = format!("event/{}", tally.event_id);
    if table.get(event.as_str())?.is_some() {
        return Ok(false);
    }
    table.insert(event.as_str(), [].as_slice())?;
    let mut funnel = tally.funnel;
    if let Some(cart) = tally.shares {
        let shared = format!("shared/{cart}");
        if table.get(shared.as_str())?.is_none() {
            table.insert(shared.as_str(), [].as_slice())?;
            funnel.shared += 1;
        }
    }
    let key = format!("funnel/{}", tally.day);
    let kept: FunnelCounts = decode(table.get(key.as_str())?.as_ref().map(|v| v.value()));
    table.insert(key.as_str(), encode(&kept.plus(funnel)).as_slice())?;
    for (item, counts) in &tally.items {
        let key = format!("item/{}/{item}", tally.day);
        let kept: ItemCounts = decode(table.get(key.as_str())?.as_ref().map(|v| v.value()));
        table.insert(key.as_str(), encode(&kept.plus(*counts)).as_slice())?;
    }
    Ok(true)
}

#[async_trait]
impl AnalyticsStore for EmbeddedStore {
    async fn record(&self, tally: &Tally) -> Result<bool, StoreError> {
        let tally = tally.clone();
        self.write(|reply| Write::RecordAnalytics { tally, reply })
            .await
    }

    async fn day(&self, day: Day) -> Result<DayReport, StoreError> {
        self.read(|txn| {
            let table = txn.open_table(ANALYTICS)?;
            let funnel_key = format!("funnel/{day}");
            let funnel = decode(table.get(funnel_key.as_str())?.as_ref().map(|v| v.value()));
            let prefix = format!("item/{day}/");
            let mut items = Vec::new();
            for entry in table.range(prefix.as_str()..)? {
                let (key, value) = entry?;
                let Some(item) = key.value().strip_prefix(prefix.as_str()) else {
                    break;
                };
                if let Ok(item_id) = ItemId::parse(item) {
                    items.push(ItemDay {
                        item_id,
                        counts: decode(Some(value.value())),
                    });
                }
            }
            Ok(DayReport { day, funnel, items })
        })
    }
}
