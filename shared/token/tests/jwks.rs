//! RS256 and ES256 tokens checked against a JWKS served on 127.0.0.1, as an OIDC issuer (a
//! Cognito user pool) serves it: signature, algorithm, issuer, audience and expiry; the keys
//! cached across tokens and fetched again for an unknown key id, at most once per cooldown.
//!
//! The ES256 key pair is generated for each run; the RSA one (`keys/rsa-2048.pk8`, which `ring`
//! cannot generate) was generated for these tests with `openssl genpkey` and signs nothing else.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use bytes::Bytes;
use http_body_util::Full;
use ring::rand::SystemRandom;
use ring::signature::{
    ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair, RSA_PKCS1_SHA256, RsaKeyPair,
    RsaPublicKeyComponents,
};
use serde_json::json;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use token::{Jwks, TokenError};

const ISSUER: &str = "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Example";
const AUDIENCE: &str = "shared-carts-web";
const NOW: i64 = 1_800_000_000;

/// A signing key and the JWK that publishes it.
enum Signer {
    Rsa(RsaKeyPair),
    Ec(EcdsaKeyPair),
}

struct Key {
    kid: &'static str,
    signer: Signer,
}

impl Key {
    fn rsa(kid: &'static str) -> Self {
        let der = std::fs::read(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/keys/rsa-2048.pk8"
        ))
        .expect("the test RSA key");
        Self {
            kid,
            signer: Signer::Rsa(RsaKeyPair::from_pkcs8(&der).expect("a PKCS#8 RSA key")),
        }
    }

    fn ec(kid: &'static str) -> Self {
        let rng = SystemRandom::new();
        let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng)
            .expect("a fresh P-256 key");
        let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref(), &rng)
            .expect("the key just made");
        Self {
            kid,
            signer: Signer::Ec(pair),
        }
    }

    fn jwk(&self) -> serde_json::Value {
        let b64 = |bytes: &[u8]| URL_SAFE_NO_PAD.encode(bytes);
        match &self.signer {
            Signer::Rsa(pair) => {
                let public = RsaPublicKeyComponents::<Vec<u8>>::from(pair.public());
                json!({
                    "kty": "RSA", "alg": "RS256", "use": "sig", "kid": self.kid,
                    "n": b64(&public.n), "e": b64(&public.e),
                })
            }
            Signer::Ec(pair) => {
                let point = pair.public_key().as_ref();
                json!({
                    "kty": "EC", "crv": "P-256", "use": "sig", "kid": self.kid,
                    "x": b64(&point[1..33]), "y": b64(&point[33..65]),
                })
            }
        }
    }

    fn alg(&self) -> &'static str {
        match self.signer {
            Signer::Rsa(_) => "RS256",
            Signer::Ec(_) => "ES256",
        }
    }

    /// A token with `claims`, signed by this key under `alg` (normally its own).
    fn sign_as(&self, alg: &str, claims: &serde_json::Value) -> String {
        let header = json!({"alg": alg, "kid": self.kid, "typ": "JWT"});
        let input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header.to_string()),
            URL_SAFE_NO_PAD.encode(claims.to_string())
        );
        let rng = SystemRandom::new();
        let signature = match &self.signer {
            Signer::Rsa(pair) => {
                let mut signature = vec![0; pair.public().modulus_len()];
                pair.sign(&RSA_PKCS1_SHA256, &rng, input.as_bytes(), &mut signature)
                    .expect("RSA signs");
                signature
            }
            Signer::Ec(pair) => pair
                .sign(&rng, input.as_bytes())
                .expect("ECDSA signs")
                .as_ref()
                .to_vec(),
        };
        format!("{input}.{}", URL_SAFE_NO_PAD.encode(signature))
    }

    fn sign(&self, claims: &serde_json::Value) -> String {
        self.sign_as(self.alg(), claims)
    }
}

fn claims() -> serde_json::Value {
    json!({
        "sub": "0b7e6f5c-alice", "name": "Alice", "iss": ISSUER, "aud": AUDIENCE,
        "iat": NOW, "exp": NOW + 3600, "token_use": "id", "cognito:groups": ["admin"],
    })
}

/// An issuer's JWKS address on 127.0.0.1, serving whatever `published` holds, counting fetches.
/// When `down`, it answers 503.
struct Issuer {
    url: String,
    published: Arc<Mutex<serde_json::Value>>,
    fetches: Arc<AtomicUsize>,
    down: Arc<std::sync::atomic::AtomicBool>,
}

impl Issuer {
    async fn start(keys: &[&Key]) -> Self {
        let published = Arc::new(Mutex::new(json!({"keys": []})));
        let fetches = Arc::new(AtomicUsize::new(0));
        let down = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("a loopback port");
        let url = format!(
            "http://{}/.well-known/jwks.json",
            listener.local_addr().expect("bound")
        );
        let (serving, counting, failing) = (published.clone(), fetches.clone(), down.clone());
        tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    return;
                };
                let (serving, counting, failing) =
                    (serving.clone(), counting.clone(), failing.clone());
                tokio::spawn(async move {
                    let service = hyper::service::service_fn(move |_request| {
                        counting.fetch_add(1, Ordering::SeqCst);
                        let body = serving.lock().expect("the key set").to_string();
                        let mut response = hyper::Response::new(Full::new(Bytes::from(body)));
                        if failing.load(Ordering::SeqCst) {
                            *response.status_mut() = hyper::StatusCode::SERVICE_UNAVAILABLE;
                        }
                        async move { Ok::<_, std::convert::Infallible>(response) }
                    });
                    let io = hyper_util::rt::TokioIo::new(stream);
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(io, service)
                        .await;
                });
            }
        });
        let issuer = Self {
            url,
            published,
            fetches,
            down,
        };
        issuer.publish(keys);
        issuer
    }

    fn publish(&self, keys: &[&Key]) {
        let jwks = keys.iter().map(|k| k.jwk()).collect::<Vec<_>>();
        *self.published.lock().expect("the key set") = json!({ "keys": jwks });
    }

    fn go_down(&self) {
        self.down.store(true, Ordering::SeqCst);
    }

    fn verifier(&self) -> Jwks {
        Jwks::new(&self.url, ISSUER, AUDIENCE).expect("a verifier")
    }

    fn fetches(&self) -> usize {
        self.fetches.load(Ordering::SeqCst)
    }
}

#[tokio::test]
async fn rs256_and_es256_tokens_of_the_issuer_verify_with_their_claims() {
    let (rsa, ec) = (Key::rsa("rsa-1"), Key::ec("ec-1"));
    let issuer = Issuer::start(&[&rsa, &ec]).await;
    let jwks = issuer.verifier();
    for key in [&rsa, &ec] {
        let claims = jwks.verify(&key.sign(&claims()), NOW).await.unwrap();
        assert_eq!(claims.sub, "0b7e6f5c-alice");
        assert_eq!(claims.name.as_deref(), Some("Alice"));
        assert_eq!(claims.scopes().collect::<Vec<_>>(), ["admin"]);
    }
    assert_eq!(issuer.fetches(), 1, "the keys are fetched once and cached");
}

#[tokio::test]
async fn wrong_issuer_audience_expiry_or_signature_are_refused() {
    let (rsa, ec) = (Key::rsa("rsa-1"), Key::ec("ec-1"));
    let issuer = Issuer::start(&[&rsa, &ec]).await;
    let jwks = issuer.verifier();
    let with = |field: &str, value: serde_json::Value| {
        let mut claims = claims();
        claims[field] = value;
        claims
    };
    let cases = [
        (
            ec.sign(&with("iss", json!("https://elsewhere"))),
            TokenError::WrongIssuer,
        ),
        (
            ec.sign(&with("aud", json!("another-app"))),
            TokenError::WrongAudience,
        ),
        (
            rsa.sign(&with("exp", json!(NOW - 3600))),
            TokenError::Expired,
        ),
        (
            rsa.sign(&with("nbf", json!(NOW + 3600))),
            TokenError::NotYetValid,
        ),
    ];
    for (token, refusal) in cases {
        assert_eq!(jwks.verify(&token, NOW).await, Err(refusal));
    }
    // A key the issuer does not publish, under a kid it does: a forgery.
    let forger = Key {
        kid: "ec-1",
        ..Key::ec("unused")
    };
    assert_eq!(
        jwks.verify(&forger.sign(&claims()), NOW).await,
        Err(TokenError::BadSignature)
    );
    // A payload changed after signing.
    let token = ec.sign(&claims());
    let mut parts: Vec<String> = token.split('.').map(str::to_owned).collect();
    parts[1] = URL_SAFE_NO_PAD.encode(with("sub", json!("mallory")).to_string());
    assert_eq!(
        jwks.verify(&parts.join("."), NOW).await,
        Err(TokenError::BadSignature)
    );
}

#[tokio::test]
async fn an_algorithm_the_key_was_not_made_for_is_refused() {
    let (rsa, ec) = (Key::rsa("rsa-1"), Key::ec("ec-1"));
    let issuer = Issuer::start(&[&rsa, &ec]).await;
    let jwks = issuer.verifier();
    for (key, alg) in [(&rsa, "ES256"), (&ec, "RS256")] {
        assert_eq!(
            jwks.verify(&key.sign_as(alg, &claims()), NOW).await,
            Err(TokenError::WrongAlgorithm)
        );
    }
    for alg in ["HS256", "none", "RS512"] {
        assert_eq!(
            jwks.verify(&rsa.sign_as(alg, &claims()), NOW).await,
            Err(TokenError::WrongAlgorithm),
            "{alg}"
        );
    }
}

#[tokio::test]
async fn a_rotated_key_is_fetched_when_a_token_first_names_it() {
    let (old, new) = (Key::ec("2026-10"), Key::rsa("2026-11"));
    let issuer = Issuer::start(&[&old]).await;
    let jwks = issuer.verifier().with_refresh_cooldown(Duration::ZERO);
    assert!(jwks.verify(&old.sign(&claims()), NOW).await.is_ok());
    issuer.publish(&[&old, &new]);
    let verified = jwks.verify(&new.sign(&claims()), NOW).await.unwrap();
    assert_eq!(verified.sub, "0b7e6f5c-alice");
    assert_eq!(issuer.fetches(), 2);
    assert!(jwks.verify(&old.sign(&claims()), NOW).await.is_ok());
    assert_eq!(issuer.fetches(), 2, "known keys need no fetch");
}

#[tokio::test]
async fn made_up_key_ids_cost_the_issuer_one_fetch_per_cooldown() {
    let known = Key::ec("known");
    let issuer = Issuer::start(&[&known]).await;
    let jwks = issuer.verifier();
    assert!(jwks.verify(&known.sign(&claims()), NOW).await.is_ok());
    for kid in ["a", "b", "c", "d", "e", "f", "g", "h"] {
        let stranger = Key {
            kid,
            ..Key::ec("x")
        };
        assert_eq!(
            jwks.verify(&stranger.sign(&claims()), NOW).await,
            Err(TokenError::UnknownKey)
        );
    }
    assert_eq!(issuer.fetches(), 1);
}

#[tokio::test]
async fn a_key_the_issuer_withdrew_stops_verifying_once_the_cached_keys_are_too_old() {
    let (kept, withdrawn) = (Key::ec("kept"), Key::ec("withdrawn"));
    let issuer = Issuer::start(&[&kept, &withdrawn]).await;
    let jwks = issuer
        .verifier()
        .with_max_key_age(Duration::from_millis(200));
    assert!(jwks.verify(&withdrawn.sign(&claims()), NOW).await.is_ok());
    issuer.publish(&[&kept]);
    assert!(
        jwks.verify(&withdrawn.sign(&claims()), NOW).await.is_ok(),
        "young keys are trusted without a fetch"
    );
    tokio::time::sleep(Duration::from_millis(250)).await;
    assert_eq!(
        jwks.verify(&withdrawn.sign(&claims()), NOW).await,
        Err(TokenError::UnknownKey)
    );
    assert!(jwks.verify(&kept.sign(&claims()), NOW).await.is_ok());
    assert_eq!(issuer.fetches(), 2, "one fetch when the keys grew old");
}

#[tokio::test]
async fn while_the_issuer_is_down_old_keys_still_verify_and_it_is_asked_once_per_cooldown() {
    let key = Key::ec("k");
    let issuer = Issuer::start(&[&key]).await;
    let jwks = issuer
        .verifier()
        .with_max_key_age(Duration::from_millis(100))
        .with_refresh_cooldown(Duration::from_secs(60));
    assert!(jwks.verify(&key.sign(&claims()), NOW).await.is_ok());
    issuer.go_down();
    tokio::time::sleep(Duration::from_millis(150)).await;
    for _ in 0..5 {
        assert!(
            jwks.verify(&key.sign(&claims()), NOW).await.is_ok(),
            "the old keys stay while the issuer cannot be reached"
        );
    }
    assert_eq!(
        issuer.fetches(),
        2,
        "one failed renewal, not one per request"
    );
}

#[test]
fn a_key_set_over_plain_http_is_refused_unless_the_issuer_is_on_loopback() {
    let refused = Jwks::new("http://issuer.example/jwks.json", ISSUER, AUDIENCE).err();
    assert_eq!(refused.map(|e| e.variable), Some("JWT_JWKS_URL"));
    assert!(Jwks::new("http://127.0.0.1:1/jwks.json", ISSUER, AUDIENCE).is_ok());
}

#[tokio::test]
async fn an_issuer_that_cannot_be_reached_is_a_failure_not_a_refusal() {
    let key = Key::ec("k");
    let jwks = Jwks::new("http://127.0.0.1:9/jwks.json", ISSUER, AUDIENCE).expect("a verifier");
    assert!(matches!(
        jwks.verify(&key.sign(&claims()), NOW).await,
        Err(TokenError::KeysUnavailable(_))
    ));
}
