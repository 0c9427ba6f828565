//! What can go wrong with a cart command, each variant saying what the caller should do next.
//!
//! `CartError::code` is the stable machine-readable name clients branch on; the HTTP edge maps
//! variants to statuses in one place.

use crate::ids::{CartId, ItemId, UserId};
use crate::ports::StoreError;
use serde::Serialize;
use std::borrow::Cow;

/// Input that does not have the shape the API documents. Always the caller's to fix.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{field} {message}")]
pub struct ValidationError {
    /// The field (JSON member, path or query parameter) at fault.
    pub field: Cow<'static, str>,
    /// What the field must look like.
    pub message: Cow<'static, str>,
}

impl ValidationError {
    /// A problem with `field`.
    pub fn new(field: impl Into<Cow<'static, str>>, message: impl Into<Cow<'static, str>>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
        }
    }
}

/// One line that the catalog cannot fill.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Shortage {
    /// The item short of stock.
    pub item_id: ItemId,
    /// How many the cart asks for.
    pub requested: u32,
    /// How many the catalog has.
    pub available: u32,
}

/// A line whose catalog price moved since it was added.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PriceChange {
    /// The item repriced.
    pub item_id: ItemId,
    /// The unit price the line held.
    pub was: i64,
    /// The catalog's unit price now, which the line holds from the returned version on.
    pub now: i64,
}

/// Why a cart command did not happen.
#[derive(Debug, thiserror::Error)]
pub enum CartError {
    /// The request is malformed; nothing was read or written.
    #[error(transparent)]
    Invalid(#[from] ValidationError),
    /// No such cart, or the caller is not a member: the two are indistinguishable on purpose.
    #[error("no cart {0} is visible to you")]
    CartNotFound(CartId),
    /// A viewer tried to change the cart.
    #[error("viewers can read this cart but not change it; ask the owner for the editor role")]
    ReadOnly,
    /// Someone other than the owner tried an owner's action.
    #[error("only the cart's owner can {0}")]
    OwnerOnly(&'static str),
    /// The owner's membership cannot be removed or downgraded.
    #[error("the owner stays the owner: {0}")]
    OwnerIsPermanent(&'static str),
    /// The cart was checked out; it no longer changes.
    #[error("the cart is checked out and can no longer change")]
    CheckedOut,
    /// The cart is locked for checkout; its lines change again once it is unlocked or the
    /// lock lapses.
    #[error(
        "{} locked the cart for checkout at {}; it can change again once they unlock it, or at {} when the lock lapses",
        .0.locked_by, .0.locked_at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        .0.expires_at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
    )]
    Locked(crate::cart::CheckoutLock),
    /// No invite of the cart has this token (or no such cart).
    #[error("this invite link is not valid; ask for a new one")]
    InviteNotFound,
    /// The invite's time ran out.
    #[error("this invite link has expired; ask for a new one")]
    InviteExpired,
    /// The owner revoked the invite.
    #[error("this invite link was revoked; ask for a new one")]
    InviteRevoked,
    /// Every use the invite allowed has been taken.
    #[error("this invite link has been used as many times as it allows; ask for a new one")]
    InviteUsedUp,
    /// The caller is a member already.
    #[error("you are already a member of this cart")]
    AlreadyAMember,
    /// The cart holds the most open invites allowed.
    #[error(
        "a cart keeps at most {} invites; revoke one first",
        crate::invite::MAX_OPEN
    )]
    TooManyInvites,
    /// Unlock of a cart that holds no lock (never locked, unlocked already, or lapsed).
    #[error("the cart is not locked")]
    NotLocked,
    /// The caller's view of the cart is stale.
    #[error("the cart is at version {current}, not {expected}; re-read it and try again")]
    VersionConflict {
        /// The version the caller based the change on.
        expected: u64,
        /// The version the cart is at now.
        current: u64,
    },
    /// Too many concurrent writers kept beating this one; retrying later will succeed.
    #[error("the cart changed {attempts} times while this change was being applied; try again")]
    Contended {
        /// How many times the command was tried.
        attempts: u32,
        /// The last version seen.
        current: u64,
    },
    /// The item is not in the catalog.
    #[error("item {0} is not in the catalog")]
    UnknownItem(ItemId),
    /// The cart has no line for the item.
    #[error("item {0} is not in this cart")]
    LineNotFound(ItemId),
    /// The user is not a member of the cart.
    #[error("{0} is not a member of this cart")]
    NotAMember(UserId),
    /// The catalog cannot fill one or more lines.
    #[error("not enough stock for {}", .0.iter().map(|s| format!("{} ({} requested, {} available)", s.item_id, s.requested, s.available)).collect::<Vec<_>>().join(", "))]
    OutOfStock(Vec<Shortage>),
    /// Checkout found prices that moved; the cart now holds the new prices at `current`.
    #[error(
        "prices changed since these items were added; review the cart (now version {current}) and check out again"
    )]
    PriceChanged {
        /// The version holding the new prices.
        current: u64,
        /// What moved.
        changes: Vec<PriceChange>,
    },
    /// The cart already holds the most lines allowed.
    #[error("a cart holds at most {} lines", crate::cart::MAX_LINES)]
    TooManyLines,
    /// The line would pass the per-line quantity limit.
    #[error(
        "a line holds at most {} of an item; {item} would reach {requested}",
        crate::quantity::Quantity::MAX
    )]
    LineQuantityLimit {
        /// The line's item.
        item: ItemId,
        /// The quantity the line would reach.
        requested: u32,
    },
    /// The cart already has the most members allowed.
    #[error("a cart has at most {} members", crate::cart::MAX_MEMBERS)]
    TooManyMembers,
    /// The item is priced in another currency than the cart.
    #[error("item {item} is priced in {item_currency}; this cart is in {cart_currency}")]
    CurrencyMismatch {
        /// The item.
        item: ItemId,
        /// Its currency.
        item_currency: crate::money::Currency,
        /// The cart's.
        cart_currency: crate::money::Currency,
    },
    /// Checkout of a cart with no lines.
    #[error("an empty cart cannot be checked out")]
    EmptyCart,
    /// A port failed; the change did not happen.
    #[error("storage is unavailable")]
    Unavailable(#[source] StoreError),
}

impl CartError {
    /// The stable code clients branch on, as sent in problem bodies.
    pub fn code(&self) -> &'static str {
        match self {
            CartError::Invalid(_) => "VALIDATION_FAILED",
            CartError::CartNotFound(_) => "CART_NOT_FOUND",
            CartError::ReadOnly => "READ_ONLY_MEMBER",
            CartError::OwnerOnly(_) => "OWNER_ONLY",
            CartError::OwnerIsPermanent(_) => "OWNER_IS_PERMANENT",
            CartError::CheckedOut => "CART_CHECKED_OUT",
            CartError::Locked(_) => "CART_LOCKED",
            CartError::NotLocked => "CART_NOT_LOCKED",
            CartError::InviteNotFound => "INVITE_NOT_FOUND",
            CartError::InviteExpired => "INVITE_EXPIRED",
            CartError::InviteRevoked => "INVITE_REVOKED",
            CartError::InviteUsedUp => "INVITE_USED_UP",
            CartError::AlreadyAMember => "ALREADY_A_MEMBER",
            CartError::TooManyInvites => "INVITE_LIMIT",
            CartError::VersionConflict { .. } | CartError::Contended { .. } => "VERSION_CONFLICT",
            CartError::UnknownItem(_) => "ITEM_NOT_FOUND",
            CartError::LineNotFound(_) => "LINE_NOT_FOUND",
            CartError::NotAMember(_) => "NOT_A_MEMBER",
            CartError::OutOfStock(_) => "OUT_OF_STOCK",
            CartError::PriceChanged { .. } => "PRICE_CHANGED",
            CartError::TooManyLines => "LINE_LIMIT",
            CartError::LineQuantityLimit { .. } => "QUANTITY_LIMIT",
            CartError::TooManyMembers => "MEMBER_LIMIT",
            CartError::CurrencyMismatch { .. } => "CURRENCY_MISMATCH",
            CartError::EmptyCart => "EMPTY_CART",
            CartError::Unavailable(StoreError::CircuitOpen { .. }) => "DEPENDENCY_UNAVAILABLE",
            CartError::Unavailable(_) => "UNAVAILABLE",
        }
    }

    /// The cart's current version, for errors that tell the caller to re-read.
    pub fn current_version(&self) -> Option<u64> {
        match self {
            CartError::VersionConflict { current, .. }
            | CartError::Contended { current, .. }
            | CartError::PriceChanged { current, .. } => Some(*current),
            _ => None,
        }
    }
}

impl From<StoreError> for CartError {
    fn from(e: StoreError) -> Self {
        CartError::Unavailable(e)
    }
}
