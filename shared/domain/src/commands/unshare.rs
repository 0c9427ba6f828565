//! unshareCart: the owner removes a member, or a member leaves.

use crate::access::{require_active, require_member};
use crate::cart::{Cart, Role};
use crate::error::CartError;
use crate::ids::UserId;
use chrono::{DateTime, Utc};

/// `cart` without `target` as a member.
pub fn unshare(
    cart: &Cart,
    actor: &UserId,
    target: &UserId,
    now: DateTime<Utc>,
) -> Result<Cart, CartError> {
    let actor_role = require_member(cart, actor)?;
    if actor != target && actor_role != Role::Owner {
        return Err(CartError::OwnerOnly("remove other members"));
    }
    require_active(cart)?;
    match cart.role_of(target) {
        None => Err(CartError::NotAMember(target.clone())),
        Some(Role::Owner) => Err(CartError::OwnerIsPermanent(
            "the owner cannot leave or be removed",
        )),
        Some(_) => {
            let mut next = cart.next_version(now);
            next.members.retain(|m| &m.user_id != target);
            Ok(next)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::commands::fixtures::*;

    #[test]
    fn the_owner_removes_a_member() {
        let next = unshare(
            &shared_cart(),
            &user("owner"),
            &user("viewer"),
            chrono::Utc::now(),
        )
        .unwrap();
        assert_eq!(next.role_of(&user("viewer")), None);
    }

    #[test]
    fn a_member_may_leave() {
        let next = unshare(
            &shared_cart(),
            &user("viewer"),
            &user("viewer"),
            chrono::Utc::now(),
        )
        .unwrap();
        assert_eq!(next.role_of(&user("viewer")), None);
    }

    #[test]
    fn an_editor_cannot_remove_someone_else() {
        let err = unshare(
            &shared_cart(),
            &user("editor"),
            &user("viewer"),
            chrono::Utc::now(),
        );
        assert!(matches!(err, Err(CartError::OwnerOnly(_))));
    }

    #[test]
    fn the_owner_cannot_leave() {
        let err = unshare(
            &shared_cart(),
            &user("owner"),
            &user("owner"),
            chrono::Utc::now(),
        );
        assert!(matches!(err, Err(CartError::OwnerIsPermanent(_))));
    }

    #[test]
    fn removing_a_non_member_is_not_a_member() {
        let err = unshare(
            &shared_cart(),
            &user("owner"),
            &user("bob"),
            chrono::Utc::now(),
        );
        assert!(matches!(err, Err(CartError::NotAMember(_))));
    }
}
