//! The sync-push Lambda: builds the management API client (endpoint from
//! `WEBSOCKET_MANAGEMENT_ENDPOINT`) and the registry (DynamoDB when `CONNECTIONS_TABLE` is set)
//! once, then pushes MSK batches.

use aws_lambda_events::event::kafka::KafkaEvent;
use lambda_runtime::{LambdaEvent, service_fn};
use std::sync::Arc;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    lambda_runtime::tracing::init_default_subscriber();
    let endpoint = std::env::var("WEBSOCKET_MANAGEMENT_ENDPOINT")
        .map_err(|_| "WEBSOCKET_MANAGEMENT_ENDPOINT must be set")?;
    let aws = aws_config::load_from_env().await;
    let config = aws_sdk_apigatewaymanagement::config::Builder::from(&aws)
        .endpoint_url(endpoint)
        .build();
    let push = sync_push::Push::new(
        wiring::connection_registry(&wiring::environment).await?,
        Arc::new(apigw::ManagementApi::new(
            aws_sdk_apigatewaymanagement::Client::from_conf(config),
        )),
    );
    lambda_runtime::run(service_fn(|event: LambdaEvent<KafkaEvent>| {
        let push = &push;
        async move {
            sync_push::handle(push, event.payload).await;
            Ok::<_, std::convert::Infallible>(())
        }
    }))
    .await
}
