//! The ws-disconnect Lambda: opens the registry once (DynamoDB when `CONNECTIONS_TABLE` is set),
//! then answers `$disconnect`.

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    lambda_runtime::tracing::init_default_subscriber();
    let config = wiring::Config::from_env()?;
    let registry = wiring::connection_registry(&config).await?;
    edge::websocket::run(|event| ws_disconnect::handle(registry.as_ref(), event)).await
}
