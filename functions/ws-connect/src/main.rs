//! The ws-connect Lambda: reads its keys and opens the registry once (DynamoDB when
//! `CONNECTIONS_TABLE` is set), then answers `$connect`.

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    lambda_runtime::tracing::init_default_subscriber();
    let keys = token::TokenKeys::from_env()?;
    let registry = wiring::connection_registry(&wiring::environment).await?;
    edge::websocket::run(|event| ws_connect::handle(&keys, registry.as_ref(), event)).await
}
