//! The demo catalog: what a fresh local stack starts with, and what a first deploy seeds (the
//! template's `DemoCatalog` parameter), so the README's walk-through works on both.

use crate::ports::{Catalog, StoreError};
use crate::{Currency, Item, ItemId};

/// (id, name, price in cents, stock)
const DEMO_ITEMS: &[(&str, &str, i64, u32)] = &[
    ("apple", "Apple", 45, 500),
    ("banana", "Banana", 30, 400),
    ("bread", "Sourdough bread", 420, 40),
    ("butter", "Butter 250 g", 289, 60),
    ("cheese", "Aged gouda 200 g", 549, 30),
    ("coffee", "Coffee beans 500 g", 1299, 25),
    ("eggs", "Free-range eggs (6)", 329, 80),
    ("milk", "Whole milk 1 l", 119, 120),
    ("olive-oil", "Olive oil 500 ml", 899, 20),
    ("pasta", "Spaghetti 500 g", 149, 150),
    ("tomatoes", "Cherry tomatoes 250 g", 259, 70),
    ("truffle", "Black truffle 30 g", 4900, 2),
];

/// The demo items.
pub fn items() -> Vec<Item> {
    DEMO_ITEMS
        .iter()
        .filter_map(|(id, name, price, stock)| {
            Some(Item {
                item_id: ItemId::parse(id).ok()?,
                name: (*name).into(),
                price: *price,
                currency: Currency::DEFAULT,
                stock: *stock,
            })
        })
        .collect()
}

/// Puts every demo item into `catalog`, replacing what is there.
pub async fn put_all(catalog: &dyn Catalog) -> Result<usize, StoreError> {
    let items = items();
    for item in &items {
        catalog.put(item).await?;
    }
    Ok(items.len())
}

/// Puts the demo items `catalog` does not have yet, leaving the others (their stock included)
/// as they are; how many it added. It reads, then writes: a stock update to a demo item landing
/// between the two would be overwritten. It runs while a stack deploys, before anyone can
/// update stock, so the port has no insert-if-absent for it.
pub async fn add_missing(catalog: &dyn Catalog) -> Result<usize, StoreError> {
    let items = items();
    let ids: Vec<ItemId> = items.iter().map(|i| i.item_id.clone()).collect();
    let present = catalog.items(&ids).await?;
    let mut added = 0;
    for item in items.iter().filter(|i| !present.contains_key(&i.item_id)) {
        catalog.put(item).await?;
        added += 1;
    }
    Ok(added)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::memory::MemoryCatalog;

    #[test]
    fn every_demo_item_is_valid() {
        assert_eq!(items().len(), DEMO_ITEMS.len());
    }

    #[tokio::test]
    async fn adding_the_missing_items_keeps_what_a_catalog_has() {
        let catalog = MemoryCatalog::default();
        let mut apple = items()[0].clone();
        apple.stock = 3;
        catalog.put(&apple).await.unwrap_or_else(|e| panic!("{e}"));
        let added = add_missing(&catalog)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(added, DEMO_ITEMS.len() - 1);
        let kept = catalog.item(&apple.item_id).await.ok().flatten();
        assert_eq!(kept.map(|i| i.stock), Some(3));
        assert_eq!(
            add_missing(&catalog).await.ok(),
            Some(0),
            "a second run adds nothing"
        );
    }
}
