//! The event-relay Lambda: connects to the brokers (`KAFKA_BROKERS`) and the topic
//! (`EVENTS_TOPIC`, default `cart-events`) once, then relays SQS batches.

use aws_lambda_events::event::sqs::SqsEvent;
use lambda_runtime::{LambdaEvent, service_fn};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    lambda_runtime::tracing::init_default_subscriber();
    let brokers = std::env::var("KAFKA_BROKERS").map_err(|_| "KAFKA_BROKERS must be set")?;
    let topic = std::env::var("EVENTS_TOPIC").unwrap_or_else(|_| "cart-events".to_owned());
    let client = kafka::connect(brokers.split(',').map(str::to_owned).collect()).await?;
    let publisher = kafka::KafkaPublisher::connect(&client, &topic).await?;
    lambda_runtime::run(service_fn(|event: LambdaEvent<SqsEvent>| {
        let publisher = &publisher;
        async move {
            Ok::<_, std::convert::Infallible>(event_relay::handle(publisher, event.payload).await)
        }
    }))
    .await
}
