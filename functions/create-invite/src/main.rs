//! The createInvite Lambda: builds its adapters once, then answers API Gateway events with the
//! handler. It keeps no answer under an `Idempotency-Key`: the answer holds a token, which
//! nothing may keep but its hash, and a retry merely makes another link.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    lambda_http::tracing::init_default_subscriber();
    let config = wiring::Config::from_env()?;
    let carts = wiring::cart_service(&config).await?;
    // Where the page is served, for the links: without it, answers hold the token alone.
    let page = std::env::var("PAGE_URL").ok().filter(|p| !p.is_empty());
    edge::run(|request| create_invite::handle(&carts, page.as_deref(), request)).await
}
