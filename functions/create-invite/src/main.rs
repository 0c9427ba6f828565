//! The createInvite Lambda: builds its adapters once, then answers API Gateway events with the handler, once per `Idempotency-Key`.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    lambda_http::tracing::init_default_subscriber();
    let config = wiring::Config::from_env()?;
    let carts = wiring::cart_service(&config).await?;
    let keys = wiring::idempotency_store(&config).await?;
    // Where the page is served, for the links: without it, the API's own origin.
    let page = std::env::var("PAGE_URL").ok().filter(|p| !p.is_empty());
    edge::run_once(keys.as_ref(), |request| {
        create_invite::handle(&carts, page.as_deref(), request)
    })
    .await
}
