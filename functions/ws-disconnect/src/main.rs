//! The ws-disconnect Lambda: opens the registry (DynamoDB when `CONNECTIONS_TABLE` is set) and
//! the presence queue once, then answers `$disconnect`.

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    lambda_runtime::tracing::init_default_subscriber();
    let config = wiring::Config::from_env()?;
    let registry = wiring::connection_registry(&config).await?;
    let notices = wiring::presence_notices(&config).await;
    edge::websocket::run(|event| ws_disconnect::handle(registry.as_ref(), notices.as_ref(), event))
        .await
}
