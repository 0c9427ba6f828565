//! The inventory Lambda: builds the stock ledger (Keyspaces when `CASSANDRA_CONTACT_POINTS` is
//! set; the embedded store under `DATA_DIR` in a build with the local adapters) and the
//! publisher of shortfalls (Kafka at `KAFKA_BROKERS`) once, then reserves MSK batches. A failed batch returns an error, so the
//! event source mapping delivers it again.

use lambda_runtime::{LambdaEvent, service_fn};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    lambda_runtime::tracing::init_default_subscriber();
    edge::metrics::install_on_lambda();
    let config = wiring::Config::from_env()?;
    // The keyspace and the broker are opened at once: a cold start waits for the longer only.
    let (ledger, events) = tokio::try_join!(
        wiring::stock_ledger(&config),
        wiring::event_publisher(&config)
    )?;
    let inventory = inventory::Inventory { ledger, events };
    lambda_runtime::run(service_fn(|event: LambdaEvent<serde_json::Value>| {
        let inventory = &inventory;
        async move {
            // An error (with its cause chain) makes Lambda report the batch failed.
            let taken =
                inventory::handle(inventory, edge::records::batch_or_empty(event.payload)).await;
            edge::metrics::flush();
            taken
                .map(|_| ())
                .map_err(|e| lambda_runtime::Error::from(Box::new(e)))
        }
    }))
    .await
}
