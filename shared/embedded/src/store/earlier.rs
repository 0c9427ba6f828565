//! Carts as this store wrote them before carts kept a checkout lock, invite links and names.
//!
//! postcard writes a struct's fields in order with nothing to name them, so a field added in
//! the middle makes every record written before it unreadable as the new type. A record that
//! does not read as today's cart, to its last byte, is read as the earlier one and given the
//! new fields empty: a store kept across an upgrade keeps its carts.

use domain::cart::{Line, Member, Status};
use domain::unpublished::Unpublished;
use domain::{Cart, CartId, Currency, UserId};
use serde::{Deserialize, Serialize};

/// The cart's fields before the lock, the invites and the names, in their order then.
#[derive(Serialize, Deserialize)]
pub(super) struct CartBeforeGroups {
    cart_id: CartId,
    owner_id: UserId,
    status: Status,
    version: u64,
    created_at: chrono::DateTime<chrono::Utc>,
    updated_at: chrono::DateTime<chrono::Utc>,
    currency: Currency,
    items: Vec<Line>,
    members: Vec<Member>,
    unpublished: Unpublished,
}

impl From<CartBeforeGroups> for Cart {
    fn from(earlier: CartBeforeGroups) -> Self {
        let mut cart = Cart::new(
            earlier.cart_id,
            earlier.owner_id,
            earlier.currency,
            earlier.created_at,
        );
        cart.status = earlier.status;
        cart.version = earlier.version;
        cart.updated_at = earlier.updated_at;
        cart.items = earlier.items;
        cart.members = earlier.members;
        cart.unpublished = earlier.unpublished;
        cart
    }
}

/// `body` read whole as `T`: trailing bytes mean it was written as something else.
fn whole<'a, T: Deserialize<'a>>(body: &'a [u8]) -> Result<T, postcard::Error> {
    match postcard::take_from_bytes(body)? {
        (value, []) => Ok(value),
        _ => Err(postcard::Error::DeserializeBadEncoding),
    }
}

/// The cart `body` holds, in today's layout or the earlier one.
pub(super) fn decode(body: &[u8]) -> Result<Cart, postcard::Error> {
    whole::<Cart>(body).or_else(|today| {
        whole::<CartBeforeGroups>(body)
            .map(Cart::from)
            .map_err(|_| today)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use domain::testing::user;

    #[test]
    fn a_cart_written_before_groups_reads_as_one_with_no_lock_invites_or_names() {
        let now = domain::service::now();
        let mut cart = Cart::new(CartId::new(), user("alice"), Currency::DEFAULT, now);
        cart.status = Status::CheckedOut;
        cart.version = 7;
        let earlier = CartBeforeGroups {
            cart_id: cart.cart_id,
            owner_id: cart.owner_id.clone(),
            status: cart.status,
            version: cart.version,
            created_at: cart.created_at,
            updated_at: cart.updated_at,
            currency: cart.currency,
            items: Vec::new(),
            members: cart.members.clone(),
            unpublished: Unpublished::default(),
        };
        let bytes = postcard::to_allocvec(&earlier).unwrap();
        assert_eq!(
            decode(&bytes).unwrap(),
            cart,
            "a checked-out cart stays checked out"
        );
        let today = postcard::to_allocvec(&cart).unwrap();
        assert_eq!(decode(&today).unwrap(), cart);
        assert!(decode(&today[..today.len() - 1]).is_err());
    }
}
