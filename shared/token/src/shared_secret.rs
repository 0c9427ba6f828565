//! HS256 with a shared secret: the tokens the local stack issues, and a deployment's choice when
//! it has no identity provider. A dozen lines of HMAC.

use crate::{Claims, ConfigError, TokenError, check};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use serde::Serialize;
use sha2::Sha256;

/// The header of the tokens this module signs.
#[derive(Serialize)]
struct SigningHeader {
    alg: &'static str,
    typ: &'static str,
}

/// The key and the expected issuer and audience: everything needed to issue and verify.
#[derive(Clone)]
pub struct TokenKeys {
    secret: Vec<u8>,
    issuer: String,
    audience: String,
}

impl std::fmt::Debug for TokenKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print the secret.
        f.debug_struct("TokenKeys")
            .field("issuer", &self.issuer)
            .field("audience", &self.audience)
            .finish()
    }
}

impl TokenKeys {
    /// The shortest secret accepted, in bytes: HS256 wants at least the hash's size.
    pub const MIN_SECRET_LEN: usize = 32;

    /// Keys for `secret`, issuing and accepting tokens from `issuer` for `audience`.
    pub fn new(
        secret: impl Into<Vec<u8>>,
        issuer: impl Into<String>,
        audience: impl Into<String>,
    ) -> Self {
        Self {
            secret: secret.into(),
            issuer: issuer.into(),
            audience: audience.into(),
        }
    }

    /// Reads `JWT_SECRET` (required, at least 32 bytes), `JWT_ISSUER` and `JWT_AUDIENCE`.
    pub fn from_env() -> Result<Self, ConfigError> {
        let secret = std::env::var("JWT_SECRET").map_err(|_| ConfigError {
            variable: "JWT_SECRET",
            problem: "must be set",
        })?;
        Self::from_parts(
            secret,
            std::env::var("JWT_ISSUER").ok(),
            std::env::var("JWT_AUDIENCE").ok(),
        )
    }

    /// Keys from a secret and optional issuer and audience (defaults: `shared-carts`,
    /// `shared-carts-api`), checking the secret's length.
    pub fn from_parts(
        secret: String,
        issuer: Option<String>,
        audience: Option<String>,
    ) -> Result<Self, ConfigError> {
        if secret.len() < Self::MIN_SECRET_LEN {
            return Err(ConfigError {
                variable: "JWT_SECRET",
                problem: "must be at least 32 bytes",
            });
        }
        Ok(Self::new(
            secret,
            issuer.unwrap_or_else(|| "shared-carts".into()),
            audience.unwrap_or_else(|| "shared-carts-api".into()),
        ))
    }

    /// The issuer tokens must name.
    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// The audience tokens must name.
    pub fn audience(&self) -> &str {
        &self.audience
    }

    fn mac(&self) -> Hmac<Sha256> {
        // HMAC accepts keys of any length; this cannot fail.
        Hmac::<Sha256>::new_from_slice(&self.secret)
            .unwrap_or_else(|_| unreachable!("HMAC takes any key length"))
    }

    /// Signs `claims` as a compact HS256 JWT.
    pub fn sign(&self, claims: &Claims) -> String {
        let header = SigningHeader {
            alg: "HS256",
            typ: "JWT",
        };
        let signing_input = format!("{}.{}", encode_part(&header), encode_part(claims));
        let mut mac = self.mac();
        mac.update(signing_input.as_bytes());
        let signature = URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes());
        format!("{signing_input}.{signature}")
    }

    /// A token for `sub` with `scopes`, valid for `ttl_secs` from `now`.
    pub fn issue(
        &self,
        sub: &str,
        name: Option<&str>,
        scopes: &[&str],
        now: i64,
        ttl_secs: i64,
    ) -> String {
        self.sign(&Claims {
            sub: sub.to_owned(),
            name: name.map(str::to_owned),
            email: None,
            email_verified: false,
            user_name: None,
            scope: scopes.join(" "),
            iss: self.issuer.clone(),
            aud: self.audience.clone(),
            iat: now,
            exp: now + ttl_secs,
            nbf: None,
        })
    }

    /// The claims of `token` if it is ours, for our audience, and valid at `now`.
    pub fn verify(&self, token: &str, now: i64) -> Result<Claims, TokenError> {
        let parts = check::split(token)?;
        if parts.header.alg != "HS256" {
            return Err(TokenError::WrongAlgorithm);
        }
        let mut mac = self.mac();
        mac.update(parts.signed);
        // verify_slice compares in constant time.
        mac.verify_slice(&parts.signature)
            .map_err(|_| TokenError::BadSignature)?;
        check::claims(parts.payload, &self.issuer, &self.audience, now)
    }
}

/// One base64url JSON part of a token.
fn encode_part(value: &impl Serialize) -> String {
    // Plain structs of strings and integers always serialize.
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(value).unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::LEEWAY_SECS;

    const NOW: i64 = 1_800_000_000;

    fn keys() -> TokenKeys {
        TokenKeys::new(
            "0123456789abcdef0123456789abcdef",
            "shared-carts",
            "shared-carts-api",
        )
    }

    #[test]
    fn an_issued_token_verifies_with_its_claims() {
        let token = keys().issue("alice", Some("Alice"), &["admin"], NOW, 3600);
        let claims = keys().verify(&token, NOW + 10).unwrap();
        assert_eq!(claims.sub, "alice");
        assert_eq!(claims.scopes().collect::<Vec<_>>(), ["admin"]);
    }

    #[test]
    fn an_expired_token_is_refused() {
        let token = keys().issue("alice", None, &[], NOW, 60);
        assert_eq!(
            keys().verify(&token, NOW + 60 + LEEWAY_SECS + 1),
            Err(TokenError::Expired)
        );
    }

    #[test]
    fn a_forged_signature_is_refused() {
        let other = TokenKeys::new(
            "another-secret-another-secret-xx",
            "shared-carts",
            "shared-carts-api",
        );
        let token = other.issue("alice", None, &[], NOW, 60);
        assert_eq!(keys().verify(&token, NOW), Err(TokenError::BadSignature));
    }

    #[test]
    fn a_token_for_another_audience_is_refused() {
        let other = TokenKeys::new(
            "0123456789abcdef0123456789abcdef",
            "shared-carts",
            "someone-else",
        );
        assert_eq!(
            keys().verify(&other.issue("alice", None, &[], NOW, 60), NOW),
            Err(TokenError::WrongAudience)
        );
    }

    #[test]
    fn alg_none_is_refused() {
        let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"none"}"#);
        let token = keys().issue("alice", None, &[], NOW, 60);
        let payload = token.split('.').nth(1).unwrap();
        assert_eq!(
            keys().verify(&format!("{header}.{payload}."), NOW),
            Err(TokenError::WrongAlgorithm)
        );
    }

    #[test]
    fn a_tampered_payload_is_refused() {
        let token = keys().issue("alice", None, &[], NOW, 60);
        let mut parts: Vec<&str> = token.split('.').collect();
        let forged = URL_SAFE_NO_PAD.encode(
            br#"{"sub":"mallory","iss":"shared-carts","aud":"shared-carts-api","iat":0,"exp":9999999999,"scope":"admin"}"#,
        );
        parts[1] = &forged;
        assert_eq!(
            keys().verify(&parts.join("."), NOW),
            Err(TokenError::BadSignature)
        );
    }

    #[test]
    fn garbage_is_malformed_not_a_panic() {
        for junk in ["", ".", "..", "a.b.c", "a.b.c.d", "ä.ö.ü"] {
            assert!(keys().verify(junk, NOW).is_err(), "{junk}");
        }
    }

    #[test]
    fn short_secrets_are_refused_at_startup() {
        assert!(TokenKeys::from_parts("short".into(), None, None).is_err());
    }
}
