//! Identifiers, parsed once at the edge so the rest of the code never sees an unchecked string.

use crate::error::ValidationError;
use serde::{Deserialize, Serialize};
use std::fmt;

/// A cart's id: a UUID, always written in its lowercase hyphenated form.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct CartId(uuid::Uuid);

impl CartId {
    /// A fresh id for a new cart: a UUIDv7, time-ordered, so the carts being edited now (mostly
    /// recent ones) sit side by side in ordered stores instead of on random pages.
    pub fn new() -> Self {
        Self(uuid::Uuid::now_v7())
    }

    /// Parses the hyphenated UUID form that the API hands out.
    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        // Only the canonical 36-character form: ids are compared as strings in URLs and caches.
        if raw.len() != 36 {
            return Err(ValidationError::new(
                "cartId",
                "must be a UUID such as 3f2b8c1e-0d4a-4c6e-9a51-2b7d0e8f9c10",
            ));
        }
        uuid::Uuid::parse_str(raw).map(Self).map_err(|_| {
            ValidationError::new(
                "cartId",
                "must be a UUID such as 3f2b8c1e-0d4a-4c6e-9a51-2b7d0e8f9c10",
            )
        })
    }
}

impl Default for CartId {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Display for CartId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.hyphenated().fmt(f)
    }
}

/// Checks the shape shared by user and item ids: 1..=max characters of `[A-Za-z0-9._@-]`.
///
/// The alphabet is what survives a URL path segment, a Kafka key and a CQL text column unescaped.
fn check_token(field: &'static str, raw: &str, max: usize) -> Result<(), ValidationError> {
    let allowed = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '@' | '-');
    if raw.is_empty() || raw.len() > max || !raw.chars().all(allowed) {
        return Err(ValidationError::new(
            field,
            format!("must be 1 to {max} characters of letters, digits, '.', '_', '@' or '-'"),
        ));
    }
    Ok(())
}

/// A user's id, the `sub` of their token.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct UserId(String);

impl UserId {
    /// The longest user id accepted.
    pub const MAX_LEN: usize = 128;

    /// Parses a user id, naming `field` in the error.
    pub fn parse_field(field: &'static str, raw: &str) -> Result<Self, ValidationError> {
        check_token(field, raw, Self::MAX_LEN)?;
        Ok(Self(raw.to_owned()))
    }

    /// Parses a user id.
    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        Self::parse_field("userId", raw)
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for UserId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// An item's id in the catalog.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ItemId(String);

impl ItemId {
    /// The longest item id accepted.
    pub const MAX_LEN: usize = 64;

    /// Parses an item id.
    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        check_token("itemId", raw, Self::MAX_LEN)?;
        Ok(Self(raw.to_owned()))
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ItemId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cart_id_round_trips_through_its_text_form() {
        let id = CartId::new();
        assert_eq!(CartId::parse(&id.to_string()), Ok(id));
    }

    #[test]
    fn cart_id_rejects_non_canonical_forms() {
        assert!(CartId::parse("not-a-uuid").is_err());
        assert!(CartId::parse("3f2b8c1e0d4a4c6e9a512b7d0e8f9c10").is_err());
    }

    #[test]
    fn user_id_rejects_slashes_spaces_and_empty() {
        for bad in ["", "a b", "a/b", &"x".repeat(129)] {
            assert!(UserId::parse(bad).is_err(), "{bad:?} should be rejected");
        }
        assert!(UserId::parse("alice@example.com").is_ok());
    }

    #[test]
    fn item_id_is_limited_to_64_characters() {
        assert!(ItemId::parse(&"i".repeat(64)).is_ok());
        assert!(ItemId::parse(&"i".repeat(65)).is_err());
    }
}
