//! lockCart and unlockCart: the owner (or an editor, when the owner's setting lets editors lock)
//! holds the cart's lines still while the group pays, and lets go (or checks out, or lets the
//! lock lapse). updateCartSettings: the owner says who may lock.

use crate::access::{require_active, require_member};
use crate::cart::{Cart, CheckoutLock, Role, Status, WhoMayLock};
use crate::error::CartError;
use crate::ids::UserId;
use chrono::{DateTime, Duration, Utc};

/// The longest a lock may be set to last: a group's checkout, not a reservation.
pub const MAX_LOCK: Duration = Duration::hours(24);

/// `cart` locked for checkout by `actor` until `now + lasting`. Locking again extends the
/// lock; the owner locks, editors too when the cart's setting says so (never viewers), and only
/// a cart with lines to buy.
pub fn lock(
    cart: &Cart,
    actor: &UserId,
    lasting: Duration,
    now: DateTime<Utc>,
) -> Result<Cart, CartError> {
    let role = require_member(cart, actor)?;
    if !cart.who_may_lock.allows(role) {
        // Under the owner-only setting the refusal says whose it is; under the editors' a
        // viewer is refused for what a viewer is.
        return Err(match cart.who_may_lock {
            WhoMayLock::Editors => CartError::ReadOnly,
            WhoMayLock::Owner => CartError::OwnerOnly("lock it for checkout"),
        });
    }
    require_active(cart)?;
    if cart.items.is_empty() {
        return Err(CartError::EmptyCart);
    }
    let mut next = cart.next_version(now);
    next.status = Status::Locked;
    next.lock = Some(CheckoutLock {
        locked_by: actor.clone(),
        locked_at: next.updated_at,
        expires_at: next.updated_at + lasting.min(MAX_LOCK),
    });
    Ok(next)
}

/// `cart` unlocked by the owner or the member who locked it.
pub fn unlock(cart: &Cart, actor: &UserId, now: DateTime<Utc>) -> Result<Cart, CartError> {
    let role = require_member(cart, actor)?;
    require_active(cart)?;
    let Some(lock) = cart.lock_at(now) else {
        return Err(CartError::NotLocked);
    };
    if role != Role::Owner && &lock.locked_by != actor {
        return Err(CartError::OwnerOnly("unlock it"));
    }
    let mut next = cart.next_version(now);
    next.status = Status::Active;
    next.lock = None;
    Ok(next)
}

/// `cart` with `who` allowed to lock it from now on; the owner's to set, on a cart not checked
/// out. `None` when the setting already says so: nothing changes.
pub fn set_who_may_lock(
    cart: &Cart,
    actor: &UserId,
    who: WhoMayLock,
    now: DateTime<Utc>,
) -> Result<Option<Cart>, CartError> {
    crate::access::require_owner(cart, actor, "change its settings")?;
    if cart.who_may_lock == who {
        return Ok(None);
    }
    let mut next = cart.next_version(now);
    next.who_may_lock = who;
    Ok(Some(next))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::commands::fixtures::*;
    use crate::commands::{add_item, remove_item};

    fn with_a_line() -> Cart {
        add_item(
            &shared_cart(),
            &user("owner"),
            &item("apple", 100, 10),
            qty(1),
            Utc::now(),
        )
        .unwrap()
    }

    #[test]
    fn a_locked_cart_refuses_edits_with_who_locked_it() {
        let now = Utc::now();
        let locked = lock(&with_a_line(), &user("owner"), Duration::minutes(15), now).unwrap();
        assert_eq!(locked.status, Status::Locked);
        let refused = remove_item(
            &locked,
            &user("editor"),
            &crate::ids::ItemId::parse("apple").unwrap(),
            now,
        );
        assert!(
            matches!(refused, Err(CartError::Locked(l)) if l.locked_by == user("owner") && l.expires_at == locked.updated_at + Duration::minutes(15))
        );
    }

    #[test]
    fn only_the_owner_locks_and_only_a_cart_with_lines() {
        let now = Utc::now();
        let minutes = Duration::minutes(15);
        assert!(matches!(
            lock(&with_a_line(), &user("editor"), minutes, now),
            Err(CartError::OwnerOnly(_))
        ));
        assert!(matches!(
            lock(&with_a_line(), &user("viewer"), minutes, now),
            Err(CartError::OwnerOnly(_))
        ));
        assert!(matches!(
            lock(&shared_cart(), &user("owner"), minutes, now),
            Err(CartError::EmptyCart)
        ));
    }

    #[test]
    fn the_owner_lets_editors_lock_and_viewers_never_may() {
        let now = Utc::now();
        let minutes = Duration::minutes(15);
        let cart = with_a_line();
        let refused = set_who_may_lock(&cart, &user("editor"), WhoMayLock::Editors, now);
        assert!(matches!(refused, Err(CartError::OwnerOnly(_))));
        let open = set_who_may_lock(&cart, &user("owner"), WhoMayLock::Editors, now)
            .unwrap()
            .unwrap();
        assert_eq!(open.version, cart.version + 1);
        assert!(
            set_who_may_lock(&open, &user("owner"), WhoMayLock::Editors, now)
                .unwrap()
                .is_none(),
            "setting what is set changes nothing"
        );
        let locked = lock(&open, &user("editor"), minutes, now).unwrap();
        assert_eq!(locked.lock.map(|l| l.locked_by), Some(user("editor")));
        assert!(matches!(
            lock(&open, &user("viewer"), minutes, now),
            Err(CartError::ReadOnly)
        ));
    }

    #[test]
    fn a_lock_is_never_set_past_the_longest_allowed() {
        let now = Utc::now();
        let locked = lock(&with_a_line(), &user("owner"), Duration::days(400), now).unwrap();
        let lock = locked.lock.unwrap();
        assert_eq!(lock.expires_at - lock.locked_at, MAX_LOCK);
    }

    #[test]
    fn unlocking_makes_the_cart_editable_and_a_lapsed_lock_cannot_be_unlocked() {
        let now = Utc::now();
        let locked = lock(&with_a_line(), &user("owner"), Duration::minutes(15), now).unwrap();
        let unlocked = unlock(&locked, &user("owner"), now).unwrap();
        assert_eq!((unlocked.status, unlocked.lock), (Status::Active, None));
        assert!(matches!(
            unlock(&locked, &user("editor"), now),
            Err(CartError::OwnerOnly(_))
        ));
        let later = now + Duration::minutes(16);
        assert!(matches!(
            unlock(&locked, &user("owner"), later),
            Err(CartError::NotLocked)
        ));
        let lapsed = locked.as_of(later);
        assert_eq!(lapsed.status, Status::Active);
        assert!(
            remove_item(
                &lapsed,
                &user("editor"),
                &crate::ids::ItemId::parse("apple").unwrap(),
                later
            )
            .is_ok()
        );
    }
}
