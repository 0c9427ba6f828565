//! Keyspaces' SigV4 authentication, so a Lambda signs in with its role rather than a stored
//! password. The client opens with `SigV4\0\0`; Keyspaces answers with a nonce; the client
//! answers with a SigV4 signature of a fixed `PUT /authenticate` request whose payload is the
//! nonce, scoped to the `cassandra` service in the region, and its access key and date (and
//! session token, for a role's temporary credentials).

use async_trait::async_trait;
use aws_credential_types::provider::{ProvideCredentials, SharedCredentialsProvider};
use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use scylla::authentication::{AuthError, AuthenticatorProvider, AuthenticatorSession};
use sha2::{Digest, Sha256};

/// Signs each connection's handshake with the credentials `credentials` holds at that moment.
pub struct SigV4Authenticator {
    credentials: SharedCredentialsProvider,
    region: String,
}

impl SigV4Authenticator {
    /// An authenticator for Keyspaces in `region`.
    pub fn new(credentials: SharedCredentialsProvider, region: impl Into<String>) -> Self {
        Self {
            credentials,
            region: region.into(),
        }
    }
}

#[async_trait]
impl AuthenticatorProvider for SigV4Authenticator {
    async fn start_authentication_session(
        &self,
        _authenticator: &str,
    ) -> Result<(Option<Vec<u8>>, Box<dyn AuthenticatorSession>), AuthError> {
        let session = Handshake {
            credentials: self.credentials.clone(),
            region: self.region.clone(),
        };
        Ok((Some(b"SigV4\0\0".to_vec()), Box::new(session)))
    }
}

/// One connection's handshake.
struct Handshake {
    credentials: SharedCredentialsProvider,
    region: String,
}

#[async_trait]
impl AuthenticatorSession for Handshake {
    async fn evaluate_challenge(
        &mut self,
        challenge: Option<&[u8]>,
    ) -> Result<Option<Vec<u8>>, AuthError> {
        let challenge = String::from_utf8_lossy(challenge.unwrap_or_default());
        let nonce = nonce_in(&challenge)
            .ok_or_else(|| format!("no nonce in the SigV4 challenge {challenge:?}"))?;
        let credentials = self
            .credentials
            .provide_credentials()
            .await
            .map_err(|e| format!("no AWS credentials to sign with: {e}"))?;
        let signer = Signer {
            access_key: credentials.access_key_id(),
            secret: credentials.secret_access_key(),
            session_token: credentials.session_token(),
            region: &self.region,
        };
        Ok(Some(signer.answer(nonce, Utc::now()).into_bytes()))
    }

    async fn success(&mut self, _token: Option<&[u8]>) -> Result<(), AuthError> {
        Ok(())
    }
}

/// The nonce of a challenge such as `nonce=91703f...` (possibly followed by `,...`).
fn nonce_in(challenge: &str) -> Option<&str> {
    let (_, rest) = challenge.split_once("nonce=")?;
    let nonce = rest.split(',').next()?;
    (!nonce.is_empty()).then_some(nonce)
}

/// What signs an answer.
struct Signer<'a> {
    access_key: &'a str,
    secret: &'a str,
    session_token: Option<&'a str>,
    region: &'a str,
}

impl Signer<'_> {
    /// The answer to `nonce` at `at`: `signature=..,access_key=..,amzdate=..[,session_token=..]`.
    fn answer(&self, nonce: &str, at: DateTime<Utc>) -> String {
        let amz_date = at.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string();
        let day = at.format("%Y%m%d").to_string();
        let scope = format!("{day}/{}/cassandra/aws4_request", self.region);
        let query = format!(
            "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential={}%2F{}&X-Amz-Date={}&X-Amz-Expires=900",
            self.access_key,
            scope.replace('/', "%2F"),
            amz_date.replace(':', "%3A"),
        );
        let canonical = format!(
            "PUT\n/authenticate\n{query}\nhost:cassandra\n\nhost\n{}",
            hex(&Sha256::digest(nonce.as_bytes()))
        );
        let to_sign = format!(
            "AWS4-HMAC-SHA256\n{amz_date}\n{scope}\n{}",
            hex(&Sha256::digest(canonical.as_bytes()))
        );
        let key = [day.as_str(), self.region, "cassandra", "aws4_request"]
            .iter()
            .fold(format!("AWS4{}", self.secret).into_bytes(), |key, part| {
                hmac(&key, part.as_bytes())
            });
        let signature = hex(&hmac(&key, to_sign.as_bytes()));
        let mut answer = format!(
            "signature={signature},access_key={},amzdate={amz_date}",
            self.access_key
        );
        if let Some(token) = self.session_token {
            answer.push_str(",session_token=");
            answer.push_str(token);
        }
        answer
    }
}

fn hmac(key: &[u8], data: &[u8]) -> Vec<u8> {
    // HMAC takes a key of any length; `new_from_slice` never fails for it.
    let mut mac = Hmac::<Sha256>::new_from_slice(key).unwrap_or_else(|_| unreachable!());
    mac.update(data);
    mac.finalize().into_bytes().to_vec()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// AWS's published example for the Cassandra SigV4 plugins: a fixed key, nonce and time.
    fn signer(session_token: Option<&'static str>) -> Signer<'static> {
        Signer {
            access_key: "UserID-1",
            secret: "UserSecretKey-1",
            session_token,
            region: "us-west-2",
        }
    }

    fn at() -> DateTime<Utc> {
        DateTime::from_timestamp_millis(1_591_742_511_000).unwrap_or_default()
    }

    #[test]
    fn the_answer_matches_the_reference_signature() {
        assert_eq!(
            signer(None).answer("91703fdc2ef562e19fbdab0f58e42fe5", at()),
            "signature=7f3691c18a81b8ce7457699effbfae5b09b4e0714ab38c1292dbdf082c9ddd87,\
             access_key=UserID-1,amzdate=2020-06-09T22:41:51.000Z"
        );
    }

    #[test]
    fn a_role_s_session_token_rides_along() {
        let answer = signer(Some("sess-token-1")).answer("91703fdc2ef562e19fbdab0f58e42fe5", at());
        assert!(answer.ends_with(",session_token=sess-token-1"), "{answer}");
    }

    #[test]
    fn the_nonce_is_read_from_the_challenge() {
        assert_eq!(nonce_in("nonce=abc123"), Some("abc123"));
        assert_eq!(nonce_in("nonce=abc123,other=x"), Some("abc123"));
        assert_eq!(nonce_in("no nonce here"), None);
    }
}
