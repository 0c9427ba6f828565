//! shareCart: the owner grants users a role (or changes the role they have).

use crate::access::require_owner;
use crate::cart::{Cart, MAX_MEMBERS, Member, Role};
use crate::error::CartError;
use crate::ids::UserId;
use chrono::{DateTime, Utc};

/// `cart` with every one of `users` a member in `role`.
pub fn share(
    cart: &Cart,
    actor: &UserId,
    users: &[UserId],
    role: Role,
    now: DateTime<Utc>,
) -> Result<Cart, CartError> {
    require_owner(cart, actor, "share the cart")?;
    if role == Role::Owner {
        return Err(CartError::OwnerIsPermanent("a cart has exactly one owner"));
    }
    let mut next = cart.next_version(now);
    for user in users {
        match next.members.iter_mut().find(|m| &m.user_id == user) {
            Some(member) if member.role == Role::Owner => {
                return Err(CartError::OwnerIsPermanent(
                    "the owner's role cannot be changed",
                ));
            }
            Some(member) => member.role = role,
            None => {
                if next.members.len() >= MAX_MEMBERS {
                    return Err(CartError::TooManyMembers);
                }
                next.members.push(Member {
                    user_id: user.clone(),
                    role,
                });
            }
        }
    }
    Ok(next)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::commands::fixtures::*;

    #[test]
    fn the_owner_adds_members_and_changes_roles() {
        let next = share(
            &shared_cart(),
            &user("owner"),
            &[user("bob"), user("viewer")],
            Role::Editor,
            chrono::Utc::now(),
        )
        .unwrap();
        assert_eq!(next.role_of(&user("bob")), Some(Role::Editor));
        assert_eq!(next.role_of(&user("viewer")), Some(Role::Editor));
        assert_eq!(next.members.len(), 4);
    }

    #[test]
    fn share_by_editor_is_owner_only() {
        let err = share(
            &shared_cart(),
            &user("editor"),
            &[user("bob")],
            Role::Viewer,
            chrono::Utc::now(),
        );
        assert!(matches!(err, Err(CartError::OwnerOnly(_))));
    }

    #[test]
    fn the_owner_cannot_be_demoted() {
        let err = share(
            &shared_cart(),
            &user("owner"),
            &[user("owner")],
            Role::Viewer,
            chrono::Utc::now(),
        );
        assert!(matches!(err, Err(CartError::OwnerIsPermanent(_))));
    }

    #[test]
    fn members_stop_at_the_limit() {
        let users: Vec<_> = (0..MAX_MEMBERS).map(|i| user(&format!("u{i}"))).collect();
        let err = share(
            &shared_cart(),
            &user("owner"),
            &users,
            Role::Viewer,
            chrono::Utc::now(),
        );
        assert!(matches!(err, Err(CartError::TooManyMembers)));
    }
}
