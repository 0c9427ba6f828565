//! JSON Web Tokens, just what the authorizer needs.
//!
//! - [`TokenKeys`]: HS256 with a shared secret. The local stack issues these, and a deployment
//!   without an identity provider can use them.
//! - [`Jwks`]: RS256 and ES256 tokens of an OIDC issuer (a Cognito user pool, or any other),
//!   verified against the issuer's published keys, cached across invocations and fetched again
//!   when a token names a key the cache does not hold.
//! - [`Verifier`]: whichever of the two the environment configures.
//!
//! Every path checks the signature, the algorithm (never `none`, never one the key was not made
//! for), the issuer, the audience and the lifetime. The signatures are `ring`'s, which TLS
//! already links, instead of a general JOSE library: the authorizer's package stays small and
//! its cold start short.

mod check;
mod jwks;
mod shared_secret;
mod verifier;

pub use jwks::{Jwks, REFRESH_COOLDOWN};
pub use shared_secret::TokenKeys;
pub use verifier::{Issuer, Verifier};

use serde::{Deserialize, Serialize};

/// Seconds of clock skew tolerated on `exp` and `nbf`.
pub const LEEWAY_SECS: i64 = 30;

/// The scope that allows stock updates.
pub const ADMIN_SCOPE: &str = "admin";

/// What a token says about its bearer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    /// The user's id.
    pub sub: String,
    /// A display name, if the issuer knows one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The user's email, only when the issuer verified it (`email_verified`): an unverified
    /// address is whatever someone typed, and must find nobody.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// Whether `email` was verified; a token this crate signs says so for the email it carries.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub email_verified: bool,
    /// The name the user signs in with: Cognito's `cognito:username`, unique in its pool, when
    /// it is not the `sub`. Not `preferred_username`, which users may set to anything, another
    /// user's name included.
    #[serde(
        default,
        rename = "cognito:username",
        skip_serializing_if = "Option::is_none"
    )]
    pub user_name: Option<String>,
    /// Space-separated scopes, OAuth style (`admin`).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub scope: String,
    /// Who issued it.
    pub iss: String,
    /// Who it is for.
    pub aud: String,
    /// Issued at, seconds since the epoch.
    #[serde(default)]
    pub iat: i64,
    /// Expires at, seconds since the epoch.
    pub exp: i64,
    /// Not valid before, seconds since the epoch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nbf: Option<i64>,
}

impl Claims {
    /// The scopes as a list.
    pub fn scopes(&self) -> impl Iterator<Item = &str> {
        self.scope.split_ascii_whitespace()
    }
}

/// Why a token was refused. Callers answer all but [`TokenError::KeysUnavailable`] with 401;
/// the variant is for logs.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    /// Not three base64url parts of JSON.
    #[error("the token is not a well-formed JWT")]
    Malformed,
    /// Signed with an algorithm this verifier does not accept (`none` included), or one its
    /// key was not made for.
    #[error("the token's algorithm is not one this verifier accepts")]
    WrongAlgorithm,
    /// The signature does not match the key.
    #[error("the token's signature does not verify")]
    BadSignature,
    /// The token names a key (`kid`) the issuer does not publish.
    #[error("the token names a key the issuer does not publish")]
    UnknownKey,
    /// Past its `exp`.
    #[error("the token has expired")]
    Expired,
    /// Before its `nbf`.
    #[error("the token is not valid yet")]
    NotYetValid,
    /// Issued by someone else.
    #[error("the token was issued by someone else")]
    WrongIssuer,
    /// Meant for another audience.
    #[error("the token is meant for another audience")]
    WrongAudience,
    /// The issuer's keys could not be fetched: not the token's fault (a 500, not a 401).
    #[error("the issuer's keys could not be fetched: {0}")]
    KeysUnavailable(String),
}

/// A token could not be configured.
#[derive(Debug, thiserror::Error)]
#[error("{variable}: {problem}")]
pub struct ConfigError {
    /// The environment variable at fault.
    pub variable: &'static str,
    /// What is wrong with it.
    pub problem: &'static str,
}
