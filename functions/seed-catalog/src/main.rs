//! The seed-catalog Lambda: builds the catalog (Keyspaces, from `CASSANDRA_CONTACT_POINTS`) once,
//! then answers CloudFormation's custom resource requests.

use lambda_runtime::{LambdaEvent, service_fn};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    lambda_runtime::tracing::init_default_subscriber();
    let config = wiring::Config::from_env()?;
    let catalog = wiring::catalog(&config).await?;
    let answer = custom_resource::HttpsAnswer::new()?;
    lambda_runtime::run(service_fn(|event: LambdaEvent<serde_json::Value>| {
        let (catalog, answer) = (catalog.as_ref(), &answer);
        async move {
            // Without a readable request there is no URL to answer at; CloudFormation times it out.
            match serde_json::from_value::<custom_resource::ResourceRequest>(event.payload) {
                Ok(request) => {
                    seed_catalog::handle(catalog, answer, &request).await;
                }
                Err(e) => tracing::error!(error = %e, "not a custom resource request"),
            }
            Ok::<_, std::convert::Infallible>(())
        }
    }))
    .await
}
