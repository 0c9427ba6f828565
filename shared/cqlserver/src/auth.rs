//! The sign-in a Keyspaces endpoint demands before any statement: either service-specific
//! credentials through the plain-text authenticator (`\0user\0password`), or the SigV4
//! handshake of AWS's authentication plugins. In the second, the client opens with `SigV4\0\0`,
//! the server answers `nonce=<hex>`, and the client answers with
//! `signature=..,access_key=..,amzdate=..[,session_token=..]`: a SigV4 signature of a fixed
//! `PUT /authenticate` request whose payload hash is the nonce's, scoped to
//! `<day>/<region>/cassandra/aws4_request`, valid 900 s (the plugins' `X-Amz-Expires`).
//!
//! The signature is checked here independently of the client's code (this file does not call
//! the adapter's signer), against the secret of the access key it names, the region of this
//! endpoint and the nonce of this connection.

use chrono::{DateTime, NaiveDateTime, Utc};
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

/// What the client sends first to ask for the SigV4 handshake.
pub(crate) const SIGV4_INITIAL: &[u8] = b"SigV4\0\0";

/// How far an answer's `amzdate` may be from now (the signature's `X-Amz-Expires`).
const VALID_FOR_SECONDS: i64 = 900;

/// A new nonce for one connection's challenge.
pub(crate) fn nonce() -> String {
    (0..16)
        .map(|_| format!("{:02x}", fastrand::u8(..)))
        .collect()
}

/// The parts of a client's SigV4 answer.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Answer<'a> {
    pub signature: &'a str,
    pub access_key: &'a str,
    pub amz_date: &'a str,
}

/// Reads `signature=..,access_key=..,amzdate=..[,session_token=..]`.
pub(crate) fn answer(text: &str) -> Option<Answer<'_>> {
    let field = |name: &str| {
        text.split(',')
            .find_map(|part| part.strip_prefix(name)?.strip_prefix('='))
    };
    Some(Answer {
        signature: field("signature")?,
        access_key: field("access_key")?,
        amz_date: field("amzdate")?,
    })
}

/// Why an answer was refused.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Refused {
    Malformed,
    UnknownKey,
    Expired,
    BadSignature,
}

impl Refused {
    pub fn reason(&self) -> &'static str {
        match self {
            Refused::Malformed => "the SigV4 answer is not signature=..,access_key=..,amzdate=..",
            Refused::UnknownKey => "the access key is not known",
            Refused::Expired => "the signature's date is more than 900 s from now",
            Refused::BadSignature => "the signature does not match",
        }
    }
}

/// Checks `text` as the answer to `nonce`, signed for `region` with the secret `secret_of` gives
/// for its access key, at about `now`.
pub(crate) fn verify(
    text: &str,
    nonce: &str,
    region: &str,
    secret_of: impl Fn(&str) -> Option<String>,
    now: DateTime<Utc>,
) -> Result<String, Refused> {
    let answer = answer(text).ok_or(Refused::Malformed)?;
    let secret = secret_of(answer.access_key).ok_or(Refused::UnknownKey)?;
    let signed_at = NaiveDateTime::parse_from_str(answer.amz_date, "%Y-%m-%dT%H:%M:%S%.3fZ")
        .map_err(|_| Refused::Malformed)?
        .and_utc();
    if (now - signed_at).num_seconds().abs() > VALID_FOR_SECONDS {
        return Err(Refused::Expired);
    }
    let expected = signature(
        &secret,
        answer.access_key,
        region,
        nonce,
        answer.amz_date,
        signed_at,
    );
    if expected != answer.signature {
        return Err(Refused::BadSignature);
    }
    Ok(answer.access_key.to_owned())
}

/// The signature the plugins compute: SigV4 over the canonical `PUT /authenticate` request.
fn signature(
    secret: &str,
    access_key: &str,
    region: &str,
    nonce: &str,
    amz_date: &str,
    signed_at: DateTime<Utc>,
) -> String {
    let day = signed_at.format("%Y%m%d").to_string();
    let scope = [day.as_str(), region, "cassandra", "aws4_request"];
    let credential = format!("{access_key}/{}", scope.join("/"));
    let query = [
        ("X-Amz-Algorithm", "AWS4-HMAC-SHA256".to_owned()),
        ("X-Amz-Credential", credential),
        ("X-Amz-Date", amz_date.to_owned()),
        ("X-Amz-Expires", VALID_FOR_SECONDS.to_string()),
    ]
    .iter()
    .map(|(name, value)| format!("{name}={}", uri_encode(value)))
    .collect::<Vec<_>>()
    .join("&");
    let payload = hex(&Sha256::digest(nonce.as_bytes()));
    let request = [
        "PUT",
        "/authenticate",
        &query,
        "host:cassandra",
        "",
        "host",
        &payload,
    ]
    .join("\n");
    let string_to_sign = [
        "AWS4-HMAC-SHA256",
        amz_date,
        &scope.join("/"),
        &hex(&Sha256::digest(request.as_bytes())),
    ]
    .join("\n");
    let mut key = format!("AWS4{secret}").into_bytes();
    for part in scope {
        key = mac(&key, part.as_bytes());
    }
    hex(&mac(&key, string_to_sign.as_bytes()))
}

/// SigV4's URI encoding: unreserved characters as they are, everything else `%XX`.
fn uri_encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                char::from(b).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn mac(key: &[u8], data: &[u8]) -> Vec<u8> {
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

    /// AWS's published example for the Cassandra SigV4 plugins.
    const ANSWER: &str = "signature=7f3691c18a81b8ce7457699effbfae5b09b4e0714ab38c1292dbdf082c9ddd87,\
        access_key=UserID-1,amzdate=2020-06-09T22:41:51.000Z";
    const NONCE: &str = "91703fdc2ef562e19fbdab0f58e42fe5";

    fn at() -> DateTime<Utc> {
        DateTime::from_timestamp_millis(1_591_742_511_000).unwrap_or_default()
    }

    fn secret(key: &str) -> Option<String> {
        (key == "UserID-1").then(|| "UserSecretKey-1".to_owned())
    }

    #[test]
    fn the_reference_answer_verifies() {
        assert_eq!(
            verify(ANSWER, NONCE, "us-west-2", secret, at()),
            Ok("UserID-1".to_owned())
        );
    }

    #[test]
    fn another_nonce_region_secret_or_time_is_refused() {
        let other_nonce = "00000000000000000000000000000000";
        assert_eq!(
            verify(ANSWER, other_nonce, "us-west-2", secret, at()),
            Err(Refused::BadSignature)
        );
        assert_eq!(
            verify(ANSWER, NONCE, "us-east-1", secret, at()),
            Err(Refused::BadSignature)
        );
        assert_eq!(
            verify(ANSWER, NONCE, "us-west-2", |_| Some("wrong".into()), at()),
            Err(Refused::BadSignature)
        );
        assert_eq!(
            verify(ANSWER, NONCE, "us-west-2", |_| None, at()),
            Err(Refused::UnknownKey)
        );
        let an_hour_later = at() + chrono::Duration::hours(1);
        assert_eq!(
            verify(ANSWER, NONCE, "us-west-2", secret, an_hour_later),
            Err(Refused::Expired)
        );
        assert_eq!(
            verify("nonsense", NONCE, "us-west-2", secret, at()),
            Err(Refused::Malformed)
        );
    }
}
