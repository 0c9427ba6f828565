//! RS256 and ES256 tokens of an OIDC issuer, verified against its JSON Web Key Set.
//!
//! The keys are fetched on the first token and kept for [`MAX_KEY_AGE`]: then the set is fetched
//! again, so a key the issuer withdrew stops verifying within that time however long the
//! instance stays warm. A token naming a key the cache does not hold (the issuer rotated its
//! keys) fetches the set again, at most once per [`REFRESH_COOLDOWN`]: a flood of tokens with
//! made-up key ids costs the issuer one request per cooldown, not one per token.
//!
//! The set is fetched over HTTPS only; plain HTTP is accepted for an issuer on loopback (a test,
//! a local identity provider), never across a network where the keys could be swapped.

use crate::{Claims, ConfigError, TokenError, check};
use bytes::Bytes;
use http_body_util::{BodyExt, Empty, Limited};
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use ring::signature::{
    ECDSA_P256_SHA256_FIXED, RSA_PKCS1_2048_8192_SHA256, RsaPublicKeyComponents, UnparsedPublicKey,
};
use serde::Deserialize;
use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

/// The shortest time between two fetches caused by unknown key ids.
pub const REFRESH_COOLDOWN: Duration = Duration::from_secs(30);

/// How long fetched keys are trusted before the set is fetched again.
pub const MAX_KEY_AGE: Duration = Duration::from_secs(60 * 60);

/// How long a fetch of the key set may take: the authorizer's own budget is a few seconds.
const FETCH_DEADLINE: Duration = Duration::from_secs(3);

/// The largest key set accepted; real ones are a few kilobytes.
const MAX_KEY_SET_BYTES: usize = 256 * 1024;

/// One published key, ready to verify with.
#[derive(Debug)]
enum PublicKey {
    /// RSA, for RS256: modulus and exponent, big-endian.
    Rsa { n: Vec<u8>, e: Vec<u8> },
    /// P-256, for ES256: the uncompressed point (`04 || x || y`).
    P256(Vec<u8>),
}

impl PublicKey {
    /// Checks `signature` over `signed` with `alg`, which must be the algorithm the key is for.
    fn verify(&self, alg: &str, signed: &[u8], signature: &[u8]) -> Result<(), TokenError> {
        let verified = match (self, alg) {
            (PublicKey::Rsa { n, e }, "RS256") => RsaPublicKeyComponents { n, e }.verify(
                &RSA_PKCS1_2048_8192_SHA256,
                signed,
                signature,
            ),
            (PublicKey::P256(point), "ES256") => {
                UnparsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, point).verify(signed, signature)
            }
            _ => return Err(TokenError::WrongAlgorithm),
        };
        verified.map_err(|_| TokenError::BadSignature)
    }
}

/// A key as the set publishes it (RFC 7517); fields of other key types are ignored.
#[derive(Deserialize)]
struct Jwk {
    kty: String,
    kid: Option<String>,
    #[serde(rename = "use")]
    usage: Option<String>,
    crv: Option<String>,
    n: Option<String>,
    e: Option<String>,
    x: Option<String>,
    y: Option<String>,
}

#[derive(Deserialize)]
struct KeySet {
    keys: Vec<Jwk>,
}

type Keys = HashMap<String, Arc<PublicKey>>;

/// The signing keys of a key set by id. Keys without an id, for encryption, or of a type this
/// module does not verify are left out.
fn parse_key_set(body: &[u8]) -> Result<Keys, String> {
    let set: KeySet =
        serde_json::from_slice(body).map_err(|e| format!("not a JSON Web Key Set: {e}"))?;
    let decode = |part: &Option<String>| part.as_deref().map(check::decode)?.ok();
    let mut keys = Keys::new();
    for jwk in set.keys {
        if jwk.usage.as_deref().is_some_and(|usage| usage != "sig") {
            continue;
        }
        let key = match (jwk.kty.as_str(), jwk.crv.as_deref()) {
            ("RSA", _) => match (decode(&jwk.n), decode(&jwk.e)) {
                (Some(n), Some(e)) => PublicKey::Rsa { n, e },
                _ => continue,
            },
            ("EC", Some("P-256")) => match (decode(&jwk.x), decode(&jwk.y)) {
                (Some(x), Some(y)) if x.len() == 32 && y.len() == 32 => {
                    PublicKey::P256([&[4][..], &x, &y].concat())
                }
                _ => continue,
            },
            _ => continue,
        };
        if let Some(kid) = jwk.kid {
            keys.insert(kid, Arc::new(key));
        }
    }
    Ok(keys)
}

/// Verifies an issuer's RS256 and ES256 tokens with the keys it publishes at a JWKS address.
pub struct Jwks {
    url: String,
    issuer: String,
    audience: String,
    keys: RwLock<Arc<Keys>>,
    /// Held while the set is fetched, so two fetches never run at once.
    fetching: tokio::sync::Mutex<()>,
    /// When the keys in `keys` were fetched.
    keys_from: RwLock<Option<Instant>>,
    /// When renewing old keys last failed (the issuer was down).
    renewal_failed: RwLock<Option<Instant>>,
    cooldown: Duration,
    max_age: Duration,
    client: Client<HttpsConnector<HttpConnector>, Empty<Bytes>>,
}

impl std::fmt::Debug for Jwks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Jwks")
            .field("url", &self.url)
            .field("issuer", &self.issuer)
            .field("audience", &self.audience)
            .finish()
    }
}

impl Jwks {
    /// A verifier of `issuer`'s tokens for `audience`, with the keys at `url` (`https://`, or
    /// `http://` for an issuer on loopback). Nothing is fetched until the first token.
    pub fn new(
        url: impl Into<String>,
        issuer: impl Into<String>,
        audience: impl Into<String>,
    ) -> Result<Self, ConfigError> {
        let url = url.into();
        if !fetchable(&url) {
            return Err(ConfigError {
                variable: "JWT_JWKS_URL",
                problem: "must be an https:// address (http:// only for an issuer on loopback)",
            });
        }
        let connector = tls::https_connector().map_err(|_| ConfigError {
            variable: "JWT_JWKS_URL",
            problem: "no TLS settings could be built to fetch it",
        })?;
        Ok(Self {
            url,
            issuer: issuer.into(),
            audience: audience.into(),
            keys: RwLock::default(),
            fetching: tokio::sync::Mutex::new(()),
            keys_from: RwLock::default(),
            renewal_failed: RwLock::default(),
            cooldown: REFRESH_COOLDOWN,
            max_age: MAX_KEY_AGE,
            client: Client::builder(TokioExecutor::new()).build(connector),
        })
    }

    /// The same verifier, fetching again for an unknown key at most once per `cooldown`.
    pub fn with_refresh_cooldown(mut self, cooldown: Duration) -> Self {
        self.cooldown = cooldown;
        self
    }

    /// The same verifier, trusting fetched keys for `max_age` rather than [`MAX_KEY_AGE`].
    pub fn with_max_key_age(mut self, max_age: Duration) -> Self {
        self.max_age = max_age;
        self
    }

    /// The issuer tokens must name.
    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// The claims of `token` if the issuer signed it, for our audience, valid at `now`.
    pub async fn verify(&self, token: &str, now: i64) -> Result<Claims, TokenError> {
        let parts = check::split(token)?;
        let alg = parts.header.alg.as_str();
        if !matches!(alg, "RS256" | "ES256") {
            return Err(TokenError::WrongAlgorithm);
        }
        let kid = parts.header.kid.as_deref().ok_or(TokenError::UnknownKey)?;
        if self.keys_are_old() {
            self.renew().await;
        }
        let key = match self.cached(kid) {
            Some(key) => key,
            None => {
                self.refresh(kid).await?;
                self.cached(kid).ok_or(TokenError::UnknownKey)?
            }
        };
        key.verify(alg, parts.signed, &parts.signature)?;
        check::claims(parts.payload, &self.issuer, &self.audience, now)
    }

    fn cached(&self, kid: &str) -> Option<Arc<PublicKey>> {
        let keys = self.keys.read().unwrap_or_else(|p| p.into_inner());
        keys.get(kid).cloned()
    }

    /// How long ago the cached keys were fetched, if they were.
    fn keys_age(&self) -> Option<Duration> {
        let from = *self.keys_from.read().unwrap_or_else(|p| p.into_inner());
        from.map(|at| at.elapsed())
    }

    fn keys_are_old(&self) -> bool {
        self.keys_age().is_some_and(|age| age >= self.max_age)
    }

    /// Fetches the set again because the cached keys are older than the maximum age, unless
    /// another request just did, or tried within the cooldown. If the issuer cannot be reached the
    /// old keys stay, for now: refusing every user while the issuer is down protects nothing a
    /// fetch could have told, and trying again on every request would stall each of them.
    async fn renew(&self) {
        let _fetching = self.fetching.lock().await;
        let failed = *self
            .renewal_failed
            .read()
            .unwrap_or_else(|p| p.into_inner());
        if !self.keys_are_old() || failed.is_some_and(|at| at.elapsed() < self.cooldown) {
            return;
        }
        match self.fetch().await {
            Ok(keys) => {
                tracing::info!(url = %self.url, keys = keys.len(), "fetched the issuer's keys again");
                self.store(keys);
            }
            Err(e) => {
                tracing::warn!(url = %self.url, error = %e, "kept keys past their age");
                *self
                    .renewal_failed
                    .write()
                    .unwrap_or_else(|p| p.into_inner()) = Some(Instant::now());
            }
        }
    }

    fn store(&self, keys: Keys) {
        *self.keys.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(keys);
        *self.keys_from.write().unwrap_or_else(|p| p.into_inner()) = Some(Instant::now());
    }

    /// Fetches the set because `kid` is not in the cache, unless another request just did or
    /// the cooldown has not passed.
    async fn refresh(&self, kid: &str) -> Result<(), TokenError> {
        let _fetching = self.fetching.lock().await;
        if self.cached(kid).is_some() {
            return Ok(());
        }
        if self.keys_age().is_some_and(|age| age < self.cooldown) {
            return Err(TokenError::UnknownKey);
        }
        let keys = self.fetch().await.map_err(TokenError::KeysUnavailable)?;
        tracing::info!(url = %self.url, keys = keys.len(), "fetched the issuer's keys");
        self.store(keys);
        Ok(())
    }

    async fn fetch(&self) -> Result<Keys, String> {
        let request = http::Request::get(&self.url)
            .header(http::header::ACCEPT, "application/json")
            .body(Empty::new())
            .map_err(|e| format!("{}: {e}", self.url))?;
        let response = tokio::time::timeout(FETCH_DEADLINE, self.client.request(request))
            .await
            .map_err(|_| format!("{} did not answer in {FETCH_DEADLINE:?}", self.url))?
            .map_err(|e| format!("{}: {e}", self.url))?;
        if !response.status().is_success() {
            return Err(format!("{} answered {}", self.url, response.status()));
        }
        let body = tokio::time::timeout(
            FETCH_DEADLINE,
            Limited::new(response.into_body(), MAX_KEY_SET_BYTES).collect(),
        )
        .await
        .map_err(|_| format!("{} did not finish its answer", self.url))?
        .map_err(|e| format!("{}: {e}", self.url))?
        .to_bytes();
        parse_key_set(&body)
    }
}

/// Whether keys may be fetched from `url`: HTTPS, or HTTP to a loopback host.
fn fetchable(url: &str) -> bool {
    let Ok(parsed) = url::Url::parse(url) else {
        return false;
    };
    match (parsed.scheme(), parsed.host()) {
        ("https", Some(_)) => true,
        ("http", Some(url::Host::Domain(name))) => name == "localhost",
        ("http", Some(url::Host::Ipv4(ip))) => ip.is_loopback(),
        ("http", Some(url::Host::Ipv6(ip))) => ip.is_loopback(),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_come_over_https_or_from_loopback_only() {
        for url in [
            "https://cognito-idp.eu-west-1.amazonaws.com/pool/.well-known/jwks.json",
            "http://127.0.0.1:8080/jwks.json",
            "http://[::1]/jwks.json",
            "http://localhost/jwks.json",
        ] {
            assert!(fetchable(url), "{url}");
        }
        for url in [
            "http://issuer.example/jwks.json",
            "http://10.0.0.1/jwks.json",
            "http://localhost.example/jwks.json",
            "ftp://issuer.example/jwks.json",
            "not a url",
        ] {
            assert!(!fetchable(url), "{url}");
        }
    }

    #[test]
    fn a_key_set_keeps_signing_keys_it_can_verify_with() {
        let set = br#"{"keys":[
            {"kty":"RSA","kid":"r","alg":"RS256","use":"sig","n":"AQAB","e":"AQAB"},
            {"kty":"RSA","kid":"enc","use":"enc","n":"AQAB","e":"AQAB"},
            {"kty":"EC","kid":"short","crv":"P-256","x":"AQAB","y":"AQAB"},
            {"kty":"OKP","kid":"ed","crv":"Ed25519","x":"AQAB"},
            {"kty":"RSA","n":"AQAB","e":"AQAB"}
        ]}"#;
        let keys = parse_key_set(set).unwrap();
        assert_eq!(keys.keys().collect::<Vec<_>>(), ["r"]);
    }

    #[test]
    fn a_key_is_used_only_with_its_own_algorithm() {
        let rsa = PublicKey::Rsa {
            n: vec![1],
            e: vec![1],
        };
        assert_eq!(
            rsa.verify("ES256", b"", b""),
            Err(TokenError::WrongAlgorithm)
        );
        assert_eq!(
            PublicKey::P256(vec![4]).verify("RS256", b"", b""),
            Err(TokenError::WrongAlgorithm)
        );
    }

    #[test]
    fn garbage_is_not_a_key_set() {
        assert!(parse_key_set(b"<html>").is_err());
    }
}
