//! Stock reservations: once a cart is checked out, each line's quantity leaves stock exactly
//! once, however often the `CartCheckedOut` event is delivered, and never below zero. What
//! cannot be taken is a shortage the cart's members hear about.

use crate::error::Shortage;
use crate::ids::{CartId, ItemId};
use crate::ports::StoreError;
use async_trait::async_trait;

/// What taking one line's quantity did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Take {
    /// Taken now; this much is left.
    Taken {
        /// Stock after the take.
        remaining: u32,
    },
    /// Taken by an earlier delivery of the same checkout; nothing changed.
    AlreadyTaken,
    /// Stock holds less than the line asks for; nothing changed.
    Short {
        /// Stock now.
        available: u32,
    },
    /// The catalog no longer has the item; nothing changed.
    UnknownItem,
}

/// The catalog's stock, taken checkout by checkout.
#[async_trait]
pub trait StockLedger: Send + Sync {
    /// Takes `quantity` of `item` for the checkout of `cart`, together with a record that it
    /// did (in one atomic write), so a second call for the same cart and item takes nothing.
    async fn take(&self, cart: CartId, item: &ItemId, quantity: u32) -> Result<Take, StoreError>;
}

/// What reserving a checkout's lines came to.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Reservation {
    /// Lines taken by this call.
    pub taken: Vec<ItemId>,
    /// Lines an earlier delivery had taken.
    pub already_taken: Vec<ItemId>,
    /// Lines stock could not cover (an unknown item has 0 available).
    pub shortages: Vec<Shortage>,
}

/// Takes every line of `cart`'s checkout from stock, line by line: a shortage on one line
/// leaves the others taken. Calling it again for the same checkout takes nothing more.
pub async fn reserve(
    ledger: &dyn StockLedger,
    cart: CartId,
    lines: &[(ItemId, u32)],
) -> Result<Reservation, StoreError> {
    let mut reservation = Reservation::default();
    for (item, quantity) in lines {
        match ledger.take(cart, item, *quantity).await? {
            Take::Taken { .. } => reservation.taken.push(item.clone()),
            Take::AlreadyTaken => reservation.already_taken.push(item.clone()),
            Take::Short { available } => reservation.shortages.push(Shortage {
                item_id: item.clone(),
                requested: *quantity,
                available,
            }),
            Take::UnknownItem => reservation.shortages.push(Shortage {
                item_id: item.clone(),
                requested: *quantity,
                available: 0,
            }),
        }
    }
    Ok(reservation)
}
