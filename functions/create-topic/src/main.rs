//! The create-topic Lambda: reads its config (`MSK_CLUSTER_ARN` or `KAFKA_BROKERS`,
//! `KAFKA_AUTH=iam`) once, then answers CloudFormation's custom resource requests. It connects to
//! the brokers per request, so a cluster unreachable at cold start still gets its `FAILED` answer.

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    lambda_runtime::tracing::init_default_subscriber();
    let topics = create_topic::KafkaTopics::new(wiring::Config::from_env()?);
    let answer = custom_resource::HttpsAnswer::new()?;
    let (topics, answer) = (&topics, &answer);
    custom_resource::run(
        |request| async move { create_topic::handle(topics, answer, &request).await },
    )
    .await
}
