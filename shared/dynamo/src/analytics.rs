//! Analytics on DynamoDB, in one table keyed `pk` and `sk`: `funnel#<day>` / `-` and
//! `items#<day>` / `<item id>` hold counters, raised with `ADD`; `event#<id>#<chunk>` and
//! `shared#<cart id>` mark what was counted. A record is one transaction per chunk of at most
//! [`ITEMS_PER_CHUNK`] items (a checkout of 250 lines would pass DynamoDB's 100 writes in a
//! transaction), each chunk with its own mark: a chunk lands whole or not at all, and a
//! redelivered event adds only the chunks that did not land. Event marks expire after
//! [`EVENT_MARK_DAYS`], longer than any trigger retries a record.

use crate::attributes::{Item, n, s};
use crate::transactions::{CONFLICT_RETRIES, Cancelled, cancelled_by, wait_after_conflict};
use async_trait::async_trait;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::{Put, TransactWriteItem, Update};
use domain::analytics::{AnalyticsStore, Day, DayReport, FunnelCounts, ItemCounts, ItemDay, Tally};
use domain::ports::StoreError;
use domain::{CartId, ItemId};

/// Item counters per transaction, beside the event's mark, its funnel and its shared mark.
pub const ITEMS_PER_CHUNK: usize = 90;

/// How long an event's mark is kept (TTL on `expiresAt`).
pub const EVENT_MARK_DAYS: i64 = 8;

/// The analytics table.
#[derive(Clone, Debug)]
pub struct DynamoAnalytics {
    client: Client,
    table: String,
}

impl DynamoAnalytics {
    /// The analytics in `table` (see [`crate::tables::create_analytics_table`]).
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
        }
    }

    fn put_mark(&self, pk: String, expires: Option<i64>) -> Result<TransactWriteItem, StoreError> {
        let mut put = Put::builder()
            .table_name(&self.table)
            .item("pk", s(pk))
            .item("sk", s("-"))
            .condition_expression("attribute_not_exists(pk)");
        if let Some(expires) = expires {
            put = put.item("expiresAt", n(expires));
        }
        Ok(TransactWriteItem::builder()
            .put(put.build().map_err(StoreError::unavailable)?)
            .build())
    }

    fn add(
        &self,
        pk: String,
        sk: &str,
        counters: &[(&str, u64)],
    ) -> Result<Option<TransactWriteItem>, StoreError> {
        let counters: Vec<&(&str, u64)> = counters.iter().filter(|(_, by)| *by > 0).collect();
        if counters.is_empty() {
            return Ok(None);
        }
        let mut update = Update::builder()
            .table_name(&self.table)
            .key("pk", s(pk))
            .key("sk", s(sk));
        let mut expression = Vec::new();
        for (name, by) in counters {
            // Through names: `shared` is one of DynamoDB's reserved words ("Reserved words in
            // DynamoDB"), and no counter should become one unnoticed.
            expression.push(format!("#{name} :{name}"));
            update = update
                .expression_attribute_names(format!("#{name}"), *name)
                .expression_attribute_values(format!(":{name}"), n(by));
        }
        let update = update
            .update_expression(format!("ADD {}", expression.join(", ")))
            .build()
            .map_err(StoreError::unavailable)?;
        Ok(Some(TransactWriteItem::builder().update(update).build()))
    }

    /// One chunk's transaction: its mark, then (in the first chunk) the shared mark and the
    /// funnel, then its items' counters.
    fn chunk(
        &self,
        tally: &Tally,
        index: usize,
        items: &[(&ItemId, &ItemCounts)],
        shares: Option<CartId>,
    ) -> Result<Vec<TransactWriteItem>, StoreError> {
        let expires = chrono::Utc::now().timestamp() + EVENT_MARK_DAYS * 86_400;
        let mut writes =
            vec![self.put_mark(format!("event#{}#{index}", tally.event_id), Some(expires))?];
        if index == 0 {
            let mut funnel = tally.funnel;
            if let Some(cart) = shares {
                writes.push(self.put_mark(format!("shared#{cart}"), None)?);
                funnel.shared += 1;
            }
            writes.extend(self.add(
                format!("funnel#{}", tally.day),
                "-",
                &[
                    ("created", funnel.created),
                    ("shared", funnel.shared),
                    ("checkedOut", funnel.checked_out),
                ],
            )?);
        }
        for (item, counts) in items {
            writes.extend(self.add(
                format!("items#{}", tally.day),
                item.as_str(),
                &[
                    ("added", counts.added),
                    ("removed", counts.removed),
                    ("checkedOut", counts.checked_out),
                    ("short", counts.short),
                ],
            )?);
        }
        Ok(writes)
    }

    /// Writes one chunk; false when its mark says it landed before.
    async fn write_chunk(
        &self,
        tally: &Tally,
        index: usize,
        items: &[(&ItemId, &ItemCounts)],
    ) -> Result<bool, StoreError> {
        let mut shares = tally.shares.filter(|_| index == 0);
        let mut conflicts = 0;
        loop {
            let writes = self.chunk(tally, index, items, shares)?;
            let sent = self
                .client
                .transact_write_items()
                .set_transact_items(Some(writes))
                .send()
                .await;
            match cancelled_by(&sent) {
                None => return sent.map(|_| true).map_err(crate::unavailable),
                Some(Cancelled::Condition(0)) => return Ok(false),
                // The cart was counted as shared before: count the rest without it.
                Some(Cancelled::Condition(1)) if shares.is_some() => shares = None,
                // Another transaction on one of the same items at the same moment: another
                // event raising the same day's counters, or another delivery of this one (which,
                // once landed, leaves its mark for this one to find). Try again, after a
                // jittered, doubling wait.
                Some(Cancelled::Conflict) if conflicts < CONFLICT_RETRIES => {
                    conflicts += 1;
                    wait_after_conflict(conflicts).await;
                }
                Some(_) => return sent.map(|_| true).map_err(crate::unavailable),
            }
        }
    }
}

fn counter(item: &Item, name: &str) -> u64 {
    item.get(name)
        .and_then(|v| v.as_n().ok())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

#[async_trait]
impl AnalyticsStore for DynamoAnalytics {
    async fn record(&self, tally: &Tally) -> Result<bool, StoreError> {
        let items: Vec<(&ItemId, &ItemCounts)> = tally.items.iter().collect();
        let mut chunks: Vec<&[(&ItemId, &ItemCounts)]> = items.chunks(ITEMS_PER_CHUNK).collect();
        if chunks.is_empty() {
            chunks.push(&[]);
        }
        let mut counted = false;
        for (index, chunk) in chunks.into_iter().enumerate() {
            counted |= self.write_chunk(tally, index, chunk).await?;
        }
        Ok(counted)
    }

    async fn day(&self, day: Day) -> Result<DayReport, StoreError> {
        let funnel = self
            .client
            .get_item()
            .table_name(&self.table)
            .key("pk", s(format!("funnel#{day}")))
            .key("sk", s("-"))
            .send()
            .await
            .map_err(crate::unavailable)?;
        let funnel = funnel
            .item()
            .map_or_else(FunnelCounts::default, |item| FunnelCounts {
                created: counter(item, "created"),
                shared: counter(item, "shared"),
                checked_out: counter(item, "checkedOut"),
            });
        let mut items = Vec::new();
        let mut pages = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("pk = :day")
            .expression_attribute_values(":day", s(format!("items#{day}")))
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            for item in page.map_err(crate::unavailable)?.items() {
                let Some(item_id) = item
                    .get("sk")
                    .and_then(|v| v.as_s().ok())
                    .and_then(|raw| ItemId::parse(raw).ok())
                else {
                    continue;
                };
                items.push(ItemDay {
                    item_id,
                    counts: ItemCounts {
                        added: counter(item, "added"),
                        removed: counter(item, "removed"),
                        checked_out: counter(item, "checkedOut"),
                        short: counter(item, "short"),
                    },
                });
            }
        }
        Ok(DayReport { day, funnel, items })
    }
}
