//! removeItemFromCart: drop a whole line; retried on a version conflict like an add.

use crate::access::require_editor;
use crate::cart::Cart;
use crate::error::CartError;
use crate::ids::{ItemId, UserId};
use chrono::{DateTime, Utc};

/// `cart` without its line for `item`.
pub fn remove_item(
    cart: &Cart,
    actor: &UserId,
    item: &ItemId,
    now: DateTime<Utc>,
) -> Result<Cart, CartError> {
    require_editor(cart, actor)?;
    let index = cart
        .items
        .iter()
        .position(|l| &l.item_id == item)
        .ok_or_else(|| CartError::LineNotFound(item.clone()))?;
    let mut next = cart.next_version(now);
    next.items.remove(index);
    Ok(next)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::commands::add_item;
    use crate::commands::fixtures::*;

    #[test]
    fn removing_a_line_drops_it_and_bumps_the_version() {
        let apple = item("apple", 100, 10);
        let cart = add_item(
            &shared_cart(),
            &user("owner"),
            &apple,
            qty(1),
            chrono::Utc::now(),
        )
        .unwrap();
        let next = remove_item(&cart, &user("editor"), &apple.item_id, chrono::Utc::now()).unwrap();
        assert!(next.items.is_empty());
        assert_eq!(next.version, cart.version + 1);
    }

    #[test]
    fn removing_an_absent_line_is_line_not_found() {
        let err = remove_item(
            &shared_cart(),
            &user("owner"),
            &ItemId::parse("nope").unwrap(),
            chrono::Utc::now(),
        );
        assert!(matches!(err, Err(CartError::LineNotFound(_))));
    }

    #[test]
    fn remove_item_by_viewer_is_forbidden() {
        let err = remove_item(
            &shared_cart(),
            &user("viewer"),
            &ItemId::parse("x").unwrap(),
            chrono::Utc::now(),
        );
        assert!(matches!(err, Err(CartError::ReadOnly)));
    }
}
