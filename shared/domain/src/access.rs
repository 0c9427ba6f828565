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

/// The caller may change the cart's lines or check it out: owner or editor, cart still active.
pub fn require_editor(cart: &Cart, user: &UserId) -> Result<(), CartError> {
    match require_member(cart, user)? {
        Role::Viewer => Err(CartError::ReadOnly),
        Role::Owner | Role::Editor => require_active(cart),
    }
}

/// The caller owns the cart, which is still active; `action` names what they tried.
pub fn require_owner(cart: &Cart, user: &UserId, action: &'static str) -> Result<(), CartError> {
    match require_member(cart, user)? {
        Role::Owner => require_active(cart),
        Role::Editor | Role::Viewer => Err(CartError::OwnerOnly(action)),
    }
}

/// Nobody edits a checked-out cart.
pub fn require_active(cart: &Cart) -> Result<(), CartError> {
    match cart.status {
        Status::Active => Ok(()),
        Status::CheckedOut => Err(CartError::CheckedOut),
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
