//! The event-relay Lambda: connects to the brokers (`KAFKA_BROKERS`; `KAFKA_AUTH=iam` for TLS
//! and MSK IAM with the function's role) and the topic (`EVENTS_TOPIC`, default `cart-events`)
//! once, then relays SQS batches.

use aws_lambda_events::event::sqs::SqsEvent;
use lambda_runtime::{LambdaEvent, service_fn};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    lambda_runtime::tracing::init_default_subscriber();
    edge::metrics::install_on_lambda();
    let config = wiring::Config::from_env()?;
    let publisher = wiring::kafka_publisher(&config)
        .await?
        .ok_or("KAFKA_BROKERS or MSK_CLUSTER_ARN must be set")?;
    lambda_runtime::run(service_fn(|event: LambdaEvent<SqsEvent>| {
        let publisher = &publisher;
        async move {
            let relayed = event_relay::handle(publisher, event.payload).await;
            edge::metrics::flush();
            Ok::<_, std::convert::Infallible>(relayed)
        }
    }))
    .await
}
