//! The sync-push Lambda: builds the management API client (endpoint from
//! `WEBSOCKET_MANAGEMENT_ENDPOINT`), the registry (DynamoDB when `CONNECTIONS_TABLE` is set)
//! and the presence queue once, then pushes MSK batches.

use lambda_runtime::{LambdaEvent, service_fn};
use std::sync::Arc;

// mimalloc, not glibc's malloc. Lambda bills duration at the memory size ("AWS Lambda
// pricing"), and a big batch's duration is CPU (docs/bench.md): `bench push` measured the real
// SDK client's posts at 72–86 µs of CPU per delivery with mimalloc against 90–122 with glibc's
// (same machine, one after the other). The other functions allocate little per invocation and
// keep the system allocator, and their smaller packages.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    lambda_runtime::tracing::init_default_subscriber();
    edge::metrics::install_on_lambda();
    let config = wiring::Config::from_env()?;
    let endpoint = config
        .websocket_management_endpoint
        .clone()
        .ok_or("WEBSOCKET_MANAGEMENT_ENDPOINT must be set")?;
    let push = sync_push::Push::new(
        wiring::connection_registry(&config).await?,
        Arc::new(apigw::ManagementApi::at_stage(
            &wiring::aws().await,
            &endpoint,
        )),
    )
    .announcing_presence(wiring::presence_notices(&config).await);
    lambda_runtime::run(service_fn(|event: LambdaEvent<serde_json::Value>| {
        let push = &push;
        async move {
            // A failed batch is an error, so the trigger hands it over again.
            let pushed =
                sync_push::handle(push, edge::records::batch_or_empty(event.payload)).await;
            edge::metrics::flush();
            pushed
                .map(|_| ())
                .map_err(|e| -> lambda_runtime::Error { Box::new(e) })
        }
    }))
    .await
}
