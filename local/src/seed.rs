//! The demo catalog a fresh local stack starts with.

use domain::ports::{Catalog, StoreError};
use domain::{Currency, Item, ItemId};

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

/// Puts the demo items into `catalog`.
pub async fn demo_catalog(catalog: &dyn Catalog) -> Result<usize, StoreError> {
    for (id, name, price, stock) in DEMO_ITEMS {
        let item_id = ItemId::parse(id).map_err(|e| StoreError::unavailable(e.to_string()))?;
        catalog
            .put(&Item {
                item_id,
                name: (*name).into(),
                price: *price,
                currency: Currency::DEFAULT,
                stock: *stock,
            })
            .await?;
    }
    Ok(DEMO_ITEMS.len())
}
