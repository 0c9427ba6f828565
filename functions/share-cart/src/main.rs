//! The shareCart Lambda: builds its adapters (the cart service and the directory, DynamoDB when
//! `PROFILES_TABLE` is set) once, then answers API Gateway events with the handler, once per
//! `Idempotency-Key`.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    lambda_http::tracing::init_default_subscriber();
    let config = wiring::Config::from_env()?;
    let carts = wiring::cart_service(&config).await?;
    let directory = wiring::directory(&config).await?;
    let keys = wiring::idempotency_store(&config).await?;
    edge::run_once(keys.as_ref(), |request| {
        share_cart::handle(&carts, directory.as_ref(), request)
    })
    .await
}
