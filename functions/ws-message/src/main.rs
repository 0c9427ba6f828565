//! The ws-message Lambda: opens the registry (DynamoDB when `CONNECTIONS_TABLE` is set) and the
//! cart store once, then answers messages. Carts are still read from the embedded store.

use std::sync::Arc;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    lambda_runtime::tracing::init_default_subscriber();
    let store = embedded::store_from_env()?;
    let carts = domain::CartService::new(
        store.clone(),
        store,
        Arc::new(embedded::EventBus::default()),
    );
    let registry = wiring::connection_registry().await?;
    edge::websocket::run(|event| ws_message::handle(&carts, registry.as_ref(), event)).await
}
