//! Who may do what to a cart. Every command goes through one of these checks first.
//!
//! Non-members learn nothing: to them a cart that exists and one that does not look the same.

use crate::cart::{Cart, Role, Status};
use crate::error::CartError;
use crate::ids::UserId;

/// The caller may read the cart: any member.
pub fn require_member(cart: &Cart, user: &UserId) -> Result<Role, CartError> {
    cart.role_of(user)
        .ok_or(CartError::CartNotFound(cart.cart_id))
}

/// The caller may change the cart's lines: owner or editor, cart active (not locked for
/// checkout, not checked out).
pub fn require_editor(cart: &Cart, user: &UserId) -> Result<(), CartError> {
    match require_member(cart, user)? {
        Role::Viewer => Err(CartError::ReadOnly),
        Role::Owner | Role::Editor => require_unlocked(cart),
    }
}

/// The caller may check the cart out: owner or editor, cart not checked out, and, while it is
/// locked, the member who locked it or the owner.
pub fn require_buyer(cart: &Cart, user: &UserId) -> Result<(), CartError> {
    let role = require_member(cart, user)?;
    if role == Role::Viewer {
        return Err(CartError::ReadOnly);
    }
    require_active(cart)?;
    match &cart.lock {
        Some(lock) if cart.status == Status::Locked => {
            if role == Role::Owner || &lock.locked_by == user {
                Ok(())
            } else {
                Err(CartError::Locked(lock.clone()))
            }
        }
        _ => Ok(()),
    }
}

/// The caller owns the cart, which is still active; `action` names what they tried.
pub fn require_owner(cart: &Cart, user: &UserId, action: &'static str) -> Result<(), CartError> {
    match require_member(cart, user)? {
        Role::Owner => require_active(cart),
        Role::Editor | Role::Viewer => Err(CartError::OwnerOnly(action)),
    }
}

/// Nobody changes a checked-out cart. Its members may still change while it is locked: the
/// lock holds what is being paid for, its lines.
pub fn require_active(cart: &Cart) -> Result<(), CartError> {
    match cart.status {
        Status::Active | Status::Locked => Ok(()),
        Status::CheckedOut => Err(CartError::CheckedOut),
    }
}

/// Nobody changes the lines of a cart that is locked for checkout or checked out.
pub fn require_unlocked(cart: &Cart) -> Result<(), CartError> {
    require_active(cart)?;
    match (&cart.lock, cart.status) {
        (Some(lock), Status::Locked) => Err(CartError::Locked(lock.clone())),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::commands::fixtures::{shared_cart, user};

    #[test]
    fn strangers_are_told_the_cart_does_not_exist() {
        let cart = shared_cart();
        assert!(matches!(
            require_member(&cart, &user("eve")),
            Err(CartError::CartNotFound(_))
        ));
        assert!(matches!(
            require_editor(&cart, &user("eve")),
            Err(CartError::CartNotFound(_))
        ));
    }

    #[test]
    fn viewers_read_but_do_not_edit() {
        let cart = shared_cart();
        assert!(require_member(&cart, &user("viewer")).is_ok());
        assert!(matches!(
            require_editor(&cart, &user("viewer")),
            Err(CartError::ReadOnly)
        ));
    }

    #[test]
    fn only_the_owner_shares() {
        let cart = shared_cart();
        assert!(require_owner(&cart, &user("owner"), "share").is_ok());
        assert!(matches!(
            require_owner(&cart, &user("editor"), "share"),
            Err(CartError::OwnerOnly(_))
        ));
    }

    #[test]
    fn a_locked_cart_keeps_its_lines_and_only_its_locker_or_owner_buys() {
        let mut cart = shared_cart();
        let now = chrono::Utc::now();
        cart.status = Status::Locked;
        cart.lock = Some(crate::cart::CheckoutLock {
            locked_by: user("owner"),
            locked_at: now,
            expires_at: now + chrono::Duration::minutes(15),
        });
        assert!(matches!(
            require_editor(&cart, &user("owner")),
            Err(CartError::Locked(_))
        ));
        assert!(require_buyer(&cart, &user("owner")).is_ok());
        assert!(matches!(
            require_buyer(&cart, &user("editor")),
            Err(CartError::Locked(_))
        ));
        assert!(require_active(&cart).is_ok(), "members may still change");
    }

    #[test]
    fn nobody_edits_a_checked_out_cart() {
        let mut cart = shared_cart();
        cart.status = Status::CheckedOut;
        assert!(matches!(
            require_editor(&cart, &user("owner")),
            Err(CartError::CheckedOut)
        ));
        assert!(
            require_member(&cart, &user("viewer")).is_ok(),
            "reading stays allowed"
        );
    }
}
