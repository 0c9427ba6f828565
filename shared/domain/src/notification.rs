//! Notifications: what a cart event tells the members it concerns, kept for each of them (the
//! page lists them) and mailed to those who are not connected.
//!
//! Four kinds of event concern someone: being added to a cart (by a share), the cart locked for
//! checkout, checked out, and a shortfall after checkout. The one who made the change is not
//! told of it, except of a shortfall, which nobody made.
//!
//! Each (event, member) is decided once: a [`NotificationStore`] records the notice and, when
//! it is to be mailed, counts it against the member's hourly allowance in the same atomic
//! write. A redelivered event finds the record and keeps its decision. The mail goes out after
//! the record and is marked sent after it went: a consumer that dies between the two leaves it
//! pending, and the redelivery sends it then (twice only if it died after the mail service took
//! the mail and before the mark, the one window no store can close).

use crate::directory::{Directory, Email};
use crate::event::{CartEvent, EventType};
use crate::ids::{CartId, UserId};
use crate::ports::{BoxError, StoreError};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// How many mails a member gets in one hour at most, by default. A busy cart's next notices
/// are still listed on the page; they are just not mailed.
pub const DEFAULT_EMAILS_PER_HOUR: u32 = 6;

/// How many notifications a member's list shows, newest first.
pub const LIST_LIMIT: usize = 50;

/// What a notice is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Topic {
    /// The member was added to the cart (a share).
    Added,
    /// The cart was locked for checkout: it cannot change until unlocked.
    Locked,
    /// The cart was checked out.
    CheckedOut,
    /// Stock could not cover some of the checked-out lines.
    StockShort,
}

/// What one member is told of one event.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Notice {
    /// The event; a member is told of it once.
    pub event_id: uuid::Uuid,
    /// What it is about.
    pub topic: Topic,
    /// The cart.
    pub cart_id: CartId,
    /// The cart's owner, by name when the cart knows it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner_name: Option<String>,
    /// Who made the change.
    pub actor: UserId,
    /// Their name, when the cart knows it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub actor_name: Option<String>,
    /// When it happened.
    pub occurred_at: DateTime<Utc>,
}

impl Notice {
    /// The mail's subject: one line that says it all.
    pub fn subject(&self) -> String {
        let who = self.actor_name.as_deref().unwrap_or("A member");
        let whose = match &self.owner_name {
            Some(owner) => format!("{owner}'s shared cart"),
            None => "a shared cart".to_owned(),
        };
        match self.topic {
            Topic::Added => format!("{who} added you to {whose}"),
            Topic::Locked => format!("{who} locked {whose} for checkout"),
            Topic::CheckedOut => format!("{who} checked out {whose}"),
            Topic::StockShort => format!("Some items in {whose} were out of stock at checkout"),
        }
    }

    /// The mail's text: the subject and, when the page's address is known, a link that opens
    /// the cart.
    pub fn text(&self, page: Option<&str>) -> String {
        let link = page
            .map(|page| format!("Open the cart: {page}?cart={}\n\n", self.cart_id))
            .unwrap_or_default();
        format!(
            "{}.\n\n{link}You get this because you are a member of the cart and were not online. You can turn these mails off on the page.\n",
            self.subject(),
        )
    }
}

/// What became of a notice's mail.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Mailing {
    /// To be mailed: decided, not yet sent (or the sender died before it could say so).
    Pending,
    /// Mailed.
    Sent,
    /// Not mailed: the member was connected and saw it live.
    Connected,
    /// Not mailed: the member turned mails off.
    OptedOut,
    /// Not mailed: the directory has no verified email for the member.
    NoEmail,
    /// Not mailed: the member had their hour's allowance already.
    RateLimited,
    /// Not mailed: the mail service refused the address for good.
    Rejected,
    /// Not mailed: this deployment sends no mail (no sender address is set up).
    NoMailService,
}

/// A notice as a member's list shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Notification {
    /// What they were told.
    #[serde(flatten)]
    pub notice: Notice,
    /// Whether it was mailed, or why not.
    pub mailing: Mailing,
}

/// How the consumer means to deliver a notice, before the store counts it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Plan {
    /// Mail it, if the member has mails left this hour (at most `per_hour`).
    Mail {
        /// The allowance.
        per_hour: u32,
    },
    /// List it only, for this reason.
    ListOnly(Mailing),
}

/// What [`NotificationStore::record`] found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Recorded {
    /// Recorded now, with this mailing: `Pending` when it is to be mailed.
    New(Mailing),
    /// Recorded before (a redelivery), with the mailing it has now.
    Before(Mailing),
}

impl Recorded {
    /// Whether the mail is still to be sent.
    pub fn to_mail(self) -> bool {
        matches!(self, Recorded::New(m) | Recorded::Before(m) if m == Mailing::Pending)
    }
}

/// The hour a mail counts against (UTC, `YYYY-MM-DDTHH`).
pub fn hour_of(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%dT%H").to_string()
}

/// Where notifications and the members' mail settings are kept: a DynamoDB table on AWS, the
/// embedded store locally. A notice is known by its event's id and time, which an event keeps
/// however often it is delivered (it is built once, then stored or published as it is).
#[async_trait]
pub trait NotificationStore: Send + Sync {
    /// Records `notice` for `user` once. The first time, `plan` decides its mailing; a mail is
    /// counted against `user`'s allowance for the hour of `now` in the same atomic write, or
    /// recorded `RateLimited` when none is left. Later calls change nothing and answer what was
    /// recorded.
    async fn record(
        &self,
        user: &UserId,
        notice: &Notice,
        plan: Plan,
        now: DateTime<Utc>,
    ) -> Result<Recorded, StoreError>;

    /// Sets the mailing of `user`'s notice of `event` (after the mail went, or was refused).
    async fn mark(
        &self,
        user: &UserId,
        notice: &Notice,
        mailing: Mailing,
    ) -> Result<(), StoreError>;

    /// `user`'s notifications, newest first, at most `limit`.
    async fn list(&self, user: &UserId, limit: usize) -> Result<Vec<Notification>, StoreError>;

    /// Whether `user` turned mails off.
    async fn mails_off(&self, user: &UserId) -> Result<bool, StoreError>;

    /// Turns `user`'s mails off (or on again).
    async fn set_mails_off(&self, user: &UserId, off: bool) -> Result<(), StoreError>;
}

/// One mail.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mail {
    /// The recipient.
    pub to: Email,
    /// The subject line.
    pub subject: String,
    /// The plain text.
    pub text: String,
}

/// Why a mail did not go.
#[derive(Debug, thiserror::Error)]
pub enum MailError {
    /// The service refused this mail for good (an address it will not mail): trying again
    /// would not help.
    #[error("the mail was refused: {0}")]
    Rejected(String),
    /// The service could not take it now: the batch is tried again.
    #[error("the mail service is unavailable: {0}")]
    Unavailable(BoxError),
}

/// What sends mail: Amazon SES on AWS, the log locally.
#[async_trait]
pub trait Mailer: Send + Sync {
    /// Sends `mail`.
    async fn send(&self, mail: &Mail) -> Result<(), MailError>;
}

/// Who `event` concerns and what each is told, in the event's member order.
pub fn notices(event: &CartEvent) -> Vec<(UserId, Notice)> {
    let others = || {
        event
            .members
            .iter()
            .filter(|m| **m != event.actor)
            .cloned()
            .collect::<Vec<_>>()
    };
    let (topic, recipients) = match event.event_type {
        EventType::CartShared => (
            Topic::Added,
            event
                .joined
                .iter()
                .filter(|m| **m != event.actor)
                .cloned()
                .collect(),
        ),
        EventType::CartLocked => (Topic::Locked, others()),
        EventType::CartCheckedOut => (Topic::CheckedOut, others()),
        EventType::CartStockShort => (Topic::StockShort, event.members.clone()),
        _ => return Vec::new(),
    };
    let names = SnapshotNames::of(event);
    recipients
        .into_iter()
        .map(|user| {
            let notice = Notice {
                event_id: event.event_id,
                topic,
                cart_id: event.cart_id,
                owner_name: names.owner_name.clone(),
                actor: event.actor.clone(),
                actor_name: names.name_of(&event.actor),
                occurred_at: event.occurred_at,
            };
            (user, notice)
        })
        .collect()
}

/// The names an event's snapshot carries (the cart as the API shows it).
#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct SnapshotNames {
    #[serde(default)]
    owner_name: Option<String>,
    #[serde(default)]
    members: Vec<SnapshotMember>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct SnapshotMember {
    user_id: UserId,
    #[serde(default)]
    name: Option<String>,
}

impl SnapshotNames {
    fn of(event: &CartEvent) -> Self {
        serde_json::from_str(event.snapshot.get()).unwrap_or_default()
    }

    fn name_of(&self, user: &UserId) -> Option<String> {
        self.members
            .iter()
            .find(|m| m.user_id == *user)
            .and_then(|m| m.name.clone())
    }
}

/// Whether `user` has a live connection now: one seen within the presence window, so a page
/// that closed without `$disconnect` stops counting as soon as it stops counting as present.
pub async fn is_connected(
    registry: &dyn crate::ConnectionRegistry,
    user: &UserId,
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    Ok(registry
        .connections_of(user)
        .await?
        .iter()
        .any(|c| c.is_live(now)))
}

/// How `user`'s notice is to be delivered: listed only when they are connected, turned mails
/// off or have no verified email; mailed otherwise, to the returned address.
pub async fn plan_for(
    user: &UserId,
    registry: &dyn crate::ConnectionRegistry,
    directory: &dyn Directory,
    store: &dyn NotificationStore,
    per_hour: u32,
    now: DateTime<Utc>,
) -> Result<(Plan, Option<Email>), StoreError> {
    if is_connected(registry, user, now).await? {
        return Ok((Plan::ListOnly(Mailing::Connected), None));
    }
    if store.mails_off(user).await? {
        return Ok((Plan::ListOnly(Mailing::OptedOut), None));
    }
    match verified_email(directory, user).await? {
        Some(email) => Ok((Plan::Mail { per_hour }, Some(email))),
        None => Ok((Plan::ListOnly(Mailing::NoEmail), None)),
    }
}

/// `user`'s verified email, if the directory has one (it keeps no other).
pub async fn verified_email(
    directory: &dyn Directory,
    user: &UserId,
) -> Result<Option<Email>, StoreError> {
    Ok(directory.profile(user).await?.and_then(|p| p.email))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::user;

    fn event(event_type: EventType, actor: &str, members: &[&str], joined: &[&str]) -> CartEvent {
        let mut event = crate::testing::created_event();
        event.event_type = event_type;
        event.actor = user(actor);
        event.members = members.iter().map(|m| user(m)).collect();
        event.joined = joined.iter().map(|m| user(m)).collect();
        event
    }

    fn told(event: &CartEvent) -> Vec<(String, Topic)> {
        notices(event)
            .into_iter()
            .map(|(u, n)| (u.as_str().to_owned(), n.topic))
            .collect()
    }

    #[test]
    fn a_share_tells_only_the_members_it_added() {
        let shared = event(
            EventType::CartShared,
            "dana",
            &["dana", "finn", "gus"],
            &["gus"],
        );
        assert_eq!(told(&shared), vec![("gus".to_owned(), Topic::Added)]);
    }

    #[test]
    fn a_lock_or_checkout_tells_everyone_but_who_did_it_and_a_shortfall_everyone() {
        let members = ["dana", "finn", "gus"];
        let locked = event(EventType::CartLocked, "dana", &members, &[]);
        assert_eq!(
            told(&locked),
            vec![
                ("finn".to_owned(), Topic::Locked),
                ("gus".to_owned(), Topic::Locked)
            ]
        );
        let checked_out = event(EventType::CartCheckedOut, "finn", &members, &[]);
        assert_eq!(told(&checked_out).len(), 2);
        let short = event(EventType::CartStockShort, "dana", &members, &[]);
        assert_eq!(told(&short).len(), 3);
    }

    #[test]
    fn edits_and_joins_by_link_tell_nobody() {
        for kind in [
            EventType::CartCreated,
            EventType::CartItemAdded,
            EventType::CartModified,
            EventType::CartUnlocked,
            EventType::CartJoined,
        ] {
            assert!(told(&event(kind, "dana", &["dana", "finn"], &["finn"])).is_empty());
        }
    }

    #[test]
    fn a_notice_names_who_did_it_and_whose_cart_it_is() {
        let mut locked = event(EventType::CartLocked, "dana", &["dana", "finn"], &[]);
        locked.snapshot = serde_json::value::to_raw_value(&serde_json::json!({
            "ownerName": "Dana Lee",
            "members": [{"userId": "dana", "name": "Dana Lee"}, {"userId": "finn"}]
        }))
        .unwrap_or_else(|e| panic!("{e}"));
        let (_, notice) = notices(&locked).remove(0);
        assert_eq!(
            notice.subject(),
            "Dana Lee locked Dana Lee's shared cart for checkout"
        );
        assert!(
            notice
                .text(Some("https://carts.example"))
                .contains(&format!("https://carts.example?cart={}", locked.cart_id))
        );
        assert!(!notice.text(None).contains("?cart="), "no page, no link");
    }

    #[test]
    fn mails_count_against_the_hour_they_go_in() {
        let at = DateTime::parse_from_rfc3339("2026-12-02T09:59:59Z")
            .map(|t| t.with_timezone(&Utc))
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(hour_of(at), "2026-12-02T09");
    }
}
