//! What every verifier checks once a signature holds: the claims' lifetime, issuer and
//! audience. Issuers differ in shape: `aud` may be a string or a list, and a Cognito ID token
//! carries its groups (`cognito:groups`) where scopes would be; a group becomes a scope.

use crate::{Claims, LEEWAY_SECS, TokenError};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Deserialize;

/// A token's three parts, still encoded, and the signed text.
pub(crate) struct Parts<'t> {
    pub header: Header,
    pub payload: &'t str,
    pub signature: Vec<u8>,
    pub signed: &'t [u8],
}

/// The header fields a verifier reads.
#[derive(Deserialize)]
pub(crate) struct Header {
    pub alg: String,
    #[serde(default)]
    pub kid: Option<String>,
}

/// Splits a compact JWT and decodes its header and signature.
pub(crate) fn split(token: &str) -> Result<Parts<'_>, TokenError> {
    let mut parts = token.split('.');
    let (Some(header), Some(payload), Some(signature), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(TokenError::Malformed);
    };
    let header: Header =
        serde_json::from_slice(&decode(header)?).map_err(|_| TokenError::Malformed)?;
    Ok(Parts {
        header,
        payload,
        signature: decode(signature)?,
        signed: &token.as_bytes()[..token.len() - signature.len() - 1],
    })
}

pub(crate) fn decode(part: &str) -> Result<Vec<u8>, TokenError> {
    URL_SAFE_NO_PAD
        .decode(part)
        .map_err(|_| TokenError::Malformed)
}

#[derive(Deserialize)]
#[serde(untagged)]
enum Audience {
    One(String),
    Many(Vec<String>),
}

#[derive(Deserialize)]
struct Payload {
    sub: String,
    #[serde(default)]
    name: Option<String>,
    /// A Cognito ID token's user name: the display name when the pool keeps no `name`
    /// ("Understanding the identity (ID) token"). Access tokens, which carry `username`
    /// instead, have no `aud` and are refused.
    #[serde(default, rename = "cognito:username")]
    cognito_username: Option<String>,
    #[serde(default)]
    email: Option<String>,
    /// A boolean in a Cognito ID token; some issuers write it as a string.
    #[serde(default)]
    email_verified: Option<serde_json::Value>,
    #[serde(default)]
    scope: String,
    #[serde(default, rename = "cognito:groups")]
    groups: Vec<String>,
    iss: String,
    aud: Audience,
    #[serde(default)]
    iat: i64,
    exp: i64,
    #[serde(default)]
    nbf: Option<i64>,
}

/// The claims of a payload whose signature verified, if they hold at `now` for `issuer` and
/// `audience`.
pub(crate) fn claims(
    payload: &str,
    issuer: &str,
    audience: &str,
    now: i64,
) -> Result<Claims, TokenError> {
    let payload: Payload =
        serde_json::from_slice(&decode(payload)?).map_err(|_| TokenError::Malformed)?;
    if payload.exp + LEEWAY_SECS < now {
        return Err(TokenError::Expired);
    }
    if payload.nbf.is_some_and(|nbf| nbf - LEEWAY_SECS > now) {
        return Err(TokenError::NotYetValid);
    }
    if payload.iss != issuer {
        return Err(TokenError::WrongIssuer);
    }
    let for_us = match &payload.aud {
        Audience::One(aud) => aud == audience,
        Audience::Many(auds) => auds.iter().any(|aud| aud == audience),
    };
    if !for_us {
        return Err(TokenError::WrongAudience);
    }
    let scope = payload
        .scope
        .split_ascii_whitespace()
        .chain(payload.groups.iter().map(String::as_str))
        .collect::<Vec<_>>()
        .join(" ");
    // A pool whose users sign in by email makes their user name the `sub` itself: a UUID is no
    // name to show, so it is skipped.
    let sub = payload.sub;
    let cognito_username = payload
        .cognito_username
        .filter(|user_name| *user_name != sub);
    let name = payload.name.or_else(|| cognito_username.clone());
    // Only a verified address identifies anyone ("Understanding the identity (ID) token":
    // `email_verified`).
    let email_verified = matches!(payload.email_verified, Some(serde_json::Value::Bool(true)))
        || matches!(&payload.email_verified, Some(serde_json::Value::String(s)) if s == "true");
    let email = payload.email.filter(|_| email_verified);
    Ok(Claims {
        sub,
        name,
        email_verified: email.is_some(),
        email,
        user_name: cognito_username,
        scope,
        iss: payload.iss,
        aud: audience.to_owned(),
        iat: payload.iat,
        exp: payload.exp,
        nbf: payload.nbf,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn payload(json: &str) -> String {
        URL_SAFE_NO_PAD.encode(json)
    }

    #[test]
    fn a_listed_audience_and_cognito_groups_are_understood() {
        let claims = claims(
            &payload(
                r#"{"sub":"u1","iss":"i","aud":["other","api"],"exp":100,"cognito:groups":["admin"]}"#,
            ),
            "i",
            "api",
            50,
        )
        .unwrap();
        assert_eq!(claims.aud, "api");
        assert_eq!(claims.scopes().collect::<Vec<_>>(), ["admin"]);
    }

    #[test]
    fn a_list_without_our_audience_is_refused() {
        assert_eq!(
            claims(
                &payload(r#"{"sub":"u1","iss":"i","aud":["other"],"exp":100}"#),
                "i",
                "api",
                50
            ),
            Err(TokenError::WrongAudience)
        );
    }

    #[test]
    fn an_email_counts_only_when_the_issuer_verified_it() {
        let base = r#""sub":"u1","iss":"i","aud":"api","exp":100"#;
        let email = |json: &str| claims(&payload(json), "i", "api", 50).unwrap().email;
        for verified in [r#"true"#, r#""true""#] {
            assert_eq!(
                email(&format!(
                    r#"{{{base},"email":"ann@example.com","email_verified":{verified}}}"#
                ))
                .as_deref(),
                Some("ann@example.com")
            );
        }
        for unverified in [
            r#","email_verified":false"#,
            r#","email_verified":"false""#,
            "",
        ] {
            assert_eq!(
                email(&format!(
                    r#"{{{base},"email":"ann@example.com"{unverified}}}"#
                )),
                None,
                "{unverified}"
            );
        }
    }

    #[test]
    fn a_user_name_is_cognito_s_unique_one_never_the_preferred_one_users_set() {
        let base = r#""sub":"u1","iss":"i","aud":"api","exp":100"#;
        let user_name = |json: &str| claims(&payload(json), "i", "api", 50).unwrap().user_name;
        assert_eq!(
            user_name(&format!(
                r#"{{{base},"preferred_username":"ann","cognito:username":"ann7"}}"#
            ))
            .as_deref(),
            Some("ann7")
        );
        assert_eq!(
            user_name(&format!(r#"{{{base},"preferred_username":"ann"}}"#)),
            None
        );
        assert_eq!(
            user_name(&format!(r#"{{{base},"cognito:username":"ann7"}}"#)).as_deref(),
            Some("ann7")
        );
        assert_eq!(
            user_name(&format!(r#"{{{base},"cognito:username":"u1"}}"#)),
            None
        );
    }

    #[test]
    fn a_cognito_user_name_is_the_display_name_when_the_token_has_no_name() {
        let name = |json: &str| claims(&payload(json), "i", "api", 50).unwrap().name;
        let base = r#""sub":"u1","iss":"i","aud":"api","exp":100"#;
        assert_eq!(
            name(&format!(
                r#"{{{base},"name":"Ann","cognito:username":"ann7"}}"#
            ))
            .as_deref(),
            Some("Ann")
        );
        assert_eq!(
            name(&format!(r#"{{{base},"cognito:username":"ann7"}}"#)).as_deref(),
            Some("ann7")
        );
        assert_eq!(name(&format!("{{{base}}}")), None);
        assert_eq!(
            name(&format!(r#"{{{base},"cognito:username":"u1"}}"#)),
            None,
            "a user name that is the sub is no name"
        );
    }
}
