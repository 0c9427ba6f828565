//! modifyCart: a batch of line changes applied all together or not at all.

use super::{add_to_line, require_stock};
use crate::access::require_editor;
use crate::cart::{Cart, MAX_LINES};
use crate::error::{CartError, ValidationError};
use crate::ids::{ItemId, UserId};
use crate::item::Item;
use crate::quantity::Quantity;
use chrono::{DateTime, Utc};
use std::collections::{HashMap, HashSet};

/// Set one line to a quantity; `None` removes the line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LineChange {
    /// The line's item.
    pub item_id: ItemId,
    /// The quantity the line should hold, or `None` to remove it.
    pub quantity: Option<Quantity>,
}

impl LineChange {
    /// Validates a batch as received: 1..=250 changes, each item at most once, quantities
    /// 0 (remove) to 999.
    pub fn parse_batch(raw: &[(String, i64)]) -> Result<Vec<LineChange>, ValidationError> {
        if raw.is_empty() || raw.len() > MAX_LINES {
            return Err(ValidationError::new(
                "changes",
                format!("must hold 1 to {MAX_LINES} changes"),
            ));
        }
        let mut seen = HashSet::new();
        raw.iter()
            .map(|(item, quantity)| {
                let item_id = ItemId::parse(item)?;
                if !seen.insert(item_id.clone()) {
                    return Err(ValidationError::new(
                        "changes",
                        format!("names item {item_id} more than once"),
                    ));
                }
                let quantity = match quantity {
                    0 => None,
                    n => Some(Quantity::try_from(*n).map_err(|_| {
                        ValidationError::new(
                            "quantity",
                            format!("must be 0 (remove) or between 1 and {}", Quantity::MAX),
                        )
                    })?),
                };
                Ok(LineChange { item_id, quantity })
            })
            .collect()
    }
}

/// `cart` with every change applied. `items` holds the catalog entry of every item set to a
/// non-zero quantity.
pub fn modify(
    cart: &Cart,
    actor: &UserId,
    changes: &[LineChange],
    items: &HashMap<ItemId, Item>,
    now: DateTime<Utc>,
) -> Result<Cart, CartError> {
    require_editor(cart, actor)?;
    let mut next = cart.next_version(now);
    for change in changes {
        let existing = next.items.iter().position(|l| l.item_id == change.item_id);
        match (change.quantity, existing) {
            (None, Some(i)) => {
                next.items.remove(i);
            }
            (None, None) => return Err(CartError::LineNotFound(change.item_id.clone())),
            (Some(quantity), Some(i)) => {
                let item = items
                    .get(&change.item_id)
                    .ok_or_else(|| CartError::UnknownItem(change.item_id.clone()))?;
                require_stock(item, quantity)?;
                next.items[i].quantity = quantity;
            }
            (Some(quantity), None) => {
                let item = items
                    .get(&change.item_id)
                    .ok_or_else(|| CartError::UnknownItem(change.item_id.clone()))?;
                add_to_line(&mut next, actor, item, quantity)?;
            }
        }
    }
    Ok(next)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::commands::add_item;
    use crate::commands::fixtures::*;

    fn catalog(items: &[Item]) -> HashMap<ItemId, Item> {
        items
            .iter()
            .map(|i| (i.item_id.clone(), i.clone()))
            .collect()
    }

    #[test]
    fn a_batch_sets_removes_and_adds_in_one_version() {
        let (apple, pear, fig) = (
            item("apple", 100, 10),
            item("pear", 50, 10),
            item("fig", 70, 10),
        );
        let cart = add_item(
            &shared_cart(),
            &user("owner"),
            &apple,
            qty(1),
            chrono::Utc::now(),
        )
        .unwrap();
        let cart = add_item(&cart, &user("owner"), &pear, qty(1), chrono::Utc::now()).unwrap();
        let changes =
            LineChange::parse_batch(&[("apple".into(), 4), ("pear".into(), 0), ("fig".into(), 2)])
                .unwrap();
        let next = modify(
            &cart,
            &user("editor"),
            &changes,
            &catalog(&[apple, pear, fig]),
            chrono::Utc::now(),
        )
        .unwrap();
        assert_eq!(next.version, cart.version + 1);
        let lines: Vec<_> = next
            .items
            .iter()
            .map(|l| (l.item_id.as_str(), l.quantity.get()))
            .collect();
        assert_eq!(lines, [("apple", 4), ("fig", 2)]);
    }

    #[test]
    fn one_bad_change_leaves_the_whole_batch_unapplied() {
        let apple = item("apple", 100, 10);
        let changes = LineChange::parse_batch(&[("apple".into(), 1), ("ghost".into(), 0)]).unwrap();
        let err = modify(
            &shared_cart(),
            &user("owner"),
            &changes,
            &catalog(&[apple]),
            chrono::Utc::now(),
        );
        assert!(matches!(err, Err(CartError::LineNotFound(_))));
    }

    #[test]
    fn batches_are_validated_before_anything_is_read() {
        assert!(LineChange::parse_batch(&[]).is_err());
        assert!(LineChange::parse_batch(&[("a".into(), 1), ("a".into(), 2)]).is_err());
        assert!(LineChange::parse_batch(&[("a".into(), 1000)]).is_err());
        assert!(LineChange::parse_batch(&[("a".into(), -1)]).is_err());
    }

    #[test]
    fn modify_by_viewer_is_forbidden() {
        let changes = LineChange::parse_batch(&[("apple".into(), 1)]).unwrap();
        let err = modify(
            &shared_cart(),
            &user("viewer"),
            &changes,
            &HashMap::new(),
            chrono::Utc::now(),
        );
        assert!(matches!(err, Err(CartError::ReadOnly)));
    }
}
