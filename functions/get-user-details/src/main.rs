//! The getUserDetails Lambda: builds its adapters (the cart service and the directory, DynamoDB
//! when `PROFILES_TABLE` is set) once, then answers API Gateway events with the handler.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    lambda_http::tracing::init_default_subscriber();
    let config = wiring::Config::from_env()?;
    let carts = wiring::cart_reader(&config).await?;
    let directory = wiring::directory(&config).await?;
    edge::run(|request| get_user_details::handle(&carts, directory.as_ref(), request)).await
}
