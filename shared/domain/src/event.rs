//! The events a change emits, in the envelope every consumer reads (schema in `infra/`).

use crate::cart::Cart;
use crate::error::Shortage;
use crate::ids::{CartId, ItemId, UserId};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// What happened.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum EventType {
    /// A cart was created.
    CartCreated,
    /// An item was added (or its quantity raised by an add).
    CartItemAdded,
    /// A line was removed.
    CartItemRemoved,
    /// A batch of line changes, or a repricing at checkout.
    CartModified,
    /// Members were added or their roles changed.
    CartShared,
    /// A member was removed or left.
    CartUnshared,
    /// A user joined with an invite link.
    CartJoined,
    /// The owner created an invite link.
    CartInviteCreated,
    /// The owner revoked an invite link.
    CartInviteRevoked,
    /// The cart was locked for checkout (or its lock extended).
    CartLocked,
    /// The cart's checkout lock was released; its lines may change again.
    CartUnlocked,
    /// The owner changed who may lock the cart.
    CartSettingsChanged,
    /// The cart was checked out.
    CartCheckedOut,
    /// Stock could not cover some lines of a checked-out cart (the inventory consumer found
    /// less than checkout saw). Not a change: the version is the checkout's.
    CartStockShort,
}

impl EventType {
    /// Its name, as the envelope's `type` writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::CartCreated => "CartCreated",
            Self::CartItemAdded => "CartItemAdded",
            Self::CartItemRemoved => "CartItemRemoved",
            Self::CartModified => "CartModified",
            Self::CartShared => "CartShared",
            Self::CartUnshared => "CartUnshared",
            Self::CartJoined => "CartJoined",
            Self::CartInviteCreated => "CartInviteCreated",
            Self::CartInviteRevoked => "CartInviteRevoked",
            Self::CartLocked => "CartLocked",
            Self::CartUnlocked => "CartUnlocked",
            Self::CartSettingsChanged => "CartSettingsChanged",
            Self::CartCheckedOut => "CartCheckedOut",
            Self::CartStockShort => "CartStockShort",
        }
    }

    /// Whether the event is a change of the cart (a new version). `CartStockShort` is not: it
    /// is a notice about the checkout, carrying the checkout's version.
    pub fn is_change(self) -> bool {
        self != Self::CartStockShort
    }

    /// Whether this kind of change can change who the members are or their roles. Only these
    /// leave a member's copy of the member list out of date, so only their pushes carry it.
    pub fn changes_membership(self) -> bool {
        matches!(
            self,
            Self::CartCreated | Self::CartShared | Self::CartUnshared | Self::CartJoined
        )
    }
}

/// One change to one cart, as published on `cart-events` with the cart id as key.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CartEvent {
    /// Unique per event; consumers may deduplicate on it.
    pub event_id: uuid::Uuid,
    /// What happened.
    #[serde(rename = "type")]
    pub event_type: EventType,
    /// The cart it happened to; also the partition key.
    pub cart_id: CartId,
    /// The cart's version after the change; consumers deduplicate on (cartId, version).
    pub version: u64,
    /// Who made the change.
    pub actor: UserId,
    /// When.
    pub occurred_at: DateTime<Utc>,
    /// Who to notify: every member after the change, plus anyone the change removed.
    pub members: Vec<UserId>,
    /// The cart after the change, in the API's representation. Kept as serialized JSON: it is
    /// written once here and copied verbatim into every message that carries it.
    pub snapshot: Box<serde_json::value::RawValue>,
    /// Whether the change also changed a member's display name, so the member list a client
    /// holds is out of date even though membership did not change.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub names_changed: bool,
    /// What stock could not cover: only on `CartStockShort`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub shortages: Vec<Shortage>,
    /// How the change moved each line's quantity (what analytics counts as added and removed).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub lines: Vec<LineChange>,
    /// Who the change made a member (a share or a join): what the notification consumer tells
    /// them of.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub joined: Vec<UserId>,
}

/// One line's quantity moved by a change: more (added) or fewer (removed).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LineChange {
    /// The item.
    pub item_id: ItemId,
    /// Units added (positive) or removed (negative); never zero.
    pub quantity: i64,
}

impl LineChange {
    /// How `after`'s lines differ from `before`'s, by item, in item order.
    pub fn between(before: &[crate::Line], after: &[crate::Line]) -> Vec<LineChange> {
        let mut moved: std::collections::BTreeMap<&ItemId, i64> = std::collections::BTreeMap::new();
        for line in before {
            *moved.entry(&line.item_id).or_default() -= i64::from(line.quantity.get());
        }
        for line in after {
            *moved.entry(&line.item_id).or_default() += i64::from(line.quantity.get());
        }
        moved
            .into_iter()
            .filter(|(_, quantity)| *quantity != 0)
            .map(|(item_id, quantity)| LineChange {
                item_id: item_id.clone(),
                quantity,
            })
            .collect()
    }
}

impl CartEvent {
    /// The event for `cart` having just reached its version through `event_type` by `actor`.
    ///
    /// `also_notify` lists users who are no longer members but must hear of the change (the
    /// member an unshare removed).
    pub fn new(event_type: EventType, cart: &Cart, actor: &UserId, also_notify: &[UserId]) -> Self {
        let mut members = cart.member_ids();
        members.extend(also_notify.iter().cloned());
        Self {
            event_id: uuid::Uuid::new_v4(),
            event_type,
            cart_id: cart.cart_id,
            version: cart.version,
            actor: actor.clone(),
            occurred_at: cart.updated_at,
            members,
            snapshot: snapshot_of(cart),
            names_changed: false,
            shortages: Vec::new(),
            lines: Vec::new(),
            joined: Vec::new(),
        }
    }

    /// The `CartStockShort` event for `checked_out` (a `CartCheckedOut` event): the same cart,
    /// version, buyer and audience, and what stock could not cover. Its id is derived from the
    /// checkout's and its time is the checkout's, so a redelivered checkout that finds the same
    /// shortfall publishes the same event again, which consumers that keep events by id (and
    /// time, as the notifications do) keep once.
    pub fn stock_short(checked_out: &CartEvent, shortages: Vec<Shortage>) -> Self {
        use sha2::Digest;
        let digest = sha2::Sha256::new()
            .chain_update(b"CartStockShort:")
            .chain_update(checked_out.event_id.as_bytes())
            .finalize();
        let mut bytes = [0u8; 16];
        bytes.copy_from_slice(&digest[..16]);
        Self {
            event_id: uuid::Builder::from_custom_bytes(bytes).into_uuid(),
            event_type: EventType::CartStockShort,
            shortages,
            lines: Vec::new(),
            joined: Vec::new(),
            ..checked_out.clone()
        }
    }
}

fn snapshot_of(cart: &Cart) -> Box<serde_json::value::RawValue> {
    // A view of our own plain types always serializes; the `null` fallback is never taken.
    serde_json::value::to_raw_value(&cart.view()).unwrap_or_default()
}
