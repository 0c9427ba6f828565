//! The ws-message Lambda: opens the registry (DynamoDB when `CONNECTIONS_TABLE` is set), the
//! cart service (as `wiring` chooses from the environment) and the presence queue once, then
//! answers messages, each connection within its message rate.

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    lambda_runtime::tracing::init_default_subscriber();
    let config = wiring::Config::from_env()?;
    let carts = wiring::cart_reader(&config).await?;
    let registry = wiring::connection_registry(&config).await?;
    let notices = wiring::presence_notices(&config).await;
    let rate = domain::limits::Buckets::new(domain::limits::PER_CONNECTION);
    let routes = ws_message::Routes {
        carts: &carts,
        registry: registry.as_ref(),
        notices: notices.as_ref(),
        rate: &rate,
    };
    edge::websocket::run(|event| ws_message::handle(&routes, event)).await
}
