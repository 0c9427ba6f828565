//! The verifier the environment configures, read once at cold start:
//!
//! | setting | effect |
//! |---|---|
//! | `JWT_JWKS_URL`, `JWT_ISSUER`, `JWT_AUDIENCE` | RS256/ES256 tokens of that issuer, for that audience, checked with the keys at that address |
//! | `JWT_SECRET` (32 bytes or more), `JWT_ISSUER`, `JWT_AUDIENCE` | otherwise: HS256 with that secret (issuer and audience default to `shared-carts` and `shared-carts-api`) |

use crate::{Claims, ConfigError, Jwks, TokenError, TokenKeys};

/// Checks bearer tokens, one way or the other.
#[derive(Debug)]
pub enum Verifier {
    /// HS256 with a shared secret.
    SharedSecret(TokenKeys),
    /// An OIDC issuer's RS256/ES256 tokens.
    Issuer(Box<Jwks>),
}

impl Verifier {
    /// The verifier the environment configures.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_settings(&|name| std::env::var(name).ok().filter(|v| !v.trim().is_empty()))
    }

    /// The verifier `settings` configure (see the module's table).
    pub fn from_settings(settings: &dyn Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        if let Some(issuer) = Issuer::from_settings(settings)? {
            return Ok(Self::Issuer(Box::new(issuer.verifier()?)));
        }
        let (issuer, audience) = (settings("JWT_ISSUER"), settings("JWT_AUDIENCE"));
        let secret = settings("JWT_SECRET").ok_or(ConfigError {
            variable: "JWT_SECRET",
            problem: "must be set, or JWT_JWKS_URL with JWT_ISSUER and JWT_AUDIENCE",
        })?;
        Ok(Self::SharedSecret(TokenKeys::from_parts(
            secret, issuer, audience,
        )?))
    }

    /// The claims of `token` if it verifies at `now`.
    pub async fn verify(&self, token: &str, now: i64) -> Result<Claims, TokenError> {
        match self {
            Self::SharedSecret(keys) => keys.verify(token, now),
            Self::Issuer(jwks) => jwks.verify(token, now).await,
        }
    }
}

/// An OIDC issuer whose tokens are accepted: `JWT_JWKS_URL`, `JWT_ISSUER`, `JWT_AUDIENCE`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Issuer {
    /// Its JSON Web Key Set's address.
    pub jwks_url: String,
    /// Its `iss`.
    pub issuer: String,
    /// The `aud` tokens must name.
    pub audience: String,
}

impl Issuer {
    /// The issuer `settings` name, or `None` without `JWT_JWKS_URL`.
    pub fn from_settings(
        settings: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Option<Self>, ConfigError> {
        let Some(jwks_url) = settings("JWT_JWKS_URL") else {
            return Ok(None);
        };
        let required = |variable: &'static str| {
            settings(variable).ok_or(ConfigError {
                variable,
                problem: "must be set with JWT_JWKS_URL",
            })
        };
        Ok(Some(Self {
            jwks_url,
            issuer: required("JWT_ISSUER")?,
            audience: required("JWT_AUDIENCE")?,
        }))
    }

    /// A verifier of this issuer's tokens, with its keys fetched on the first token.
    pub fn verifier(&self) -> Result<Jwks, ConfigError> {
        Jwks::new(&self.jwks_url, &self.issuer, &self.audience)
    }
}

impl From<TokenKeys> for Verifier {
    fn from(keys: TokenKeys) -> Self {
        Self::SharedSecret(keys)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let pairs: Vec<(String, String)> = pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        move |name| {
            pairs
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.clone())
        }
    }

    #[test]
    fn a_jwks_address_chooses_the_issuer_and_needs_its_names() {
        let jwks = settings(&[
            (
                "JWT_JWKS_URL",
                "https://issuer.example/.well-known/jwks.json",
            ),
            ("JWT_ISSUER", "https://issuer.example"),
            ("JWT_AUDIENCE", "carts"),
            ("JWT_SECRET", "0123456789abcdef0123456789abcdef"),
        ]);
        assert!(matches!(
            Verifier::from_settings(&jwks),
            Ok(Verifier::Issuer(_))
        ));
        let unnamed = settings(&[("JWT_JWKS_URL", "https://issuer.example/jwks")]);
        assert_eq!(
            Verifier::from_settings(&unnamed).unwrap_err().variable,
            "JWT_ISSUER"
        );
    }

    #[test]
    fn a_secret_alone_is_hs256_and_nothing_is_an_error() {
        let secret = settings(&[("JWT_SECRET", "0123456789abcdef0123456789abcdef")]);
        assert!(matches!(
            Verifier::from_settings(&secret),
            Ok(Verifier::SharedSecret(_))
        ));
        assert!(Verifier::from_settings(&settings(&[])).is_err());
    }
}
