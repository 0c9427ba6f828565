//! The ws-message Lambda: opens the registry (DynamoDB when `CONNECTIONS_TABLE` is set) and the
//! cart service (as `wiring` chooses from the environment) once, then answers messages, each
//! connection within its message rate.

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    lambda_runtime::tracing::init_default_subscriber();
    let config = wiring::Config::from_env()?;
    let carts = wiring::cart_service(&config).await?;
    let registry = wiring::connection_registry(&config).await?;
    let rate = domain::limits::Buckets::new(domain::limits::PER_CONNECTION);
    edge::websocket::run(|event| ws_message::handle(&carts, registry.as_ref(), &rate, event)).await
}
