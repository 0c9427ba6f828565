//! One pure function per command: the cart before, the caller and the inputs in; the cart after
//! (one version on) or the reason it may not change out. Loading, saving, retrying and publishing
//! are the service's job (`crate::service`).

mod add_item;
mod checkout;
mod create;
mod invite;
mod lock;
mod modify;
mod remove_item;
mod share;
mod unshare;

pub use add_item::add_item;
pub use checkout::{CheckoutOutcome, checkout};
pub use create::create;
pub use invite::{accept_invite, create_invite, revoke_invite, usable_invite};
pub use lock::{MAX_LOCK, lock, set_who_may_lock, unlock};
pub use modify::{LineChange, modify};
pub use remove_item::remove_item;
pub use share::share;
pub use unshare::unshare;

use crate::cart::{Cart, Line, MAX_LINES};
use crate::error::{CartError, Shortage};
use crate::ids::UserId;
use crate::item::Item;
use crate::quantity::Quantity;

/// Adds `quantity` of `item` to `cart` in place: a new line, or more on the existing one.
///
/// Checks the currency, the per-line and per-cart limits, and that the catalog has the stock.
fn add_to_line(
    cart: &mut Cart,
    actor: &UserId,
    item: &Item,
    quantity: Quantity,
) -> Result<(), CartError> {
    require_same_currency(cart, item)?;
    let index = cart.items.iter().position(|l| l.item_id == item.item_id);
    let wanted = match index {
        Some(i) => cart.items[i]
            .quantity
            .checked_add(quantity)
            .ok_or_else(|| CartError::LineQuantityLimit {
                item: item.item_id.clone(),
                requested: cart.items[i].quantity.get() + quantity.get(),
            })?,
        None => quantity,
    };
    require_stock(item, wanted)?;
    match index {
        Some(i) => cart.items[i].quantity = wanted,
        None => {
            if cart.items.len() >= MAX_LINES {
                return Err(CartError::TooManyLines);
            }
            cart.items.push(Line {
                item_id: item.item_id.clone(),
                name: crate::item::line_name(&item.name),
                quantity: wanted,
                unit_price: item.price,
                added_by: actor.clone(),
            });
        }
    }
    Ok(())
}

fn require_same_currency(cart: &Cart, item: &Item) -> Result<(), CartError> {
    if item.currency == cart.currency {
        Ok(())
    } else {
        Err(CartError::CurrencyMismatch {
            item: item.item_id.clone(),
            item_currency: item.currency,
            cart_currency: cart.currency,
        })
    }
}

fn require_stock(item: &Item, wanted: Quantity) -> Result<(), CartError> {
    if wanted.get() <= item.stock {
        Ok(())
    } else {
        Err(CartError::OutOfStock(vec![Shortage {
            item_id: item.item_id.clone(),
            requested: wanted.get(),
            available: item.stock,
        }]))
    }
}

#[cfg(test)]
pub(crate) mod fixtures {
    //! Carts, users and items for the command tests.
    use crate::cart::{Cart, Member, Role};
    use crate::ids::{CartId, ItemId, UserId};
    use crate::item::Item;
    use crate::money::Currency;
    use crate::quantity::Quantity;

    pub fn user(id: &str) -> UserId {
        UserId::parse(id).unwrap()
    }

    pub fn qty(n: u32) -> Quantity {
        Quantity::try_from(n).unwrap()
    }

    pub fn item(id: &str, price: i64, stock: u32) -> Item {
        Item {
            item_id: ItemId::parse(id).unwrap(),
            name: format!("Item {id}"),
            price,
            currency: Currency::DEFAULT,
            stock,
        }
    }

    /// A cart owned by `owner`, with `editor` and `viewer` as members.
    pub fn shared_cart() -> Cart {
        let mut cart = Cart::new(
            CartId::new(),
            user("owner"),
            Currency::DEFAULT,
            chrono::Utc::now(),
        );
        cart.members.push(Member {
            user_id: user("editor"),
            role: Role::Editor,
        });
        cart.members.push(Member {
            user_id: user("viewer"),
            role: Role::Viewer,
        });
        cart
    }
}
