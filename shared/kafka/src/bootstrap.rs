//! The brokers of an MSK cluster, from its ARN: `GetBootstrapBrokers` once at cold start, so a
//! deployment names the cluster rather than copying its broker list (which MSK may change).

use crate::{KafkaError, Security};
use aws_sdk_kafka::Client;

/// The bootstrap brokers of the cluster at `cluster_arn` for the way `security` connects: the
/// SASL/IAM listeners (port 9098) for MSK IAM, the TLS ones (9094) for TLS, the plaintext ones
/// (9092) otherwise.
pub async fn brokers_of(
    client: &Client,
    cluster_arn: &str,
    security: &Security,
) -> Result<Vec<String>, KafkaError> {
    let answer = client
        .get_bootstrap_brokers()
        .cluster_arn(cluster_arn)
        .send()
        .await
        .map_err(|e| KafkaError::Bootstrap(e.into()))?;
    let (listed, listener) = match security {
        Security::MskIam { .. } => (answer.bootstrap_broker_string_sasl_iam(), "SASL/IAM"),
        Security::Tls { .. } => (answer.bootstrap_broker_string_tls(), "TLS"),
        Security::Plaintext => (answer.bootstrap_broker_string(), "plaintext"),
    };
    let brokers: Vec<String> = listed
        .unwrap_or_default()
        .split(',')
        .map(str::trim)
        .filter(|b| !b.is_empty())
        .map(str::to_owned)
        .collect();
    if brokers.is_empty() {
        return Err(KafkaError::Bootstrap(
            format!("the cluster has no {listener} listener; enable it or set KAFKA_AUTH to match")
                .into(),
        ));
    }
    Ok(brokers)
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_credential_types::Credentials;
    use aws_sdk_kafka::config::{BehaviorVersion, Region};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    /// A loopback endpoint answering every request with `body` as the MSK API would answer
    /// GetBootstrapBrokers (no MSK implementation runs here: moto lacks this call), and the
    /// request line it saw.
    async fn msk_api(body: &'static str) -> (String, tokio::task::JoinHandle<String>) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let served = tokio::spawn(async move {
            let (mut socket, _) = listener.accept().await.unwrap();
            let mut request = vec![0u8; 8192];
            let read = socket.read(&mut request).await.unwrap();
            let response = format!(
                "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
                body.len()
            );
            socket.write_all(response.as_bytes()).await.unwrap();
            let request = String::from_utf8_lossy(&request[..read]).into_owned();
            request.lines().next().unwrap_or_default().to_owned()
        });
        (url, served)
    }

    fn client(endpoint: &str) -> Client {
        let config = aws_sdk_kafka::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .endpoint_url(endpoint)
            .region(Region::new("eu-west-1"))
            .http_client(tls::aws_http_client())
            .credentials_provider(Credentials::new("AKID", "secret", None, None, "test"))
            .build();
        Client::from_conf(config)
    }

    const ARN: &str = "arn:aws:kafka:eu-west-1:123456789012:cluster/carts/abcd-1";

    #[tokio::test]
    async fn msk_iam_uses_the_sasl_iam_listeners_of_the_cluster() {
        let (url, served) = msk_api(
            r#"{"bootstrapBrokerString":"b-1:9092","bootstrapBrokerStringSaslIam":"b-1:9098,b-2:9098"}"#,
        )
        .await;
        let iam = Security::MskIam {
            roots: tls::Roots::System,
            credentials: aws_credential_types::provider::SharedCredentialsProvider::new(
                Credentials::new("AKID", "secret", None, None, "test"),
            ),
            region: "eu-west-1".into(),
        };
        let brokers = brokers_of(&client(&url), ARN, &iam).await.unwrap();
        assert_eq!(brokers, ["b-1:9098", "b-2:9098"]);
        let request = served.await.unwrap();
        assert!(request.starts_with("GET /v1/clusters/"), "{request}");
        assert!(request.contains("/bootstrap-brokers"), "{request}");
    }

    #[tokio::test]
    async fn a_cluster_without_the_wanted_listener_is_an_error_that_says_so() {
        let (url, _) = msk_api(r#"{"bootstrapBrokerStringSaslIam":"b-1:9098"}"#).await;
        let err = brokers_of(&client(&url), ARN, &Security::Plaintext)
            .await
            .unwrap_err();
        assert!(err.to_string().contains("no plaintext listener"), "{err}");
    }
}
