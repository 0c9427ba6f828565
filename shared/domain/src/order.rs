//! The order request a checkout hands to the order service: what was bought, at which prices,
//! by whom. Its id is the cart's, so a request handed over twice (a retried checkout) is one
//! order to a consumer that deduplicates by `orderId`.

use crate::cart::Cart;
use crate::ids::{CartId, ItemId, UserId};
use crate::money::Currency;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// One line of an order, priced as the cart held it at checkout.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OrderLine {
    /// The catalog item.
    pub item_id: ItemId,
    /// Its name at checkout.
    pub name: String,
    /// How many.
    pub quantity: u32,
    /// Unit price in minor units.
    pub unit_price: i64,
    /// `quantity` x `unit_price`.
    pub line_total: i64,
}

/// A checked-out cart, as the order service receives it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OrderRequest {
    /// The order's id: the cart's id, since a cart is checked out once.
    pub order_id: CartId,
    /// The cart.
    pub cart_id: CartId,
    /// The cart's version when checked out.
    pub cart_version: u64,
    /// The member who checked out.
    pub buyer: UserId,
    /// The currency of every amount.
    pub currency: Currency,
    /// What was bought.
    pub lines: Vec<OrderLine>,
    /// The sum of the lines.
    pub total: i64,
    /// When the cart was checked out.
    pub checked_out_at: DateTime<Utc>,
}

impl OrderRequest {
    /// The order for `cart`, checked out by `buyer`.
    pub fn for_cart(cart: &Cart, buyer: &UserId) -> Self {
        Self {
            order_id: cart.cart_id,
            cart_id: cart.cart_id,
            cart_version: cart.version,
            buyer: buyer.clone(),
            currency: cart.currency,
            lines: cart
                .items
                .iter()
                .map(|l| OrderLine {
                    item_id: l.item_id.clone(),
                    name: l.name.clone(),
                    quantity: l.quantity.get(),
                    unit_price: l.unit_price,
                    line_total: l.unit_price.saturating_mul(i64::from(l.quantity.get())),
                })
                .collect(),
            total: cart.total(),
            checked_out_at: cart.updated_at,
        }
    }
}
