//! The cart aggregate: lines, members with roles, status and the version every change bumps.

use crate::ids::{CartId, ItemId, UserId};
use crate::money::Currency;
use crate::quantity::Quantity;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The most lines a cart may hold.
pub const MAX_LINES: usize = 250;
/// The most members (owner included) a cart may have.
pub const MAX_MEMBERS: usize = 1000;
/// The longest display name kept, in characters.
pub const MAX_NAME_CHARS: usize = 64;

/// The most users one share names. With the cart itself that is one DynamoDB transaction
/// (at most 100 writes) for the cart and its membership index together.
pub const MAX_USERS_PER_SHARE: usize = 50;

/// Where a cart is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Status {
    /// Members may edit it.
    Active,
    /// Ordered; terminal for edits.
    CheckedOut,
    /// Held for checkout (`Cart::lock` says by whom and until when): its lines do not change.
    /// Last, because the embedded store encodes a variant by its position: carts it already
    /// holds keep reading as they were written.
    Locked,
}

impl Status {
    /// The status as the API and the stores write it.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Active => "ACTIVE",
            Status::Locked => "LOCKED",
            Status::CheckedOut => "CHECKED_OUT",
        }
    }

    /// The status `raw` names, as [`Status::as_str`] writes it.
    pub fn parse(raw: &str) -> Option<Status> {
        [Status::Active, Status::CheckedOut, Status::Locked]
            .into_iter()
            .find(|s| s.as_str() == raw)
    }
}

/// Who holds a cart for checkout, since when, and until when: a lock nobody releases lapses by
/// itself, so a host who walks away does not freeze the group's cart.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CheckoutLock {
    /// The member who locked it.
    pub locked_by: UserId,
    /// When.
    pub locked_at: DateTime<Utc>,
    /// When it lapses unless released or checked out before.
    pub expires_at: DateTime<Utc>,
}

/// What a member may do.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Created the cart; the only one who shares and unshares.
    Owner,
    /// Reads and edits lines, checks out.
    Editor,
    /// Reads only.
    Viewer,
}

/// Who may lock a cart for checkout: a setting of the owner's.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum WhoMayLock {
    /// The owner alone (what a cart starts with).
    #[default]
    Owner,
    /// The owner and every editor: whoever pays for the group can hold the lines still.
    Editors,
}

impl WhoMayLock {
    /// Its name, as the API and the stores write it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Owner => "owner",
            Self::Editors => "editors",
        }
    }

    /// Parses `owner` or `editors`.
    pub fn parse(raw: &str) -> Result<Self, crate::ValidationError> {
        match raw {
            "owner" => Ok(Self::Owner),
            "editors" => Ok(Self::Editors),
            _ => Err(crate::ValidationError::new(
                "whoMayLock",
                "must be owner or editors",
            )),
        }
    }

    /// Whether a member in `role` may lock under this setting.
    pub fn allows(self, role: Role) -> bool {
        match role {
            Role::Owner => true,
            Role::Editor => self == Self::Editors,
            Role::Viewer => false,
        }
    }
}

impl Role {
    /// Parses a role that can be granted by sharing (`editor` or `viewer`).
    pub fn parse_grantable(raw: &str) -> Result<Role, crate::ValidationError> {
        match raw {
            "editor" => Ok(Role::Editor),
            "viewer" => Ok(Role::Viewer),
            _ => Err(crate::ValidationError::new(
                "role",
                "must be \"editor\" or \"viewer\"",
            )),
        }
    }

    /// The role as the API writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Owner => "owner",
            Role::Editor => "editor",
            Role::Viewer => "viewer",
        }
    }
}

/// A user with a role in a cart.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Member {
    /// Who.
    pub user_id: UserId,
    /// What they may do.
    pub role: Role,
}

/// One item in the cart, with the unit price it was added at.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Line {
    /// The catalog item.
    pub item_id: ItemId,
    /// Its name when added, so a read needs no catalog call.
    pub name: String,
    /// How many.
    pub quantity: Quantity,
    /// Unit price in the cart's currency's minor units, as the catalog had it.
    pub unit_price: i64,
    /// Who added the line.
    pub added_by: UserId,
}

/// A shared cart, as stored.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Cart {
    /// Its id.
    pub cart_id: CartId,
    /// Who created it.
    pub owner_id: UserId,
    /// Active or checked out.
    pub status: Status,
    /// Bumped by every change; the basis of every conditional write.
    pub version: u64,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
    /// The currency of every price in it.
    pub currency: Currency,
    /// Its lines, in the order they were first added.
    pub items: Vec<Line>,
    /// Its members, the owner first.
    pub members: Vec<Member>,
    /// The checkout lock, while `status` is `Locked`.
    #[serde(default)]
    pub lock: Option<CheckoutLock>,
    /// Who may lock it for checkout (the owner's setting).
    #[serde(default)]
    pub who_may_lock: WhoMayLock,
    /// Its invite links (`crate::invite`), the owner's to list; not part of its view.
    #[serde(default)]
    pub invites: Vec<crate::invite::Invite>,
    /// The display names of its members and line authors, as each last presented it (their
    /// token's `name`): kept in the cart so that its members see each other's names, and
    /// nobody sees the name of someone they share no cart with.
    #[serde(default)]
    pub names: BTreeMap<UserId, String>,
    /// Events of its changes not yet known to be published, saved with the change they
    /// announce (the transactional outbox, `crate::unpublished`). Not part of its view.
    #[serde(default)]
    pub unpublished: crate::unpublished::Unpublished,
}

impl Cart {
    /// A new, empty, active cart at version 1 owned by `owner`.
    pub fn new(cart_id: CartId, owner: UserId, currency: Currency, now: DateTime<Utc>) -> Self {
        Self {
            cart_id,
            owner_id: owner.clone(),
            status: Status::Active,
            version: 1,
            created_at: now,
            updated_at: now,
            currency,
            items: Vec::new(),
            members: vec![Member {
                user_id: owner,
                role: Role::Owner,
            }],
            lock: None,
            who_may_lock: WhoMayLock::Owner,
            invites: Vec::new(),
            names: BTreeMap::new(),
            unpublished: Default::default(),
        }
    }

    /// Keeps `name` as `user`'s display name (cleaned: trimmed, no control characters, at most
    /// [`MAX_NAME_CHARS`]), then drops the names of whoever is neither a member nor a line's
    /// author any more.
    pub fn remember_name(&mut self, user: &UserId, name: &str) {
        if let Some(name) = display_name(name) {
            self.names.insert(user.clone(), name);
        }
        self.forget_unneeded_names();
    }

    /// Drops the names of whoever is neither a member nor a line's author. Every change runs it,
    /// so it looks each name up in a set rather than scanning a thousand members per name.
    pub fn forget_unneeded_names(&mut self) {
        if self.names.is_empty() {
            return;
        }
        let Cart {
            names,
            members,
            items,
            ..
        } = self;
        let kept: std::collections::HashSet<&UserId> = members
            .iter()
            .map(|m| &m.user_id)
            .chain(items.iter().map(|l| &l.added_by))
            .collect();
        names.retain(|user, _| kept.contains(user));
    }

    /// `user`'s display name, if the cart knows it.
    pub fn name_of(&self, user: &UserId) -> Option<&str> {
        self.names.get(user).map(String::as_str)
    }

    /// The lock in force at `now`, if any.
    pub fn lock_at(&self, now: DateTime<Utc>) -> Option<&CheckoutLock> {
        self.lock
            .as_ref()
            .filter(|lock| self.status == Status::Locked && now < lock.expires_at)
    }

    /// This cart as it stands at `now`: a lock past its expiry has lapsed, and the cart is
    /// active again. Nothing is written for it; the next change saves the lapse with itself.
    pub fn as_of(mut self, now: DateTime<Utc>) -> Cart {
        if self.status == Status::Locked && self.lock_at(now).is_none() {
            self.status = Status::Active;
            self.lock = None;
        }
        self
    }

    /// The role of `user`, if a member.
    pub fn role_of(&self, user: &UserId) -> Option<Role> {
        self.members
            .iter()
            .find(|m| &m.user_id == user)
            .map(|m| m.role)
    }

    /// The line for `item`, if any.
    pub fn line(&self, item: &ItemId) -> Option<&Line> {
        self.items.iter().find(|l| &l.item_id == item)
    }

    /// Every member's user id, the audience of the cart's events.
    pub fn member_ids(&self) -> Vec<UserId> {
        self.members.iter().map(|m| m.user_id.clone()).collect()
    }

    /// Sum of every line in minor units.
    pub fn total(&self) -> i64 {
        self.items
            .iter()
            .map(|l| l.unit_price.saturating_mul(i64::from(l.quantity.get())))
            .fold(0i64, i64::saturating_add)
    }

    /// The successor of this cart: the same cart one version on, changed at `now`.
    pub(crate) fn next_version(&self, now: DateTime<Utc>) -> Cart {
        let mut next = self.clone();
        next.version = self.version + 1;
        // A clock that steps back must not make updatedAt run backwards.
        next.updated_at = now.max(self.updated_at);
        next
    }

    /// The representation the API and events carry.
    pub fn view(&self) -> CartView<'_> {
        CartView::from(self)
    }
}

/// `raw` as a display name: trimmed, control characters dropped, at most [`MAX_NAME_CHARS`];
/// `None` when nothing is left.
pub fn display_name(raw: &str) -> Option<String> {
    // Control characters, and the invisible ones that reorder or hide text (bidirectional
    // overrides, zero-width spaces), which would let one name pass for another.
    let invisible = |c: char| {
        c.is_control()
            || matches!(c, '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2060}'..='\u{2069}' | '\u{FEFF}')
    };
    let name: String = raw
        .trim()
        .chars()
        .filter(|c| !invisible(*c))
        .take(MAX_NAME_CHARS)
        .collect();
    let name = name.trim_end();
    (!name.is_empty()).then(|| name.to_owned())
}

/// A line as the API shows it, with its total.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LineView<'a> {
    item_id: &'a ItemId,
    name: &'a str,
    quantity: u32,
    unit_price: i64,
    line_total: i64,
    added_by: &'a UserId,
    #[serde(skip_serializing_if = "Option::is_none")]
    added_by_name: Option<&'a str>,
}

/// A member as the API shows it: with their display name, when the cart knows it.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MemberView<'a> {
    user_id: &'a UserId,
    role: Role,
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<&'a str>,
}

/// A cart as the API shows it: the stored cart plus line totals and the cart total.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CartView<'a> {
    cart_id: CartId,
    owner_id: &'a UserId,
    #[serde(skip_serializing_if = "Option::is_none")]
    owner_name: Option<&'a str>,
    status: Status,
    version: u64,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    currency: crate::money::Currency,
    items: Vec<LineView<'a>>,
    members: Vec<MemberView<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    lock: Option<&'a CheckoutLock>,
    who_may_lock: WhoMayLock,
    total: i64,
}

impl<'a> From<&'a Cart> for CartView<'a> {
    fn from(cart: &'a Cart) -> Self {
        CartView {
            cart_id: cart.cart_id,
            owner_id: &cart.owner_id,
            owner_name: cart.name_of(&cart.owner_id),
            status: cart.status,
            version: cart.version,
            created_at: cart.created_at,
            updated_at: cart.updated_at,
            currency: cart.currency,
            items: cart
                .items
                .iter()
                .map(|l| LineView {
                    item_id: &l.item_id,
                    name: &l.name,
                    quantity: l.quantity.get(),
                    unit_price: l.unit_price,
                    line_total: l.unit_price.saturating_mul(i64::from(l.quantity.get())),
                    added_by: &l.added_by,
                    added_by_name: cart.name_of(&l.added_by),
                })
                .collect(),
            members: cart
                .members
                .iter()
                .map(|m| MemberView {
                    user_id: &m.user_id,
                    role: m.role,
                    name: cart.name_of(&m.user_id),
                })
                .collect(),
            lock: cart.lock.as_ref(),
            who_may_lock: cart.who_may_lock,
            total: cart.total(),
        }
    }
}

/// One row of a member's list of carts.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CartSummary<'a> {
    cart_id: CartId,
    owner_id: &'a UserId,
    #[serde(skip_serializing_if = "Option::is_none")]
    owner_name: Option<&'a str>,
    role: Role,
    status: Status,
    version: u64,
    updated_at: DateTime<Utc>,
    item_count: usize,
    total: i64,
    currency: Currency,
}

impl Cart {
    /// The row for this cart as `user` sees it; `None` if they are not a member.
    pub fn summary_for(&self, user: &UserId) -> Option<CartSummary<'_>> {
        Some(CartSummary {
            cart_id: self.cart_id,
            owner_id: &self.owner_id,
            owner_name: self.name_of(&self.owner_id),
            role: self.role_of(user)?,
            status: self.status,
            version: self.version,
            updated_at: self.updated_at,
            item_count: self.items.len(),
            total: self.total(),
            currency: self.currency,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(id: &str) -> UserId {
        UserId::parse(id).unwrap()
    }

    #[test]
    fn a_display_name_is_cleaned_and_bounded() {
        assert_eq!(
            display_name("  Ann \u{7}Lee \n").as_deref(),
            Some("Ann Lee")
        );
        assert_eq!(
            display_name(&"x".repeat(100)).map(|n| n.chars().count()),
            Some(64)
        );
        assert_eq!(display_name(" \t "), None);
        assert_eq!(
            display_name("Ann\u{202E}eeL\u{200B}").as_deref(),
            Some("AnneeL"),
            "no character that reorders or hides text"
        );
    }

    #[test]
    fn a_cart_keeps_the_names_of_its_members_and_authors_only() {
        let mut cart = Cart::new(CartId::new(), user("ann"), Currency::DEFAULT, Utc::now());
        cart.remember_name(&user("ann"), "Ann");
        cart.remember_name(&user("zed"), "Zed");
        assert_eq!(cart.name_of(&user("ann")), Some("Ann"));
        assert_eq!(
            cart.name_of(&user("zed")),
            None,
            "not a member, wrote no line"
        );
        let view = serde_json::to_value(cart.view()).unwrap();
        assert_eq!(view["ownerName"], "Ann");
        assert_eq!(view["members"][0]["name"], "Ann");
    }
}
