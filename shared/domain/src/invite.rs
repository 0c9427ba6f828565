//! Invite links: a cart's owner hands out a token, and whoever signs in with it joins the cart
//! in the role it grants, until it expires, is revoked or is used up.
//!
//! An invite lives in its cart's record, so a join (the use counted, the member added) is one
//! conditional write: two people racing for an invite's last use cannot both get it. The token
//! names its cart and carries 256 random bits; the record keeps only the bits' SHA-256, so
//! whoever reads the store learns no token that works.

use crate::cart::Role;
use crate::error::ValidationError;
use crate::ids::{CartId, UserId};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// How long an invite lasts unless its creator says otherwise.
pub const DEFAULT_LIFETIME: Duration = Duration::days(7);
/// The longest an invite may last.
pub const MAX_LIFETIME_DAYS: u32 = 30;
/// The most uses one invite may be given.
pub const MAX_USES: u32 = 1000;
/// The most invites a cart keeps open at once (each is about 300 bytes of its record).
pub const MAX_OPEN: usize = 20;

/// Random bytes behind a token: 256 bits, twice the least anyone should accept.
const SECRET_BYTES: usize = 32;

/// One invite, as its cart's record keeps it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Invite {
    /// How the owner names it to list or revoke it: the first 16 hex digits of its hash.
    pub invite_id: String,
    /// SHA-256 of the token's secret as the token writes it (its base64url text), in hex.
    pub secret_hash: String,
    /// The role a user who joins with it gets.
    pub role: Role,
    /// Who created it.
    pub created_by: UserId,
    /// When.
    pub created_at: DateTime<Utc>,
    /// When it stops working.
    pub expires_at: DateTime<Utc>,
    /// How many joins it allows, if limited.
    pub max_uses: Option<u32>,
    /// How many users joined with it.
    pub uses: u32,
    /// Whether the owner revoked it.
    pub revoked: bool,
}

impl Invite {
    /// Whether the invite can still let anyone in at `now`.
    pub fn is_open(&self, now: DateTime<Utc>) -> bool {
        !self.revoked && now < self.expires_at && self.max_uses.is_none_or(|max| self.uses < max)
    }
}

/// What the creator of an invite asks for; every part has a default.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct InviteTerms {
    /// `editor` (the default) or `viewer`.
    pub role: Role,
    /// How long it lasts: 7 days unless set, at most 30.
    pub lifetime: Duration,
    /// How many may join with it; unlimited unless set.
    pub max_uses: Option<u32>,
}

impl Default for InviteTerms {
    fn default() -> Self {
        Self {
            role: Role::Editor,
            lifetime: DEFAULT_LIFETIME,
            max_uses: None,
        }
    }
}

impl InviteTerms {
    /// The terms a request names: `expires_in_days` from 1 to 30, `max_uses` from 1 to 1000.
    pub fn new(
        role: Option<&str>,
        expires_in_days: Option<u64>,
        max_uses: Option<u64>,
    ) -> Result<Self, ValidationError> {
        let role = role.map(Role::parse_grantable).transpose()?;
        let days = match expires_in_days {
            None => None,
            Some(days @ 1..=30) => Some(Duration::days(days as i64)),
            Some(_) => {
                return Err(ValidationError::new(
                    "expiresInDays",
                    format!("must be a whole number of days from 1 to {MAX_LIFETIME_DAYS}"),
                ));
            }
        };
        let max_uses = match max_uses {
            None => None,
            Some(uses @ 1..=1000) => Some(uses as u32),
            Some(_) => {
                return Err(ValidationError::new(
                    "maxUses",
                    format!("must be a whole number from 1 to {MAX_USES}"),
                ));
            }
        };
        let defaults = Self::default();
        Ok(Self {
            role: role.unwrap_or(defaults.role),
            lifetime: days.unwrap_or(defaults.lifetime),
            max_uses,
        })
    }
}

/// A token as handed to the invited: `<cart id>.<secret>`, the secret in unpadded base64url.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InviteToken {
    /// The cart it opens.
    pub cart_id: CartId,
    secret: String,
}

impl InviteToken {
    /// A new token for `cart_id`, from the operating system's secure random source.
    pub fn generate(cart_id: CartId) -> Result<Self, getrandom::Error> {
        let mut bytes = [0u8; SECRET_BYTES];
        getrandom::fill(&mut bytes)?;
        Ok(Self {
            cart_id,
            secret: URL_SAFE_NO_PAD.encode(bytes),
        })
    }

    /// Parses a token from a path; any other shape is the caller's mistake.
    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        let wrong = || ValidationError::new("token", "is not an invite token");
        let (cart, secret) = raw.split_once('.').ok_or_else(wrong)?;
        let cart_id = CartId::parse(cart).map_err(|_| wrong())?;
        let decoded = URL_SAFE_NO_PAD.decode(secret).map_err(|_| wrong())?;
        if decoded.len() != SECRET_BYTES {
            return Err(wrong());
        }
        Ok(Self {
            cart_id,
            secret: secret.to_owned(),
        })
    }

    /// The SHA-256 of the secret's text (base64url) in hex: what the record keeps. The text has
    /// one spelling per secret, since `parse` refuses any other.
    pub fn secret_hash(&self) -> String {
        Sha256::digest(self.secret.as_bytes())
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }

    /// The token as the API hands it out.
    pub fn as_text(&self) -> String {
        format!("{}.{}", self.cart_id, self.secret)
    }
}

/// An invite as its owner lists it, and as its creator gets it (then with its token).
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct InviteView<'a> {
    invite_id: &'a str,
    role: Role,
    created_by: &'a UserId,
    created_at: DateTime<Utc>,
    expires_at: DateTime<Utc>,
    #[serde(skip_serializing_if = "Option::is_none")]
    max_uses: Option<u32>,
    uses: u32,
    state: &'static str,
}

impl Invite {
    /// How the API shows it at `now`: `open`, `expired`, `revoked` or `used_up`.
    pub fn view(&self, now: DateTime<Utc>) -> InviteView<'_> {
        let state = if self.revoked {
            "revoked"
        } else if now >= self.expires_at {
            "expired"
        } else if !self.is_open(now) {
            "used_up"
        } else {
            "open"
        };
        InviteView {
            invite_id: &self.invite_id,
            role: self.role,
            created_by: &self.created_by,
            created_at: self.created_at,
            expires_at: self.expires_at,
            max_uses: self.max_uses,
            uses: self.uses,
            state,
        }
    }
}

/// What someone holding a token sees before joining.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct InvitePreview {
    /// The cart.
    pub cart_id: CartId,
    /// Whose it is.
    pub owner_id: UserId,
    /// The owner's display name, when the cart knows it: the invited may see who invites them.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub owner_name: Option<String>,
    /// The role joining gives.
    pub role: Role,
    /// Until when the invite works.
    pub expires_at: DateTime<Utc>,
    /// How many are in the cart.
    pub member_count: usize,
    /// How many lines it holds.
    pub item_count: usize,
    /// Whether the caller is in it already.
    pub already_member: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_names_its_cart_and_parses_back_and_its_hash_is_not_its_secret() {
        let cart = CartId::new();
        let token = InviteToken::generate(cart).unwrap();
        let parsed = InviteToken::parse(&token.as_text()).unwrap();
        assert_eq!(parsed, token);
        assert_eq!(parsed.cart_id, cart);
        assert_eq!(token.secret_hash().len(), 64);
        assert!(!token.secret_hash().contains(&token.secret));
        assert_ne!(
            InviteToken::generate(cart).unwrap(),
            token,
            "fresh bits each time"
        );
    }

    #[test]
    fn anything_else_is_not_a_token() {
        let cart = CartId::new();
        for raw in [
            String::new(),
            cart.to_string(),
            format!("{cart}."),
            format!("{cart}.short"),
            format!("not-a-cart.{}", "A".repeat(43)),
            format!("{cart}.{}", "A".repeat(44)),
        ] {
            assert!(InviteToken::parse(&raw).is_err(), "{raw}");
        }
    }

    #[test]
    fn terms_default_to_an_editor_for_a_week_and_refuse_what_is_out_of_range() {
        assert_eq!(
            InviteTerms::new(None, None, None).unwrap(),
            InviteTerms::default()
        );
        let viewer = InviteTerms::new(Some("viewer"), Some(30), Some(1000)).unwrap();
        assert_eq!(
            (viewer.role, viewer.lifetime, viewer.max_uses),
            (Role::Viewer, Duration::days(30), Some(1000))
        );
        assert_eq!(
            InviteTerms::new(Some("owner"), None, None)
                .unwrap_err()
                .field,
            "role"
        );
        assert_eq!(
            InviteTerms::new(None, Some(31), None).unwrap_err().field,
            "expiresInDays"
        );
        assert_eq!(
            InviteTerms::new(None, Some(0), None).unwrap_err().field,
            "expiresInDays"
        );
        assert_eq!(
            InviteTerms::new(None, None, Some(0)).unwrap_err().field,
            "maxUses"
        );
        assert_eq!(
            InviteTerms::new(None, None, Some(1001)).unwrap_err().field,
            "maxUses"
        );
    }
}
