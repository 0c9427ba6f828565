//! The directory: who a user is beyond their id. Each user's profile (display name, verified
//! email, user name) is kept from their token's claims when they sign in (`GET /me`), so an
//! owner may share a cart by email or user name with someone the directory knows. A handle that
//! names nobody, or more than one user, finds nobody: sharing never guesses.

use crate::ValidationError;
use crate::ids::UserId;
use crate::ports::StoreError;
use async_trait::async_trait;
use serde::{Deserialize, Serialize};

/// The longest email address (RFC 5321's path limit).
pub const MAX_EMAIL_LEN: usize = 254;

/// An email address, lower-cased so that `Ann@Example.com` and `ann@example.com` find the same
/// user (the local part is case-sensitive only in theory; every common provider ignores case).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Email(String);

impl Email {
    /// Parses an address: one `@` with something on each side, at most [`MAX_EMAIL_LEN`]
    /// characters, no spaces or control characters.
    pub fn parse(field: &'static str, raw: &str) -> Result<Self, ValidationError> {
        let trimmed = raw.trim();
        let valid = trimmed.len() <= MAX_EMAIL_LEN
            && !trimmed.chars().any(|c| c.is_whitespace() || c.is_control())
            && matches!(trimmed.split_once('@'), Some((local, domain))
                if !local.is_empty() && !domain.is_empty() && !domain.contains('@'));
        if !valid {
            return Err(ValidationError::new(
                field,
                "must be an email address such as dana@example.com",
            ));
        }
        Ok(Self(trimmed.to_lowercase()))
    }

    /// The address as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A user name as the directory matches it: trimmed and lower-cased.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct UserName(String);

impl UserName {
    /// Parses a user name: 1 to 128 characters, no spaces or control characters.
    pub fn parse(field: &'static str, raw: &str) -> Result<Self, ValidationError> {
        let trimmed = raw.trim();
        if trimmed.is_empty()
            || trimmed.chars().count() > UserId::MAX_LEN
            || trimmed.chars().any(|c| c.is_whitespace() || c.is_control())
        {
            return Err(ValidationError::new(
                field,
                format!(
                    "must be a user name of 1 to {} characters without spaces",
                    UserId::MAX_LEN
                ),
            ));
        }
        Ok(Self(trimmed.to_lowercase()))
    }

    /// The name as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// What the directory keeps of a user.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Profile {
    /// The user.
    pub user_id: UserId,
    /// Their display name, if their token had one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Their verified email, if their token had one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<Email>,
    /// Their user name, if their token had one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_name: Option<UserName>,
}

/// How someone is named when a cart is shared with them.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Handle {
    /// By verified email.
    Email(Email),
    /// By user name.
    UserName(UserName),
}

impl std::fmt::Display for Handle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Handle::Email(email) => f.write_str(email.as_str()),
            Handle::UserName(name) => f.write_str(name.as_str()),
        }
    }
}

/// Where profiles are kept: a DynamoDB table on AWS, the embedded store locally.
#[async_trait]
pub trait Directory: Send + Sync {
    /// Keeps `profile` as its user's, replacing what was kept; its email and user name then
    /// find the user, and the ones it no longer has do not.
    async fn remember(&self, profile: &Profile) -> Result<(), StoreError>;

    /// The user's profile, if they ever signed in.
    async fn profile(&self, user: &UserId) -> Result<Option<Profile>, StoreError>;

    /// The users `handle` names (none, one, or several when two profiles share it).
    async fn find(&self, handle: &Handle) -> Result<Vec<UserId>, StoreError>;
}

/// Whether `profile` is the one `handle` names (for stores that look through profiles).
pub fn names(profile: &Profile, handle: &Handle) -> bool {
    match handle {
        Handle::Email(email) => profile.email.as_ref() == Some(email),
        Handle::UserName(name) => profile.user_name.as_ref() == Some(name),
    }
}

/// The one user `handle` names, if exactly one.
pub async fn find_one(
    directory: &dyn Directory,
    handle: &Handle,
) -> Result<Option<UserId>, StoreError> {
    let mut found = directory.find(handle).await?;
    Ok((found.len() == 1).then(|| found.remove(0)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_email_is_matched_without_case_and_must_look_like_one() {
        assert_eq!(
            Email::parse("email", " Dana@Example.COM ")
                .map(|e| e.0)
                .ok(),
            Some("dana@example.com".to_owned())
        );
        for bad in [
            "",
            "dana",
            "@example.com",
            "dana@",
            "da na@example.com",
            "a@b@c",
        ] {
            assert!(Email::parse("email", bad).is_err(), "{bad}");
        }
        assert!(Email::parse("email", &format!("{}@example.com", "a".repeat(250))).is_err());
    }

    #[test]
    fn a_user_name_is_matched_without_case() {
        assert_eq!(
            UserName::parse("userNames", "Dana").map(|n| n.0).ok(),
            Some("dana".to_owned())
        );
        assert!(UserName::parse("userNames", "da na").is_err());
        assert!(UserName::parse("userNames", " ").is_err());
    }
}
