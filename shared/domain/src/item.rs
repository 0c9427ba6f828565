//! A catalog item as the Item service knows it: name, unit price and stock.

use crate::ids::ItemId;
use crate::money::{Currency, Money};
use serde::{Deserialize, Serialize};

/// One sellable item.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Item {
    /// Its id.
    pub item_id: ItemId,
    /// What people call it.
    pub name: String,
    /// Unit price in minor units of `currency`.
    pub price: i64,
    /// The currency of `price`.
    pub currency: Currency,
    /// Units available.
    pub stock: u32,
}

impl Item {
    /// The unit price as money.
    pub fn unit_price(&self) -> Money {
        Money::new(self.price, self.currency)
    }
}

/// The largest stock level an item may be given.
pub const MAX_STOCK: u32 = 1_000_000;

/// The longest item name a cart line keeps; longer catalog names are cut there, so a cart's
/// size (and so its push message) has a bound.
pub const MAX_NAME_LEN: usize = 100;

/// `name` cut to `MAX_NAME_LEN` characters.
pub fn line_name(name: &str) -> String {
    name.chars().take(MAX_NAME_LEN).collect()
}
