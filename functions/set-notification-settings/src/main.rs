//! The setNotificationSettings Lambda: opens the notification store (DynamoDB when
//! `NOTIFICATIONS_TABLE` is set) once, then answers API Gateway events with the handler, once
//! per `Idempotency-Key`.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    lambda_http::tracing::init_default_subscriber();
    let config = wiring::Config::from_env()?;
    let store = wiring::notification_store(&config).await?;
    let keys = wiring::idempotency_store(&config).await?;
    edge::run_once(keys.as_ref(), |request| {
        set_notification_settings::handle(store.as_ref(), request)
    })
    .await
}
