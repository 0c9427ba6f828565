//! The presence-push Lambda: builds the management API client (endpoint from
//! `WEBSOCKET_MANAGEMENT_ENDPOINT`) and the registry (DynamoDB when `CONNECTIONS_TABLE` is set)
//! once, then pushes the presence of the carts each SQS batch of notices names.

use aws_lambda_events::event::sqs::SqsEvent;
use lambda_runtime::{LambdaEvent, service_fn};
use std::sync::Arc;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    lambda_runtime::tracing::init_default_subscriber();
    let config = wiring::Config::from_env()?;
    let endpoint = config
        .websocket_management_endpoint
        .clone()
        .ok_or("WEBSOCKET_MANAGEMENT_ENDPOINT must be set")?;
    let presence = presence_push::Presence::new(
        wiring::connection_registry(&config).await?,
        Arc::new(apigw::ManagementApi::at_stage(
            &wiring::aws().await,
            &endpoint,
        )),
    );
    lambda_runtime::run(service_fn(|event: LambdaEvent<SqsEvent>| {
        let presence = &presence;
        async move {
            // A registry that cannot answer fails the batch, so the queue hands it over again.
            presence_push::push(presence, presence_push::carts_of(&event.payload))
                .await
                .map(|_| ())
                .map_err(|e| -> lambda_runtime::Error { Box::new(e) })
        }
    }))
    .await
}
