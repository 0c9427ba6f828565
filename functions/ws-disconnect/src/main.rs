//! The ws-disconnect Lambda: opens the registry once, then answers `$disconnect`.

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    lambda_runtime::tracing::init_default_subscriber();
    let registry = embedded::store_from_env()?;
    edge::websocket::run(|event| ws_disconnect::handle(registry.as_ref(), event)).await
}
