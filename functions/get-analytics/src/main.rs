//! The getAnalytics Lambda: opens the analytics store (DynamoDB when `ANALYTICS_TABLE` is set)
//! once, then answers API Gateway events with the handler.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    lambda_http::tracing::init_default_subscriber();
    let config = wiring::Config::from_env()?;
    let store = wiring::analytics_store(&config).await?;
    edge::run(|request| get_analytics::handle(store.as_ref(), request)).await
}
