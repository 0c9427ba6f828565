//! The API Gateway management API (`@connections`) through the AWS SDK: how `sync-push` reaches
//! a WebSocket. On AWS the endpoint is `https://{api-id}.execute-api.{region}.amazonaws.com/{stage}`;
//! locally it is the local stack's own emulation, the same client with another endpoint.

use async_trait::async_trait;
use aws_sdk_apigatewaymanagement::Client;
use aws_sdk_apigatewaymanagement::config::retry::RetryConfig;
use aws_sdk_apigatewaymanagement::config::{
    BehaviorVersion, Region, StalledStreamProtectionConfig,
};
use aws_sdk_apigatewaymanagement::primitives::Blob;
use domain::{ConnectionId, ConnectionPoster, PostError};

/// How long one attempt of a post may wait for API Gateway's answer before it is tried again.
pub const POST_ATTEMPT_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(2);

/// Posts to WebSocket connections through the management API.
#[derive(Clone, Debug)]
pub struct ManagementApi {
    client: Client,
}

impl ManagementApi {
    /// Wraps a client built from the Lambda's configuration (role credentials, region) with its
    /// endpoint set to the WebSocket API's stage URL.
    pub fn new(client: Client) -> Self {
        Self { client }
    }

    /// The client `sync-push` and `presence-push` run on AWS: the Lambda's settings (role
    /// credentials, region, the SDK's standard retries) at the stage's URL. The bench measures
    /// this one.
    ///
    /// Tuned for a loop of small posts ("Configuring timeouts in the AWS SDK for Rust"): the SDK
    /// sets no limit on waiting for an answer, so an attempt that hears nothing for
    /// [`POST_ATTEMPT_TIMEOUT`] is given up (and retried) rather than holding the batch until
    /// the function's own timeout. Stalled-stream protection, which watches each body for
    /// 1 byte/s over a 20-second grace, is off: a post is one small write and its answer is
    /// empty, so the attempt timeout is what catches a stall, and the watch cost CPU on every post.
    pub fn at_stage(aws: &aws_config::SdkConfig, endpoint_url: &str) -> Self {
        let timeouts = aws
            .timeout_config()
            .map(|configured| configured.to_builder())
            .unwrap_or_default()
            .operation_attempt_timeout(POST_ATTEMPT_TIMEOUT)
            .build();
        let config = aws_sdk_apigatewaymanagement::config::Builder::from(aws)
            .endpoint_url(endpoint_url)
            .timeout_config(timeouts)
            .stalled_stream_protection(StalledStreamProtectionConfig::disabled())
            .build();
        Self::new(Client::from_conf(config))
    }

    /// A client for an endpoint that checks no signature (the local stack). It sends no
    /// credentials, so the SDK skips SigV4 (`allow_no_auth`): signing hashes every payload, and at
    /// a thousand members that is megabytes of SHA-256 per change for nobody to check. Nor does
    /// it retry or watch for stalled streams: the endpoint is this process, on loopback.
    pub fn unsigned_local(endpoint_url: &str) -> Self {
        let config = aws_sdk_apigatewaymanagement::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .endpoint_url(endpoint_url)
            .region(Region::new("local"))
            .http_client(tls::aws_http_client())
            .allow_no_auth()
            .stalled_stream_protection(StalledStreamProtectionConfig::disabled())
            .retry_config(RetryConfig::disabled())
            .build();
        Self {
            client: Client::from_conf(config),
        }
    }
}

#[async_trait]
impl ConnectionPoster for ManagementApi {
    async fn post(&self, connection: &ConnectionId, message: &[u8]) -> Result<(), PostError> {
        let sent = self
            .client
            .post_to_connection()
            .connection_id(connection.as_str())
            .data(Blob::new(message))
            .send()
            .await;
        match sent {
            Ok(_) => Ok(()),
            Err(e) if e.as_service_error().is_some_and(|s| s.is_gone_exception()) => {
                Err(PostError::Gone)
            }
            Err(e) => Err(PostError::Failed(Box::new(e))),
        }
    }
}
