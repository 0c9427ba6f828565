//! The notify Lambda: opens its stores, the connection registry, the directory and the mailer
//! (SES when `MAIL_FROM` is set, none otherwise) once, then notifies from MSK batches. A failed batch returns an
//! error, so the event source mapping delivers it again.

use lambda_runtime::{LambdaEvent, service_fn};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    lambda_runtime::tracing::init_default_subscriber();
    let config = wiring::Config::from_env()?;
    let notify = notify::Notify {
        store: wiring::notification_store(&config).await?,
        registry: wiring::connection_registry(&config).await?,
        directory: wiring::directory(&config).await?,
        mailer: wiring::mailer(&config).await,
        mails_per_hour: config.mails_per_hour,
        page: config.page_url.clone(),
    };
    lambda_runtime::run(service_fn(|event: LambdaEvent<serde_json::Value>| {
        let notify = &notify;
        async move {
            notify::handle(notify, edge::records::batch_or_empty(event.payload))
                .await
                .map(|_| ())
        }
    }))
    .await
}
