//! The unshareCart Lambda: builds its adapters once, then answers API Gateway events with the handler.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    lambda_http::tracing::init_default_subscriber();
    let carts = wiring::cart_service(&wiring::environment).await?;
    edge::run(|request| unshare_cart::handle(&carts, request)).await
}
