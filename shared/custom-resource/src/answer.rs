//! Sending the answer to CloudFormation: an HTTP `PUT` of the JSON to the request's presigned S3
//! URL ("CloudFormation custom resource request and response reference"). The URL was signed
//! without a content type, so none is sent (an empty `Content-Type`, as AWS's own `cfn-response`
//! module sends).

use crate::ResourceResponse;
use async_trait::async_trait;
use bytes::Bytes;
use domain::ports::BoxError;
use http_body_util::{BodyExt, Full};
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use std::time::Duration;

/// How long sending the answer may take.
const SEND_DEADLINE: Duration = Duration::from_secs(10);

/// Where answers go.
#[async_trait]
pub trait Answer: Send + Sync {
    /// Puts `response` at `url`.
    async fn put(&self, url: &str, response: &ResourceResponse) -> Result<(), BoxError>;
}

/// Answers over HTTPS (and HTTP, for a test's listener), trusting the system's roots.
pub struct HttpsAnswer {
    client: Client<HttpsConnector<HttpConnector>, Full<Bytes>>,
}

impl HttpsAnswer {
    /// A client for answers.
    pub fn new() -> Result<Self, BoxError> {
        Ok(Self {
            client: Client::builder(TokioExecutor::new()).build(tls::https_connector()?),
        })
    }
}

#[async_trait]
impl Answer for HttpsAnswer {
    async fn put(&self, url: &str, response: &ResourceResponse) -> Result<(), BoxError> {
        let body = serde_json::to_vec(response)?;
        let request = http::Request::put(url)
            .header(http::header::CONTENT_TYPE, "")
            .header(http::header::CONTENT_LENGTH, body.len())
            .body(Full::new(Bytes::from(body)))?;
        let answered = tokio::time::timeout(SEND_DEADLINE, self.client.request(request))
            .await
            .map_err(|_| "the response URL did not answer in time")??;
        let status = answered.status();
        if !status.is_success() {
            let body = answered.into_body().collect().await.map(|b| b.to_bytes());
            let text = body.map(|b| String::from_utf8_lossy(&b).into_owned());
            return Err(format!(
                "the response URL answered {status}: {}",
                text.unwrap_or_default()
            )
            .into());
        }
        Ok(())
    }
}
