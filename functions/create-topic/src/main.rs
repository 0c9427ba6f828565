//! The create-topic Lambda: reads its config (`MSK_CLUSTER_ARN` or `KAFKA_BROKERS`,
//! `KAFKA_AUTH=iam`) once, then answers CloudFormation's custom resource requests. It connects to
//! the brokers per request, so a cluster unreachable at cold start still gets its `FAILED` answer.

use lambda_runtime::{LambdaEvent, service_fn};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    lambda_runtime::tracing::init_default_subscriber();
    let topics = create_topic::KafkaTopics::new(wiring::Config::from_env()?);
    let answer = custom_resource::HttpsAnswer::new()?;
    lambda_runtime::run(service_fn(|event: LambdaEvent<serde_json::Value>| {
        let (topics, answer) = (&topics, &answer);
        async move {
            // Without a readable request there is no URL to answer at; CloudFormation times it out.
            match serde_json::from_value::<custom_resource::ResourceRequest>(event.payload) {
                Ok(request) => {
                    create_topic::handle(topics, answer, &request).await;
                }
                Err(e) => tracing::error!(error = %e, "not a custom resource request"),
            }
            Ok::<_, std::convert::Infallible>(())
        }
    }))
    .await
}
