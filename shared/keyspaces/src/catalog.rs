//! The Item service's catalog on Keyspaces: one `items` row per item.
//!
//! CQL cannot range over partition keys in their own order, so a catalog page reads the whole
//! table and cuts the page from it in id order. That is right for a catalog of thousands of
//! items; a larger one wants the items clustered under a few partitions instead.

use crate::applied::Lwt;
use crate::session::{Keyspace, Statement};
use crate::unavailable;
use async_trait::async_trait;
use domain::ports::{Catalog, StoreError};
use domain::{Currency, Item, ItemId};
use futures_util::{StreamExt, future};
use scylla::DeserializeRow;
use std::collections::HashMap;

/// An `items` row as read.
#[derive(DeserializeRow)]
struct ItemRow {
    item_id: String,
    name: String,
    price: i64,
    currency: String,
    stock: i32,
}

impl TryFrom<ItemRow> for Item {
    type Error = StoreError;

    fn try_from(row: ItemRow) -> Result<Self, StoreError> {
        let bad =
            |column: &str| unavailable(format!("item {:?} has an invalid {column}", row.item_id));
        Ok(Item {
            item_id: ItemId::parse(&row.item_id).map_err(|_| bad("item_id"))?,
            currency: Currency::parse(&row.currency).map_err(|_| bad("currency"))?,
            stock: u32::try_from(row.stock).map_err(|_| bad("stock"))?,
            name: row.name,
            price: row.price,
        })
    }
}

/// The catalog in a keyspace's `items` table.
#[derive(Clone, Debug)]
pub struct KeyspacesCatalog {
    keyspace: Keyspace,
}

impl KeyspacesCatalog {
    /// The catalog in `keyspace`.
    pub fn new(keyspace: Keyspace) -> Self {
        Self { keyspace }
    }
}

/// A stock level as the `int` column holds it; stock never exceeds `MAX_STOCK`.
fn stock(units: u32) -> i32 {
    i32::try_from(units).unwrap_or(i32::MAX)
}

#[async_trait]
impl Catalog for KeyspacesCatalog {
    async fn item(&self, id: &ItemId) -> Result<Option<Item>, StoreError> {
        let result = self
            .keyspace
            .session
            .execute_unpaged(
                self.keyspace.prepared(Statement::LoadItem).await?,
                (id.as_str(),),
            )
            .await
            .map_err(unavailable)?;
        let rows = result.into_rows_result().map_err(unavailable)?;
        let row = rows.maybe_first_row::<ItemRow>().map_err(unavailable)?;
        row.map(Item::try_from).transpose()
    }

    async fn items(&self, ids: &[ItemId]) -> Result<HashMap<ItemId, Item>, StoreError> {
        // One partition each, so read them side by side rather than one after another.
        let reads = future::join_all(ids.iter().map(|id| self.item(id))).await;
        let mut found = HashMap::with_capacity(ids.len());
        for item in reads {
            if let Some(item) = item? {
                found.insert(item.item_id.clone(), item);
            }
        }
        Ok(found)
    }

    async fn list(&self, after: Option<&ItemId>, limit: usize) -> Result<Vec<Item>, StoreError> {
        let pager = self
            .keyspace
            .session
            .execute_iter(
                self.keyspace.prepared(Statement::AllItems).await?.clone(),
                (),
            )
            .await
            .map_err(unavailable)?;
        let mut rows = pager.rows_stream::<ItemRow>().map_err(unavailable)?;
        let mut items = Vec::new();
        while let Some(row) = rows.next().await {
            let item = Item::try_from(row.map_err(unavailable)?)?;
            if after.is_none_or(|after| &item.item_id > after) {
                items.push(item);
            }
        }
        items.sort_by(|a, b| a.item_id.cmp(&b.item_id));
        items.truncate(limit);
        Ok(items)
    }

    async fn set_stock(&self, id: &ItemId, units: u32) -> Result<Option<Item>, StoreError> {
        let Some(mut item) = self.item(id).await? else {
            return Ok(None);
        };
        // `IF EXISTS`: an item deleted since the read is not brought back as a bare stock level.
        let result = self
            .keyspace
            .session
            .execute_unpaged(
                self.keyspace.prepared(Statement::SetStock).await?,
                (stock(units), id.as_str()),
            )
            .await
            .map_err(unavailable)?;
        if !Lwt::read(result).map_err(unavailable)?.applied() {
            return Ok(None);
        }
        item.stock = units;
        Ok(Some(item))
    }

    async fn put(&self, item: &Item) -> Result<(), StoreError> {
        self.keyspace
            .session
            .execute_unpaged(
                self.keyspace.prepared(Statement::PutItem).await?,
                (
                    item.item_id.as_str(),
                    item.name.as_str(),
                    item.price,
                    item.currency.as_str(),
                    stock(item.stock),
                ),
            )
            .await
            .map(|_| ())
            .map_err(unavailable)
    }
}
