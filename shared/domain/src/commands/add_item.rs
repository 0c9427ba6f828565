//! addItemToCart: more of an item; commutative, so the service retries it on a version conflict.

use super::add_to_line;
use crate::access::require_editor;
use crate::cart::Cart;
use crate::error::CartError;
use crate::ids::UserId;
use crate::item::Item;
use crate::quantity::Quantity;
use chrono::{DateTime, Utc};

/// `cart` with `quantity` more of `item`, added by `actor`.
pub fn add_item(
    cart: &Cart,
    actor: &UserId,
    item: &Item,
    quantity: Quantity,
    now: DateTime<Utc>,
) -> Result<Cart, CartError> {
    require_editor(cart, actor)?;
    let mut next = cart.next_version(now);
    add_to_line(&mut next, actor, item, quantity)?;
    Ok(next)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cart::{MAX_LINES, Status};
    use crate::commands::fixtures::*;
    use crate::money::Currency;

    #[test]
    fn adding_an_item_already_present_adds_to_its_quantity() {
        let apple = item("apple", 100, 50);
        let once = add_item(
            &shared_cart(),
            &user("editor"),
            &apple,
            qty(2),
            chrono::Utc::now(),
        )
        .unwrap();
        let twice = add_item(&once, &user("owner"), &apple, qty(3), chrono::Utc::now()).unwrap();
        assert_eq!(twice.items.len(), 1);
        assert_eq!(twice.items[0].quantity.get(), 5);
        assert_eq!(
            twice.items[0].added_by,
            user("editor"),
            "the line remembers who first added it"
        );
        assert_eq!(twice.version, 3);
    }

    #[test]
    fn add_item_by_viewer_is_forbidden() {
        let err = add_item(
            &shared_cart(),
            &user("viewer"),
            &item("apple", 1, 9),
            qty(1),
            chrono::Utc::now(),
        );
        assert!(matches!(err, Err(CartError::ReadOnly)));
    }

    #[test]
    fn add_item_by_stranger_reads_as_not_found() {
        let err = add_item(
            &shared_cart(),
            &user("eve"),
            &item("apple", 1, 9),
            qty(1),
            chrono::Utc::now(),
        );
        assert!(matches!(err, Err(CartError::CartNotFound(_))));
    }

    #[test]
    fn add_item_to_checked_out_cart_is_refused() {
        let mut cart = shared_cart();
        cart.status = Status::CheckedOut;
        let err = add_item(
            &cart,
            &user("owner"),
            &item("apple", 1, 9),
            qty(1),
            chrono::Utc::now(),
        );
        assert!(matches!(err, Err(CartError::CheckedOut)));
    }

    #[test]
    fn add_more_than_stock_is_out_of_stock() {
        let err = add_item(
            &shared_cart(),
            &user("owner"),
            &item("apple", 1, 2),
            qty(3),
            chrono::Utc::now(),
        );
        assert!(
            matches!(err, Err(CartError::OutOfStock(s)) if s[0].available == 2 && s[0].requested == 3)
        );
    }

    #[test]
    fn a_line_stops_at_999() {
        let apple = item("apple", 1, 5000);
        let cart = add_item(
            &shared_cart(),
            &user("owner"),
            &apple,
            qty(999),
            chrono::Utc::now(),
        )
        .unwrap();
        let err = add_item(&cart, &user("owner"), &apple, qty(1), chrono::Utc::now());
        assert!(matches!(
            err,
            Err(CartError::LineQuantityLimit {
                requested: 1000,
                ..
            })
        ));
    }

    #[test]
    fn a_cart_stops_at_250_lines() {
        let mut cart = shared_cart();
        for i in 0..MAX_LINES {
            cart = add_item(
                &cart,
                &user("owner"),
                &item(&format!("i{i}"), 1, 9),
                qty(1),
                chrono::Utc::now(),
            )
            .unwrap();
        }
        let err = add_item(
            &cart,
            &user("owner"),
            &item("one-more", 1, 9),
            qty(1),
            chrono::Utc::now(),
        );
        assert!(matches!(err, Err(CartError::TooManyLines)));
        assert!(err.unwrap_err().to_string().contains("250"));
    }

    #[test]
    fn an_item_in_another_currency_is_refused() {
        let mut usd = item("apple", 1, 9);
        usd.currency = Currency::parse("USD").unwrap();
        let err = add_item(
            &shared_cart(),
            &user("owner"),
            &usd,
            qty(1),
            chrono::Utc::now(),
        );
        assert!(matches!(err, Err(CartError::CurrencyMismatch { .. })));
    }
}
