//! checkoutCart: validate every line against the catalog's stock and price, then close the cart.
//! An unlocked cart is checked out directly; a locked one only by whoever locked it or the
//! owner.

use crate::access::require_buyer;
use crate::cart::{Cart, Status};
use crate::error::{CartError, PriceChange, Shortage};
use crate::ids::{ItemId, UserId};
use crate::item::Item;
use chrono::{DateTime, Utc};
use std::collections::HashMap;

/// What a checkout attempt leads to.
#[derive(Debug)]
pub enum CheckoutOutcome {
    /// Every line is in stock at the price it shows: the cart is checked out.
    CheckedOut(Cart),
    /// Some prices moved: the cart holds the catalog's prices now and stays open (active, or
    /// still locked), so its members see the new total before anyone checks out again.
    Repriced(Cart, Vec<PriceChange>),
}

/// Checks `cart` out against `items`, the catalog's current entries for its lines.
pub fn checkout(
    cart: &Cart,
    actor: &UserId,
    items: &HashMap<ItemId, Item>,
    now: DateTime<Utc>,
) -> Result<CheckoutOutcome, CartError> {
    require_buyer(cart, actor)?;
    if cart.items.is_empty() {
        return Err(CartError::EmptyCart);
    }
    let mut shortages = Vec::new();
    let mut price_changes = Vec::new();
    for line in &cart.items {
        let item = items
            .get(&line.item_id)
            .ok_or_else(|| CartError::UnknownItem(line.item_id.clone()))?;
        if line.quantity.get() > item.stock {
            shortages.push(Shortage {
                item_id: line.item_id.clone(),
                requested: line.quantity.get(),
                available: item.stock,
            });
        }
        if line.unit_price != item.price {
            price_changes.push(PriceChange {
                item_id: line.item_id.clone(),
                was: line.unit_price,
                now: item.price,
            });
        }
    }
    if !shortages.is_empty() {
        return Err(CartError::OutOfStock(shortages));
    }
    let mut next = cart.next_version(now);
    if price_changes.is_empty() {
        next.status = Status::CheckedOut;
        next.lock = None;
        return Ok(CheckoutOutcome::CheckedOut(next));
    }
    for line in &mut next.items {
        if let Some(change) = price_changes.iter().find(|c| c.item_id == line.item_id) {
            line.unit_price = change.now;
        }
    }
    Ok(CheckoutOutcome::Repriced(next, price_changes))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::commands::add_item;
    use crate::commands::fixtures::*;

    fn cart_with(item: &Item, n: u32) -> Cart {
        add_item(
            &shared_cart(),
            &user("owner"),
            item,
            qty(n),
            chrono::Utc::now(),
        )
        .unwrap()
    }

    fn catalog(item: Item) -> HashMap<ItemId, Item> {
        HashMap::from([(item.item_id.clone(), item)])
    }

    #[test]
    fn checkout_closes_the_cart_when_stock_and_prices_hold() {
        let apple = item("apple", 100, 10);
        let cart = cart_with(&apple, 3);
        let outcome =
            checkout(&cart, &user("editor"), &catalog(apple), chrono::Utc::now()).unwrap();
        assert!(
            matches!(outcome, CheckoutOutcome::CheckedOut(c) if c.status == Status::CheckedOut && c.version == cart.version + 1)
        );
    }

    #[test]
    fn checkout_with_too_little_stock_lists_the_shortages() {
        let apple = item("apple", 100, 10);
        let cart = cart_with(&apple, 5);
        let err = checkout(
            &cart,
            &user("owner"),
            &catalog(item("apple", 100, 4)),
            chrono::Utc::now(),
        );
        assert!(
            matches!(err, Err(CartError::OutOfStock(s)) if s.len() == 1 && s[0].available == 4)
        );
    }

    #[test]
    fn checkout_after_a_price_change_reprices_and_stays_active() {
        let apple = item("apple", 100, 10);
        let cart = cart_with(&apple, 2);
        let outcome = checkout(
            &cart,
            &user("owner"),
            &catalog(item("apple", 120, 10)),
            chrono::Utc::now(),
        )
        .unwrap();
        let CheckoutOutcome::Repriced(next, changes) = outcome else {
            panic!("expected a repricing")
        };
        assert_eq!(next.status, Status::Active);
        assert_eq!(next.total(), 240);
        assert_eq!(changes[0].was, 100);
    }

    #[test]
    fn an_empty_cart_cannot_be_checked_out() {
        let err = checkout(
            &shared_cart(),
            &user("owner"),
            &HashMap::new(),
            chrono::Utc::now(),
        );
        assert!(matches!(err, Err(CartError::EmptyCart)));
    }

    #[test]
    fn checkout_by_viewer_is_forbidden() {
        let apple = item("apple", 100, 10);
        let err = checkout(
            &cart_with(&apple, 1),
            &user("viewer"),
            &catalog(apple),
            chrono::Utc::now(),
        );
        assert!(matches!(err, Err(CartError::ReadOnly)));
    }
}
