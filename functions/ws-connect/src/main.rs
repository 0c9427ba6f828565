//! The ws-connect Lambda: reads its keys and opens the registry once, then answers `$connect`.

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    lambda_runtime::tracing::init_default_subscriber();
    let keys = token::TokenKeys::from_env()?;
    let registry = embedded::store_from_env()?;
    edge::websocket::run(|event| ws_connect::handle(&keys, registry.as_ref(), event)).await
}
