//! The listMyCarts Lambda: builds its adapters once, then answers API Gateway events with the handler.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    lambda_http::tracing::init_default_subscriber();
    let config = wiring::Config::from_env()?;
    let carts = wiring::cart_reader(&config).await?;
    edge::run(|request| list_my_carts::handle(&carts, request)).await
}
