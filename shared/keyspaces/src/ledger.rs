//! The stock ledger on Keyspaces: a take reads the item's stock and the checkouts that took from
//! it (`taken`), then writes both back in one lightweight transaction conditional on the stock it
//! read. A concurrent take or stock update changes the stock and so fails the condition; the
//! take reads again and retries.

use crate::applied::Lwt;
use crate::rows::uuid;
use crate::session::{Keyspace, Statement};
use crate::unavailable;
use async_trait::async_trait;
use domain::inventory::{StockLedger, Take};
use domain::ports::StoreError;
use domain::{CartId, ItemId};
use scylla::value::CqlTimestamp;
use std::collections::HashMap;

/// Attempts a take makes against concurrent writers of the same item before it gives up
/// (the consumer's batch is then retried).
const ATTEMPTS: u32 = 20;

/// How long a checkout's record stays on the item: longer than any redelivery can come, which
/// the topic's retention (7 days by default) bounds.
const KEEP_RECORDS_MS: i64 = 30 * 24 * 60 * 60 * 1000;

/// Stock taken checkout by checkout from a keyspace's `items` table.
#[derive(Clone, Debug)]
pub struct KeyspacesLedger {
    keyspace: Keyspace,
}

impl KeyspacesLedger {
    /// The ledger over `keyspace`'s items.
    pub fn new(keyspace: Keyspace) -> Self {
        Self { keyspace }
    }
}

#[async_trait]
impl StockLedger for KeyspacesLedger {
    async fn take(&self, cart: CartId, item: &ItemId, quantity: u32) -> Result<Take, StoreError> {
        let session = &self.keyspace.session;
        let checkout = uuid(cart);
        let wanted = i32::try_from(quantity).unwrap_or(i32::MAX);
        for _ in 0..ATTEMPTS {
            let rows = session
                .execute_unpaged(
                    self.keyspace.prepared(Statement::LoadTaken).await?,
                    (item.as_str(),),
                )
                .await
                .map_err(unavailable)?
                .into_rows_result()
                .map_err(unavailable)?;
            let Some((stock, taken)) = rows
                .maybe_first_row::<(Option<i32>, Option<HashMap<uuid::Uuid, CqlTimestamp>>)>()
                .map_err(unavailable)?
            else {
                return Ok(Take::UnknownItem);
            };
            let (stock, mut taken) = (stock.unwrap_or(0), taken.unwrap_or_default());
            if taken.contains_key(&checkout) {
                return Ok(Take::AlreadyTaken);
            }
            if stock < wanted {
                return Ok(Take::Short {
                    available: u32::try_from(stock).unwrap_or(0),
                });
            }
            let now = chrono::Utc::now().timestamp_millis();
            taken.retain(|_, at| now - at.0 < KEEP_RECORDS_MS);
            taken.insert(checkout, CqlTimestamp(now));
            let remaining = stock - wanted;
            let result = session
                .execute_unpaged(
                    self.keyspace.prepared(Statement::TakeStock).await?,
                    (remaining, taken, item.as_str(), stock),
                )
                .await
                .map_err(unavailable)?;
            if Lwt::read(result).map_err(unavailable)?.applied() {
                return Ok(Take::Taken {
                    remaining: u32::try_from(remaining).unwrap_or(0),
                });
            }
        }
        Err(unavailable(format!(
            "item {item} kept changing; gave up after {ATTEMPTS} attempts"
        )))
    }
}
