//! MSK IAM authentication. The SASL/OAUTHBEARER token is a SigV4-presigned
//! `kafka-cluster:Connect` request, base64url-encoded, the way AWS's own MSK signer libraries
//! make it: signed for the `kafka-cluster` service with the function role's credentials, valid
//! for fifteen minutes, over TLS. tansu checks no IAM, so this is unit-tested, not run against
//! a broker, in the test command.

use aws_credential_types::Credentials;
use aws_credential_types::provider::{ProvideCredentials, SharedCredentialsProvider};
use aws_sigv4::http_request::{SignableBody, SignableRequest, SignatureLocation, SigningSettings};
use aws_sigv4::sign::v4;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rskafka::client::{OauthBearerCredentials, OauthCallback, SaslConfig};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

/// How long a token is valid.
const TOKEN_LIFETIME: Duration = Duration::from_secs(900);

/// The OAUTHBEARER token for a broker in `region`, signed with `credentials` at `now`.
pub fn token(
    credentials: Credentials,
    region: &str,
    now: SystemTime,
) -> Result<String, Box<dyn std::error::Error + Send + Sync>> {
    let url = format!("https://kafka.{region}.amazonaws.com/?Action=kafka-cluster%3AConnect");
    let identity = credentials.into();
    let mut settings = SigningSettings::default();
    settings.signature_location = SignatureLocation::QueryParams;
    settings.expires_in = Some(TOKEN_LIFETIME);
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region(region)
        .name("kafka-cluster")
        .time(now)
        .settings(settings)
        .build()?
        .into();
    let signable = SignableRequest::new("GET", &url, std::iter::empty(), SignableBody::Bytes(&[]))?;
    let (instructions, _) = aws_sigv4::http_request::sign(signable, &params)?.into_parts();
    let mut request = http::Request::builder().uri(&url).body(())?;
    instructions.apply_to_request_http1x(&mut request);
    let signed = format!("{}&User-Agent=shared-carts", request.uri());
    Ok(URL_SAFE_NO_PAD.encode(signed))
}

/// SASL settings that sign a fresh token with `credentials` (the Lambda role) whenever the
/// client authenticates a connection.
pub fn sasl(credentials: SharedCredentialsProvider, region: String) -> SaslConfig {
    let callback: OauthCallback = Arc::new(move || {
        let (credentials, region) = (credentials.clone(), region.clone());
        Box::pin(async move {
            let credentials = credentials.provide_credentials().await?;
            token(credentials, &region, SystemTime::now())
        })
    });
    SaslConfig::Oauthbearer(OauthBearerCredentials {
        callback,
        authz_id: None,
        bearer_kvs: Vec::new(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_token_is_a_presigned_connect_url_for_the_region() {
        let credentials = Credentials::new("AKIDEXAMPLE", "secret", None, None, "test");
        let at = SystemTime::UNIX_EPOCH + Duration::from_secs(1_795_338_060);
        let token = token(credentials, "eu-west-1", at).unwrap();
        let url = String::from_utf8(URL_SAFE_NO_PAD.decode(&token).unwrap()).unwrap();
        assert!(
            url.starts_with(
                "https://kafka.eu-west-1.amazonaws.com/?Action=kafka-cluster%3AConnect&"
            ),
            "{url}"
        );
        for part in [
            "X-Amz-Algorithm=AWS4-HMAC-SHA256",
            "X-Amz-Credential=AKIDEXAMPLE%2F20261122%2Feu-west-1%2Fkafka-cluster%2Faws4_request",
            "X-Amz-Date=20261122T",
            "X-Amz-Expires=900",
            "X-Amz-SignedHeaders=host",
            "X-Amz-Signature=",
            "User-Agent=shared-carts",
        ] {
            assert!(url.contains(part), "{part} missing from {url}");
        }
        assert!(!token.contains('='), "base64url without padding");
    }

    #[test]
    fn a_session_token_is_signed_into_the_url() {
        let credentials = Credentials::new("AKID", "secret", Some("SESSION".into()), None, "test");
        let token = token(credentials, "us-east-1", SystemTime::now()).unwrap();
        let url = String::from_utf8(URL_SAFE_NO_PAD.decode(&token).unwrap()).unwrap();
        assert!(url.contains("X-Amz-Security-Token=SESSION"), "{url}");
    }
}
