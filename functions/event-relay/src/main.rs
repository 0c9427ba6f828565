//! The event-relay Lambda: connects to the brokers (`KAFKA_BROKERS`; `KAFKA_AUTH=iam` for TLS
//! and MSK IAM with the function's role) and the topic (`EVENTS_TOPIC`, default `cart-events`)
//! once, then relays SQS batches.

use aws_lambda_events::event::sqs::SqsEvent;
use lambda_runtime::{LambdaEvent, service_fn};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    lambda_runtime::tracing::init_default_subscriber();
    let brokers = std::env::var("KAFKA_BROKERS").map_err(|_| "KAFKA_BROKERS must be set")?;
    let topic = std::env::var("EVENTS_TOPIC").unwrap_or_else(|_| "cart-events".to_owned());
    let security = match std::env::var("KAFKA_AUTH").as_deref() {
        Ok("iam") => {
            let aws = aws_config::load_from_env().await;
            kafka::Security::MskIam {
                credentials: aws
                    .credentials_provider()
                    .ok_or("no AWS credentials for MSK IAM")?,
                region: aws.region().ok_or("AWS_REGION must be set")?.to_string(),
            }
        }
        Ok("none") | Err(_) => kafka::Security::Plaintext,
        Ok(other) => return Err(format!("KAFKA_AUTH: '{other}' is not 'iam' or 'none'").into()),
    };
    let brokers = brokers.split(',').map(str::to_owned).collect();
    let client = kafka::connect_with(brokers, security).await?;
    let publisher = kafka::KafkaPublisher::connect(&client, &topic).await?;
    lambda_runtime::run(service_fn(|event: LambdaEvent<SqsEvent>| {
        let publisher = &publisher;
        async move {
            Ok::<_, std::convert::Infallible>(event_relay::handle(publisher, event.payload).await)
        }
    }))
    .await
}
