//! The ws-message Lambda: opens the store once (carts and connections), then answers messages.

use std::sync::Arc;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    lambda_runtime::tracing::init_default_subscriber();
    let store = embedded::store_from_env()?;
    let carts = domain::CartService::new(
        store.clone(),
        store.clone(),
        Arc::new(embedded::EventBus::default()),
    );
    edge::websocket::run(|event| ws_message::handle(&carts, store.as_ref(), event)).await
}
