//! The updateCartSettings Lambda: builds its adapters once, then answers API Gateway events with the handler, once per `Idempotency-Key`.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    lambda_http::tracing::init_default_subscriber();
    let config = wiring::Config::from_env()?;
    let carts = wiring::cart_service(&config).await?;
    let keys = wiring::idempotency_store(&config).await?;
    edge::run_once(keys.as_ref(), |request| {
        update_cart_settings::handle(&carts, request)
    })
    .await
}
