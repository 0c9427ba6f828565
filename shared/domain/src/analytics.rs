//! Analytics from the cart events: per item and day, the units added, removed, checked out and
//! short of stock; per day, the carts created, shared (the first time each) and checked out.
//!
//! Each event is counted once however often it is delivered: an [`AnalyticsStore`] records a
//! [`Tally`] and its event id in one atomic write, and a second record of the same event
//! changes nothing. A cart counts as shared once, on the day it first gained a member.

use crate::event::{CartEvent, EventType};
use crate::ids::{CartId, ItemId};
use crate::ports::StoreError;
use async_trait::async_trait;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A day in UTC, written `YYYY-MM-DD`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Day(NaiveDate);

impl Day {
    /// Parses `YYYY-MM-DD`, a real date.
    pub fn parse(raw: &str) -> Result<Self, crate::ValidationError> {
        let invalid = || crate::ValidationError::new("day", "must be a date such as 2026-11-22");
        if raw.len() != 10 {
            return Err(invalid());
        }
        NaiveDate::parse_from_str(raw, "%Y-%m-%d")
            .map(Self)
            .map_err(|_| invalid())
    }

    /// The UTC day of `at`.
    pub fn of(at: chrono::DateTime<chrono::Utc>) -> Self {
        Self(at.date_naive())
    }
}

impl std::fmt::Display for Day {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0.format("%Y-%m-%d"))
    }
}

/// An item's units on one day.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ItemCounts {
    /// Units put in carts.
    pub added: u64,
    /// Units taken out of carts.
    pub removed: u64,
    /// Units in carts checked out.
    pub checked_out: u64,
    /// Units checked out that stock could not cover.
    pub short: u64,
}

impl ItemCounts {
    /// These counts plus `other`'s.
    pub fn plus(self, other: ItemCounts) -> ItemCounts {
        ItemCounts {
            added: self.added + other.added,
            removed: self.removed + other.removed,
            checked_out: self.checked_out + other.checked_out,
            short: self.short + other.short,
        }
    }
}

/// Carts through the funnel on one day.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FunnelCounts {
    /// Carts created.
    pub created: u64,
    /// Carts that gained their first member besides the owner (shared or joined by link).
    pub shared: u64,
    /// Carts checked out.
    pub checked_out: u64,
}

impl FunnelCounts {
    /// These counts plus `other`'s.
    pub fn plus(self, other: FunnelCounts) -> FunnelCounts {
        FunnelCounts {
            created: self.created + other.created,
            shared: self.shared + other.shared,
            checked_out: self.checked_out + other.checked_out,
        }
    }
}

/// One item's line in a day's report.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ItemDay {
    /// The item.
    pub item_id: ItemId,
    /// Its counts.
    #[serde(flatten)]
    pub counts: ItemCounts,
}

/// What was counted on one day: `GET /analytics/days/{day}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DayReport {
    /// The day.
    pub day: Day,
    /// The carts' funnel.
    pub funnel: FunnelCounts,
    /// Every item counted that day, by id.
    pub items: Vec<ItemDay>,
}

/// What one event adds to the counts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Tally {
    /// The event, counted once.
    pub event_id: uuid::Uuid,
    /// The day it happened.
    pub day: Day,
    /// Units by item.
    pub items: BTreeMap<ItemId, ItemCounts>,
    /// The funnel's steps (`shared` is left to the store, see `shares`).
    pub funnel: FunnelCounts,
    /// A cart that gained a member: counted as shared if it never was before.
    pub shares: Option<CartId>,
}

impl Tally {
    /// What `event` counts, if anything.
    pub fn of(event: &CartEvent) -> Option<Tally> {
        let mut tally = Tally {
            event_id: event.event_id,
            day: Day::of(event.occurred_at),
            items: BTreeMap::new(),
            funnel: FunnelCounts::default(),
            shares: None,
        };
        for line in &event.lines {
            let counts = tally.items.entry(line.item_id.clone()).or_default();
            let units = line.quantity.unsigned_abs();
            if line.quantity > 0 {
                counts.added += units;
            } else {
                counts.removed += units;
            }
        }
        match event.event_type {
            EventType::CartCreated => tally.funnel.created = 1,
            EventType::CartShared | EventType::CartJoined => tally.shares = Some(event.cart_id),
            EventType::CartCheckedOut => {
                tally.funnel.checked_out = 1;
                for (item, quantity) in checked_out_lines(event) {
                    tally.items.entry(item).or_default().checked_out += quantity;
                }
            }
            EventType::CartStockShort => {
                for shortage in &event.shortages {
                    tally
                        .items
                        .entry(shortage.item_id.clone())
                        .or_default()
                        .short += u64::from(shortage.requested.saturating_sub(shortage.available));
                }
            }
            _ => {}
        }
        let counts_nothing = tally.items.is_empty()
            && tally.funnel == FunnelCounts::default()
            && tally.shares.is_none();
        (!counts_nothing).then_some(tally)
    }
}

/// The lines of a checked-out cart's snapshot.
fn checked_out_lines(event: &CartEvent) -> Vec<(ItemId, u64)> {
    #[derive(Deserialize)]
    struct Snapshot {
        items: Vec<SnapshotLine>,
    }
    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct SnapshotLine {
        item_id: ItemId,
        quantity: u64,
    }
    serde_json::from_str::<Snapshot>(event.snapshot.get())
        .map(|s| {
            s.items
                .into_iter()
                .map(|l| (l.item_id, l.quantity))
                .collect()
        })
        .unwrap_or_default()
}

/// Where the counts are kept: the analytics table on DynamoDB, the embedded store locally.
#[async_trait]
pub trait AnalyticsStore: Send + Sync {
    /// Adds `tally`'s counts, unless its event was counted already, in one atomic write; true
    /// when it counted them.
    async fn record(&self, tally: &Tally) -> Result<bool, StoreError>;

    /// What was counted on `day` (zeros and no items for a day nothing happened).
    async fn day(&self, day: Day) -> Result<DayReport, StoreError>;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{Sample, user};

    fn quantity(n: u32) -> crate::Quantity {
        crate::Quantity::try_from(n).unwrap_or_else(|e| panic!("{e}"))
    }

    fn item(raw: &str) -> ItemId {
        ItemId::parse(raw).unwrap_or_else(|e| panic!("{e}"))
    }

    #[tokio::test]
    async fn the_events_of_a_cart_s_life_count_what_happened_to_each_item_and_the_cart() {
        let sample = Sample::new().await;
        let (alice, cart) = (user("alice"), sample.cart.cart_id);
        let carts = &sample.carts;
        let run = async {
            carts
                .add_item(&alice, cart, &item("apple"), quantity(2))
                .await?;
            carts.remove_item(&alice, cart, &item("pear")).await?;
            carts
                .share(&alice, cart, &[user("dan")], crate::Role::Editor)
                .await?;
            carts.checkout(&alice, cart).await
        };
        run.await.unwrap_or_else(|e| panic!("{e}"));
        let tallies: Vec<Tally> = sample
            .events
            .events()
            .iter()
            .filter_map(Tally::of)
            .collect();
        let items = |t: &Tally| t.items.clone().into_iter().collect::<Vec<_>>();
        let counts = |added, removed, checked_out| ItemCounts {
            added,
            removed,
            checked_out,
            short: 0,
        };
        assert_eq!(items(&tallies[0]), [(item("apple"), counts(2, 0, 0))]);
        assert_eq!(items(&tallies[1]), [(item("pear"), counts(0, 1, 0))]);
        assert_eq!(tallies[2].shares, Some(cart));
        assert_eq!(items(&tallies[3]), [(item("apple"), counts(0, 0, 3))]);
        assert_eq!(tallies[3].funnel.checked_out, 1);
        assert_eq!(tallies.len(), 4);
    }

    #[test]
    fn a_shortfall_counts_the_units_stock_could_not_cover_and_a_lock_counts_nothing() {
        let created = crate::testing::created_event();
        assert_eq!(Tally::of(&created).map(|t| t.funnel.created), Some(1));
        let short = CartEvent::stock_short(
            &CartEvent {
                event_type: EventType::CartCheckedOut,
                ..created.clone()
            },
            vec![crate::Shortage {
                item_id: item("fig"),
                requested: 3,
                available: 1,
            }],
        );
        let tally = Tally::of(&short).unwrap_or_else(|| panic!("a shortfall counts"));
        assert_eq!(tally.items[&item("fig")].short, 2);
        let again = CartEvent::stock_short(
            &CartEvent {
                event_type: EventType::CartCheckedOut,
                ..created.clone()
            },
            short.shortages.clone(),
        );
        assert_eq!(
            again.event_id, short.event_id,
            "a redelivered checkout's shortfall is the same event, counted once"
        );
        let locked = CartEvent {
            event_type: EventType::CartLocked,
            ..created
        };
        assert_eq!(Tally::of(&locked), None);
    }

    #[test]
    fn a_day_is_a_real_date_written_in_full() {
        assert_eq!(
            Day::parse("2026-11-22").map(|d| d.to_string()).ok(),
            Some("2026-11-22".to_owned())
        );
        for bad in [
            "2026-02-30",
            "2026-1-2",
            "22-11-2026",
            "",
            "2026-11-22T00:00",
        ] {
            assert!(Day::parse(bad).is_err(), "{bad}");
        }
    }
}
