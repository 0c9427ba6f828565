//! createCart: a new cart owned by the caller, optionally with initial lines.

use super::add_to_line;
use crate::cart::Cart;
use crate::error::CartError;
use crate::ids::{CartId, UserId};
use crate::item::Item;
use crate::money::Currency;
use crate::quantity::Quantity;
use chrono::{DateTime, Utc};

/// A new cart at version 1 holding `initial` (repeated items add up, as repeated adds would).
pub fn create(
    cart_id: CartId,
    owner: &UserId,
    currency: Currency,
    initial: &[(Item, Quantity)],
    now: DateTime<Utc>,
) -> Result<Cart, CartError> {
    let mut cart = Cart::new(cart_id, owner.clone(), currency, now);
    for (item, quantity) in initial {
        add_to_line(&mut cart, owner, item, *quantity)?;
    }
    Ok(cart)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cart::{Role, Status};
    use crate::commands::fixtures::*;

    #[test]
    fn the_creator_owns_a_new_active_cart_at_version_one() {
        let cart = create(
            CartId::new(),
            &user("alice"),
            Currency::DEFAULT,
            &[],
            chrono::Utc::now(),
        )
        .unwrap();
        assert_eq!(cart.version, 1);
        assert_eq!(cart.status, Status::Active);
        assert_eq!(cart.role_of(&user("alice")), Some(Role::Owner));
    }

    #[test]
    fn initial_lines_of_the_same_item_add_up() {
        let apple = item("apple", 100, 10);
        let initial = [(apple.clone(), qty(2)), (apple, qty(3))];
        let cart = create(
            CartId::new(),
            &user("alice"),
            Currency::DEFAULT,
            &initial,
            chrono::Utc::now(),
        )
        .unwrap();
        assert_eq!(cart.items.len(), 1);
        assert_eq!(cart.items[0].quantity.get(), 5);
        assert_eq!(cart.total(), 500);
    }
}
