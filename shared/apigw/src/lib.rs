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
