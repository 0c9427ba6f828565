//! The analytics Lambda: opens the analytics store (DynamoDB when `ANALYTICS_TABLE` is set)
//! once, then counts MSK batches. A failed batch returns an error, so the event source mapping
//! delivers it again.

use lambda_runtime::{LambdaEvent, service_fn};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    lambda_runtime::tracing::init_default_subscriber();
    let config = wiring::Config::from_env()?;
    let store = wiring::analytics_store(&config).await?;
    lambda_runtime::run(service_fn(|event: LambdaEvent<serde_json::Value>| {
        let store = store.as_ref();
        async move {
            analytics::handle(store, edge::records::batch_or_empty(event.payload))
                .await
                .map(|_| ())
                .map_err(|e| lambda_runtime::Error::from(Box::new(e)))
        }
    }))
    .await
}
