//! The setNotificationSettings Lambda: opens the notification store (DynamoDB when
//! `NOTIFICATIONS_TABLE` is set) once, then answers API Gateway events with the handler.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    lambda_http::tracing::init_default_subscriber();
    let config = wiring::Config::from_env()?;
    let store = wiring::notification_store(&config).await?;
    edge::run(|request| set_notification_settings::handle(store.as_ref(), request)).await
}
