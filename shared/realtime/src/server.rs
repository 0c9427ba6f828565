//! What the server sends: a change to a cart (what every member receives), a snapshot on
//! subscribe, who has a cart open, pongs and errors.

use domain::{CartEvent, CartId, EventType, UserId};
use serde::Serialize;
use serde_json::value::RawValue;

/// API Gateway's WebSocket message limit: 128 KB.
pub const MAX_MESSAGE_BYTES: usize = 128 * 1024;

/// A message to a client.
#[derive(Debug, Serialize)]
#[serde(tag = "type")]
pub enum ServerMessage<'a> {
    /// A change to a cart the recipient is a member of. `type` is the event type.
    #[serde(rename = "change", rename_all = "camelCase")]
    Change {
        /// What happened (`CartItemAdded`, ...).
        event: EventType,
        /// The cart.
        cart_id: CartId,
        /// Its version after the change: drop messages not newer than what you hold.
        version: u64,
        /// Who made the change.
        actor: &'a UserId,
        /// When.
        occurred_at: chrono::DateTime<chrono::Utc>,
        /// The cart after the change; absent only when `snapshotOmitted` (re-read the cart).
        /// Its `members` are there only after `CartCreated`, `CartShared`, `CartUnshared` and
        /// `CartJoined`, or a change that also changed a member's display name; after any other
        /// change they are as the recipient already holds them.
        #[serde(skip_serializing_if = "Option::is_none")]
        cart: Option<&'a RawValue>,
        /// True when the snapshot would pass the message limit and was left out.
        #[serde(skip_serializing_if = "std::ops::Not::not")]
        snapshot_omitted: bool,
    },
    /// The recipient was removed from (or left) the cart: the last message about it they get.
    #[serde(rename = "removed", rename_all = "camelCase")]
    Removed {
        /// The cart.
        cart_id: CartId,
        /// Its version after the removal.
        version: u64,
        /// Who removed them.
        actor: &'a UserId,
        /// When.
        occurred_at: chrono::DateTime<chrono::Utc>,
    },
    /// After a checkout, stock could not cover these lines. Not a change: delivered whatever
    /// version the client holds.
    #[serde(rename = "shortfall", rename_all = "camelCase")]
    Shortfall {
        /// The cart.
        cart_id: CartId,
        /// The checkout's version.
        version: u64,
        /// Who checked out.
        actor: &'a UserId,
        /// When the shortfall was found.
        occurred_at: chrono::DateTime<chrono::Utc>,
        /// What stock could not cover.
        shortages: &'a [domain::Shortage],
    },
    /// The answer to `subscribe`: the cart as it is now.
    #[serde(rename = "snapshot", rename_all = "camelCase")]
    Snapshot {
        /// The cart.
        cart_id: CartId,
        /// Its version.
        version: u64,
        /// The cart.
        cart: &'a RawValue,
        /// Who has the cart open now (the recipient among them), each once.
        viewers: &'a [UserId],
    },
    /// Who has a cart open now changed: sent to each of them, a moment after the change (the
    /// changes of that moment collapsed into one message). Names are in the member list the
    /// recipient holds.
    #[serde(rename = "presence", rename_all = "camelCase")]
    Presence {
        /// The cart.
        cart_id: CartId,
        /// Who has it open, each once, in order.
        viewers: &'a [UserId],
    },
    /// The answer to `unsubscribe`.
    #[serde(rename = "unsubscribed", rename_all = "camelCase")]
    Unsubscribed {
        /// The cart.
        cart_id: CartId,
    },
    /// The answer to `ping`.
    #[serde(rename = "pong")]
    Pong,
    /// A message that could not be handled.
    #[serde(rename = "error")]
    Error {
        /// A stable code (`UNKNOWN_ACTION`, `CART_NOT_FOUND`, ...).
        code: &'a str,
        /// What to do about it.
        detail: String,
    },
}

impl ServerMessage<'_> {
    /// The message as JSON text.
    pub fn to_json(&self) -> String {
        // Our own plain types always serialize.
        serde_json::to_string(self).unwrap_or_default()
    }
}

/// The messages one event produces, each serialized once however many members receive it: the
/// change (with the snapshot, or flagged `snapshotOmitted` when it would pass
/// `MAX_MESSAGE_BYTES`), and for whoever the change removed, only that they were removed (never
/// the cart they may no longer see).
///
/// The snapshot leaves out the member list unless the change is to membership (or to a member's
/// display name, `CartEvent::names_changed`): at a thousand
/// members that list is some 40 KB, and sending it to every member on every quantity change
/// would be 40 MB of pushes per click (and two billed messages each, API Gateway counting in
/// 32 KB units) to say nothing new. The list changes only with the events that carry it, so a
/// client that holds the previous version holds the current list.
pub struct PushMessages {
    change: std::sync::Arc<str>,
    removed: Option<(std::sync::Arc<str>, Vec<UserId>)>,
}

impl PushMessages {
    /// Builds the messages of `event`.
    pub fn of(event: &CartEvent) -> Self {
        if event.event_type == EventType::CartStockShort {
            let shortfall = ServerMessage::Shortfall {
                cart_id: event.cart_id,
                version: event.version,
                actor: &event.actor,
                occurred_at: event.occurred_at,
                shortages: &event.shortages,
            };
            return Self {
                change: shortfall.to_json().into(),
                removed: None,
            };
        }
        let change = |cart| ServerMessage::Change {
            event: event.event_type,
            cart_id: event.cart_id,
            version: event.version,
            actor: &event.actor,
            occurred_at: event.occurred_at,
            cart,
            snapshot_omitted: cart.is_none(),
        };
        let trimmed = (!event.event_type.changes_membership() && !event.names_changed)
            .then(|| without_members(&event.snapshot))
            .flatten();
        let full = change(Some(trimmed.as_deref().unwrap_or(&event.snapshot))).to_json();
        let change = if full.len() <= MAX_MESSAGE_BYTES {
            full
        } else {
            change(None).to_json()
        };
        let removed = (event.event_type == EventType::CartUnshared).then(|| {
            let message = ServerMessage::Removed {
                cart_id: event.cart_id,
                version: event.version,
                actor: &event.actor,
                occurred_at: event.occurred_at,
            };
            let still_members = snapshot_members(event);
            let gone = event
                .members
                .iter()
                .filter(|m| !still_members.contains(m))
                .cloned()
                .collect();
            (message.to_json().into(), gone)
        });
        Self {
            change: change.into(),
            removed,
        }
    }

    /// True when the event removed `recipient` from the cart (they get `removed`).
    pub fn removes(&self, recipient: &UserId) -> bool {
        self.removed
            .as_ref()
            .is_some_and(|(_, gone)| gone.contains(recipient))
    }

    /// What `recipient` receives.
    pub fn for_recipient(&self, recipient: &UserId) -> std::sync::Arc<str> {
        match &self.removed {
            Some((message, gone)) if gone.contains(recipient) => message.clone(),
            _ => self.change.clone(),
        }
    }
}

/// The message `recipient` gets for `event` (see `PushMessages`, which a consumer builds once per
/// event rather than once per recipient).
pub fn push_message_for(event: &CartEvent, recipient: &UserId) -> String {
    PushMessages::of(event).for_recipient(recipient).to_string()
}

/// `snapshot` without its `members` (`None` if it is not an object of plain keys, which our own
/// snapshots always are; the caller then sends it whole).
fn without_members(snapshot: &RawValue) -> Option<Box<RawValue>> {
    // Borrowed raw values: the fields are copied, not parsed into a tree.
    let mut fields: std::collections::BTreeMap<&str, &RawValue> =
        serde_json::from_str(snapshot.get()).ok()?;
    fields.remove("members");
    serde_json::value::to_raw_value(&fields).ok()
}

/// The members the snapshot lists: after an unshare, the event's audience minus these is who
/// was removed.
fn snapshot_members(event: &CartEvent) -> Vec<UserId> {
    #[derive(serde::Deserialize)]
    struct Members {
        members: Vec<Member>,
    }
    #[derive(serde::Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Member {
        user_id: UserId,
    }
    serde_json::from_str::<Members>(event.snapshot.get())
        .map(|s| s.members.into_iter().map(|m| m.user_id).collect())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests;
