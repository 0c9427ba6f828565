//! createInvite, revokeInvite and acceptInvite: the owner hands out links, takes them back, and
//! whoever holds one joins the cart in its role.

use crate::access::{require_active, require_owner};
use crate::cart::{Cart, MAX_MEMBERS, Member};
use crate::error::CartError;
use crate::ids::UserId;
use crate::invite::{Invite, InviteTerms, MAX_OPEN};
use chrono::{DateTime, Utc};

/// `cart` with a new invite on `terms` whose token's secret hashes to `secret_hash`, and the
/// invite. Only the owner invites. Invites past their expiry are dropped first, then, if the
/// cart is still at [`MAX_OPEN`], the oldest that no longer let anyone in.
pub fn create_invite(
    cart: &Cart,
    actor: &UserId,
    secret_hash: String,
    terms: InviteTerms,
    now: DateTime<Utc>,
) -> Result<(Cart, Invite), CartError> {
    require_owner(cart, actor, "invite")?;
    let mut next = cart.next_version(now);
    next.invites.retain(|i| now < i.expires_at);
    while next.invites.len() >= MAX_OPEN {
        let closed = next.invites.iter().position(|i| !i.is_open(now));
        match closed {
            Some(index) => drop(next.invites.remove(index)),
            None => return Err(CartError::TooManyInvites),
        }
    }
    let invite = Invite {
        invite_id: secret_hash[..16].to_owned(),
        secret_hash,
        role: terms.role,
        created_by: actor.clone(),
        created_at: next.updated_at,
        expires_at: next.updated_at + terms.lifetime,
        max_uses: terms.max_uses,
        uses: 0,
        revoked: false,
    };
    next.invites.push(invite.clone());
    Ok((next, invite))
}

/// `cart` with invite `invite_id` revoked: whoever holds its token is refused from now on.
pub fn revoke_invite(
    cart: &Cart,
    actor: &UserId,
    invite_id: &str,
    now: DateTime<Utc>,
) -> Result<Cart, CartError> {
    require_owner(cart, actor, "revoke invites")?;
    let mut next = cart.next_version(now);
    let invite = next
        .invites
        .iter_mut()
        .find(|i| i.invite_id == invite_id)
        .ok_or(CartError::InviteNotFound)?;
    invite.revoked = true;
    Ok(next)
}

/// The invite of `cart` whose secret hashes to `secret_hash`, if it lets `actor` in at `now`.
pub fn usable_invite<'c>(
    cart: &'c Cart,
    actor: &UserId,
    secret_hash: &str,
    now: DateTime<Utc>,
) -> Result<&'c Invite, CartError> {
    let invite = cart
        .invites
        .iter()
        .find(|i| i.secret_hash == secret_hash)
        .ok_or(CartError::InviteNotFound)?;
    if invite.revoked {
        return Err(CartError::InviteRevoked);
    }
    if now >= invite.expires_at {
        return Err(CartError::InviteExpired);
    }
    if !invite.is_open(now) {
        return Err(CartError::InviteUsedUp);
    }
    require_active(cart)?;
    if cart.role_of(actor).is_some() {
        return Err(CartError::AlreadyAMember);
    }
    Ok(invite)
}

/// `cart` with `actor` a member in the role of the invite whose secret hashes to
/// `secret_hash`, and that invite's use counted.
pub fn accept_invite(
    cart: &Cart,
    actor: &UserId,
    secret_hash: &str,
    now: DateTime<Utc>,
) -> Result<Cart, CartError> {
    let role = usable_invite(cart, actor, secret_hash, now)?.role;
    if cart.members.len() >= MAX_MEMBERS {
        return Err(CartError::TooManyMembers);
    }
    let mut next = cart.next_version(now);
    next.members.push(Member {
        user_id: actor.clone(),
        role,
    });
    if let Some(invite) = next
        .invites
        .iter_mut()
        .find(|i| i.secret_hash == secret_hash)
    {
        invite.uses += 1;
    }
    Ok(next)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cart::{Role, Status};
    use crate::commands::fixtures::*;
    use chrono::Duration;

    fn hash(n: u8) -> String {
        format!("{n:02x}").repeat(32)
    }

    fn invited(terms: InviteTerms) -> (Cart, Invite) {
        create_invite(&shared_cart(), &user("owner"), hash(1), terms, Utc::now()).unwrap()
    }

    #[test]
    fn whoever_holds_the_token_joins_in_its_role_and_the_use_is_counted() {
        let (cart, invite) = invited(InviteTerms {
            role: Role::Viewer,
            ..InviteTerms::default()
        });
        let joined = accept_invite(&cart, &user("zoe"), &invite.secret_hash, Utc::now()).unwrap();
        assert_eq!(joined.role_of(&user("zoe")), Some(Role::Viewer));
        assert_eq!(joined.invites[0].uses, 1);
        assert_eq!(joined.version, cart.version + 1);
    }

    #[test]
    fn every_refusal_is_its_own() {
        let now = Utc::now();
        let (cart, invite) = invited(InviteTerms {
            max_uses: Some(1),
            ..InviteTerms::default()
        });
        let used = accept_invite(&cart, &user("zoe"), &invite.secret_hash, now).unwrap();
        let refusal = |cart: &Cart, who: &str, at| {
            accept_invite(cart, &user(who), &invite.secret_hash, at).unwrap_err()
        };
        assert!(matches!(
            refusal(&used, "yan", now),
            CartError::InviteUsedUp
        ));
        assert!(matches!(
            refusal(&cart, "yan", now + Duration::days(8)),
            CartError::InviteExpired
        ));
        let revoked = revoke_invite(&cart, &user("owner"), &invite.invite_id, now).unwrap();
        assert!(matches!(
            refusal(&revoked, "yan", now),
            CartError::InviteRevoked
        ));
        assert!(matches!(
            refusal(&cart, "editor", now),
            CartError::AlreadyAMember
        ));
        let mut closed = cart.clone();
        closed.status = Status::CheckedOut;
        assert!(matches!(
            refusal(&closed, "yan", now),
            CartError::CheckedOut
        ));
        assert!(matches!(
            accept_invite(&cart, &user("yan"), &hash(2), now),
            Err(CartError::InviteNotFound)
        ));
    }

    #[test]
    fn only_the_owner_invites_and_revokes() {
        let now = Utc::now();
        let (cart, invite) = invited(InviteTerms::default());
        assert!(matches!(
            create_invite(&cart, &user("editor"), hash(2), InviteTerms::default(), now),
            Err(CartError::OwnerOnly(_))
        ));
        assert!(matches!(
            revoke_invite(&cart, &user("editor"), &invite.invite_id, now),
            Err(CartError::OwnerOnly(_))
        ));
        assert!(matches!(
            revoke_invite(&cart, &user("owner"), "0000000000000000", now),
            Err(CartError::InviteNotFound)
        ));
    }

    #[test]
    fn a_cart_keeps_at_most_twenty_invites_dropping_closed_ones_first() {
        let now = Utc::now();
        let mut cart = shared_cart();
        for n in 0..MAX_OPEN as u8 {
            cart = create_invite(&cart, &user("owner"), hash(n), InviteTerms::default(), now)
                .unwrap()
                .0;
        }
        assert!(matches!(
            create_invite(&cart, &user("owner"), hash(99), InviteTerms::default(), now),
            Err(CartError::TooManyInvites)
        ));
        let first = cart.invites[0].invite_id.clone();
        let revoked = revoke_invite(&cart, &user("owner"), &first, now).unwrap();
        let (next, _) = create_invite(
            &revoked,
            &user("owner"),
            hash(99),
            InviteTerms::default(),
            now,
        )
        .unwrap();
        assert_eq!(next.invites.len(), MAX_OPEN);
        assert!(next.invites.iter().all(|i| i.invite_id != first));
    }
}
