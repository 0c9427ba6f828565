//! The Item service's operations: catalog pages, one item, stock updates.

use crate::ValidationError;
use crate::error::CartError;
use crate::ids::ItemId;
use crate::item::{Item, MAX_STOCK};
use crate::ports::Catalog;
use std::sync::Arc;

/// The catalog operations behind listItems, getItemDetails and updateItemStock.
#[derive(Clone)]
pub struct ItemService {
    catalog: Arc<dyn Catalog>,
}

/// The largest page of items one call returns.
pub const MAX_PAGE: usize = 100;

impl ItemService {
    /// A service over `catalog`.
    pub fn new(catalog: Arc<dyn Catalog>) -> Self {
        Self { catalog }
    }

    /// Up to `limit` items after `after`, and the token of the next page if there may be one.
    pub async fn page(
        &self,
        after: Option<&ItemId>,
        limit: usize,
    ) -> Result<(Vec<Item>, Option<ItemId>), CartError> {
        let limit = limit.clamp(1, MAX_PAGE);
        let items = self.catalog.list(after, limit).await?;
        let next = (items.len() == limit)
            .then(|| items.last().map(|i| i.item_id.clone()))
            .flatten();
        Ok((items, next))
    }

    /// One item.
    pub async fn item(&self, id: &ItemId) -> Result<Item, CartError> {
        self.catalog
            .item(id)
            .await?
            .ok_or_else(|| CartError::UnknownItem(id.clone()))
    }

    /// Sets an item's stock to `stock` (0..=1,000,000).
    pub async fn set_stock(&self, id: &ItemId, stock: i64) -> Result<Item, CartError> {
        let stock = u32::try_from(stock)
            .ok()
            .filter(|s| *s <= MAX_STOCK)
            .ok_or_else(|| {
                ValidationError::new("stock", format!("must be between 0 and {MAX_STOCK}"))
            })?;
        self.catalog
            .set_stock(id, stock)
            .await?
            .ok_or_else(|| CartError::UnknownItem(id.clone()))
    }
}
