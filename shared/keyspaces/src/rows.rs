//! A cart as the `carts` table holds it, and back: the only place that knows the columns.

use domain::cart::{Line, Member, Role, Status};
use domain::{Cart, CartId, Currency, ItemId, Quantity, UserId};
use scylla::DeserializeRow;
use scylla::value::{CqlTimestamp, CqlValue};
use std::collections::HashMap;

/// A `carts` row as read. Collections are optional: Cassandra stores an empty one as null.
#[derive(DeserializeRow)]
pub(crate) struct CartRow {
    cart_id: uuid::Uuid,
    owner_id: String,
    status: String,
    version: i64,
    currency: String,
    created_at: CqlTimestamp,
    updated_at: CqlTimestamp,
    user_ids: Option<Vec<String>>,
    roles: Option<HashMap<String, String>>,
    items: Option<HashMap<String, i32>>,
    item_order: Option<Vec<String>>,
    item_names: Option<HashMap<String, String>>,
    unit_prices: Option<HashMap<String, i64>>,
    added_by: Option<HashMap<String, String>>,
    unpublished: Option<String>,
    checkout_lock: Option<String>,
    invites: Option<String>,
    names: Option<HashMap<String, String>>,
    who_may_lock: Option<String>,
}

/// A row that does not decode into a valid cart: written by something other than this adapter.
#[derive(Debug, thiserror::Error)]
#[error("cart {cart_id} has an invalid {column}")]
pub(crate) struct BadRow {
    cart_id: uuid::Uuid,
    column: &'static str,
}

impl CartRow {
    /// The cart this row holds.
    pub fn into_cart(self) -> Result<Cart, BadRow> {
        let bad = |column| BadRow {
            cart_id: self.cart_id,
            column,
        };
        let roles = self.roles.unwrap_or_default();
        let members = self
            .user_ids
            .unwrap_or_default()
            .iter()
            .map(|user| {
                let role = match roles.get(user).map(String::as_str) {
                    Some("owner") => Role::Owner,
                    Some("editor") => Role::Editor,
                    Some("viewer") => Role::Viewer,
                    _ => return Err(bad("roles")),
                };
                let user_id = UserId::parse(user).map_err(|_| bad("user_ids"))?;
                Ok(Member { user_id, role })
            })
            .collect::<Result<Vec<_>, _>>()?;
        let (quantities, names, prices, authors) = (
            self.items.unwrap_or_default(),
            self.item_names.unwrap_or_default(),
            self.unit_prices.unwrap_or_default(),
            self.added_by.unwrap_or_default(),
        );
        let items = self
            .item_order
            .unwrap_or_default()
            .iter()
            .map(|item| {
                let quantity = quantities
                    .get(item)
                    .and_then(|q| u32::try_from(*q).ok())
                    .and_then(|q| Quantity::try_from(q).ok())
                    .ok_or_else(|| bad("items"))?;
                Ok(Line {
                    item_id: ItemId::parse(item).map_err(|_| bad("item_order"))?,
                    name: names.get(item).cloned().ok_or_else(|| bad("item_names"))?,
                    quantity,
                    unit_price: *prices.get(item).ok_or_else(|| bad("unit_prices"))?,
                    added_by: authors
                        .get(item)
                        .and_then(|a| UserId::parse(a).ok())
                        .ok_or_else(|| bad("added_by"))?,
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Cart {
            cart_id: CartId::parse(&self.cart_id.hyphenated().to_string())
                .map_err(|_| bad("cart_id"))?,
            owner_id: UserId::parse(&self.owner_id).map_err(|_| bad("owner_id"))?,
            status: Status::parse(&self.status).ok_or_else(|| bad("status"))?,
            version: u64::try_from(self.version).map_err(|_| bad("version"))?,
            created_at: timestamp(self.created_at).ok_or_else(|| bad("created_at"))?,
            updated_at: timestamp(self.updated_at).ok_or_else(|| bad("updated_at"))?,
            currency: Currency::parse(&self.currency).map_err(|_| bad("currency"))?,
            items,
            members,
            names: self
                .names
                .unwrap_or_default()
                .into_iter()
                .map(|(user, name)| Ok((UserId::parse(&user).map_err(|_| bad("names"))?, name)))
                .collect::<Result<_, _>>()?,
            invites: match self.invites.as_deref() {
                None | Some("") => Vec::new(),
                Some(json) => serde_json::from_str(json).map_err(|_| bad("invites"))?,
            },
            // A row written before the setting existed has none: the owner alone locks.
            who_may_lock: match self.who_may_lock.as_deref() {
                None | Some("") => domain::WhoMayLock::Owner,
                Some(raw) => domain::WhoMayLock::parse(raw).map_err(|_| bad("who_may_lock"))?,
            },
            lock: match self.checkout_lock.as_deref() {
                None | Some("") => None,
                Some(json) => Some(serde_json::from_str(json).map_err(|_| bad("checkout_lock"))?),
            },
            unpublished: match self.unpublished.as_deref() {
                None | Some("") => Default::default(),
                Some(json) => serde_json::from_str(json).map_err(|_| bad("unpublished"))?,
            },
        })
    }
}

/// The values of [`crate::session::CART_COLUMNS`] for `cart`, then its key: what both cart
/// writes bind, in that order.
pub(crate) fn cart_values(cart: &Cart) -> Vec<CqlValue> {
    let text = |s: &str| CqlValue::Text(s.to_owned());
    let by_item = |value: &dyn Fn(&Line) -> CqlValue| {
        CqlValue::Map(
            cart.items
                .iter()
                .map(|l| (text(l.item_id.as_str()), value(l)))
                .collect(),
        )
    };
    vec![
        text(cart.owner_id.as_str()),
        text(cart.status.as_str()),
        CqlValue::BigInt(version(cart.version)),
        text(cart.currency.as_str()),
        CqlValue::Timestamp(CqlTimestamp(cart.created_at.timestamp_millis())),
        CqlValue::Timestamp(CqlTimestamp(cart.updated_at.timestamp_millis())),
        CqlValue::List(
            cart.members
                .iter()
                .map(|m| text(m.user_id.as_str()))
                .collect(),
        ),
        CqlValue::Map(
            cart.members
                .iter()
                .map(|m| (text(m.user_id.as_str()), text(m.role.as_str())))
                .collect(),
        ),
        // Quantities are at most 999, so always an int.
        by_item(&|l| CqlValue::Int(i32::try_from(l.quantity.get()).unwrap_or(i32::MAX))),
        CqlValue::List(
            cart.items
                .iter()
                .map(|l| text(l.item_id.as_str()))
                .collect(),
        ),
        by_item(&|l| text(&l.name)),
        by_item(&|l| CqlValue::BigInt(l.unit_price)),
        by_item(&|l| text(l.added_by.as_str())),
        // Our own plain types always serialize.
        text(&serde_json::to_string(&cart.unpublished).unwrap_or_default()),
        // No lock is the empty string, as no unpublished events would be: never a null.
        text(
            &cart
                .lock
                .as_ref()
                .and_then(|lock| serde_json::to_string(lock).ok())
                .unwrap_or_default(),
        ),
        // No invites is the empty string too.
        text(&if cart.invites.is_empty() {
            String::new()
        } else {
            serde_json::to_string(&cart.invites).unwrap_or_default()
        }),
        CqlValue::Map(
            cart.names
                .iter()
                .map(|(user, name)| (text(user.as_str()), text(name)))
                .collect(),
        ),
        text(cart.who_may_lock.as_str()),
        CqlValue::Uuid(uuid(cart.cart_id)),
    ]
}

/// A version as the `bigint` column holds it; versions start at 1 and grow by one per change.
pub(crate) fn version(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

/// The UUID behind a cart id.
pub(crate) fn uuid(id: CartId) -> uuid::Uuid {
    // CartId prints its UUID in the canonical form, which always parses back.
    uuid::Uuid::parse_str(&id.to_string()).unwrap_or_default()
}

/// A CQL timestamp (milliseconds since the epoch) as a time.
fn timestamp(t: CqlTimestamp) -> Option<chrono::DateTime<chrono::Utc>> {
    chrono::DateTime::from_timestamp_millis(t.0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use domain::testing::{sample_items, user};

    /// A row as the driver would hand it back for `values`, the write of a cart.
    fn row_of(values: Vec<CqlValue>) -> CartRow {
        let mut v = values.into_iter();
        let mut next = || v.next().unwrap_or(CqlValue::Empty);
        let text = |c: CqlValue| c.into_string().unwrap_or_default();
        let texts = |c: CqlValue| c.into_vec().map(|l| l.into_iter().map(text).collect());
        let map = |c: CqlValue| {
            c.into_pair_vec().map(|pairs| {
                pairs
                    .into_iter()
                    .map(|(k, v)| (text(k), v))
                    .collect::<HashMap<_, _>>()
            })
        };
        let stamp = |c: CqlValue| c.as_cql_timestamp().unwrap_or(CqlTimestamp(0));
        let (owner_id, status, version, currency) = (next(), next(), next(), next());
        let (created_at, updated_at, user_ids, roles) = (next(), next(), next(), next());
        let (items, item_order, item_names, unit_prices) = (next(), next(), next(), next());
        let (added_by, unpublished, checkout_lock) = (next(), next(), next());
        let (invites, names, who_may_lock, cart_id) = (next(), next(), next(), next());
        CartRow {
            cart_id: cart_id.as_uuid().unwrap_or_default(),
            owner_id: text(owner_id),
            status: text(status),
            version: version.as_bigint().unwrap_or(0),
            currency: text(currency),
            created_at: stamp(created_at),
            updated_at: stamp(updated_at),
            user_ids: texts(user_ids),
            roles: map(roles).map(|m| m.into_iter().map(|(k, v)| (k, text(v))).collect()),
            items: map(items).map(|m| {
                m.into_iter()
                    .map(|(k, v)| (k, v.as_int().unwrap_or(0)))
                    .collect()
            }),
            item_order: texts(item_order),
            item_names: map(item_names).map(|m| m.into_iter().map(|(k, v)| (k, text(v))).collect()),
            unit_prices: map(unit_prices).map(|m| {
                m.into_iter()
                    .map(|(k, v)| (k, v.as_bigint().unwrap_or(0)))
                    .collect()
            }),
            added_by: map(added_by).map(|m| m.into_iter().map(|(k, v)| (k, text(v))).collect()),
            unpublished: Some(text(unpublished)),
            checkout_lock: checkout_lock.into_string(),
            invites: invites.into_string(),
            names: map(names).map(|m| m.into_iter().map(|(k, v)| (k, text(v))).collect()),
            who_may_lock: who_may_lock.into_string(),
        }
    }

    #[test]
    fn a_cart_with_lines_and_members_survives_its_columns() {
        let now = domain::service::now();
        let cart = Cart::new(CartId::new(), user("alice"), Currency::DEFAULT, now);
        let one = Quantity::try_from(3u32).unwrap_or_else(|e| panic!("{e}"));
        let cart = domain::commands::add_item(&cart, &user("alice"), &sample_items()[1], one, now)
            .and_then(|c| {
                domain::commands::add_item(&c, &user("alice"), &sample_items()[0], one, now)
            })
            .and_then(|c| {
                domain::commands::share(&c, &user("alice"), &[user("bob")], Role::Viewer, now)
            })
            .unwrap_or_else(|e| panic!("{e}"));
        let mut cart = cart;
        cart.remember_name(&user("bob"), "Bob Builder");
        let back = row_of(cart_values(&cart)).into_cart();
        assert_eq!(
            back.ok(),
            Some(cart.clone()),
            "lines keep their order and authors"
        );
        let locked =
            domain::commands::lock(&cart, &user("alice"), chrono::Duration::minutes(15), now)
                .unwrap_or_else(|e| panic!("{e}"));
        let back = row_of(cart_values(&locked)).into_cart();
        assert_eq!(
            back.ok(),
            Some(locked.clone()),
            "a lock keeps who and until when"
        );
        let (invited, _) = domain::commands::create_invite(
            &locked,
            &user("alice"),
            "ab".repeat(32),
            domain::invite::InviteTerms::default(),
            now,
        )
        .unwrap_or_else(|e| panic!("{e}"));
        let back = row_of(cart_values(&invited)).into_cart();
        assert_eq!(
            back.ok(),
            Some(invited),
            "invites keep their hash, terms and uses"
        );
    }

    #[test]
    fn a_row_written_by_someone_else_is_an_error_naming_the_column() {
        let cart = Cart::new(
            CartId::new(),
            user("alice"),
            Currency::DEFAULT,
            chrono::Utc::now(),
        );
        let mut row = row_of(cart_values(&cart));
        row.status = "LOST".to_owned();
        assert_eq!(row.into_cart().err().map(|e| e.column), Some("status"));
    }
}
