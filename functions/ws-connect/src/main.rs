//! The ws-connect Lambda: reads its verifier and opens the registry once (DynamoDB when
//! `CONNECTIONS_TABLE` is set), then answers `$connect`.

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    lambda_runtime::tracing::init_default_subscriber();
    let config = wiring::Config::from_env()?;
    let verifier = token::Verifier::from_env()?;
    let registry = wiring::connection_registry(&config).await?;
    let connect = ws_connect::Connect {
        verifier: &verifier,
        registry: registry.as_ref(),
        per_user: config.connections_per_user,
    };
    edge::websocket::run(|event| ws_connect::handle(&connect, event)).await
}
