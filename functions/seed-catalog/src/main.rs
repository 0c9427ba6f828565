//! The seed-catalog Lambda: reads its config (`CASSANDRA_CONTACT_POINTS` and the rest) once, then
//! answers CloudFormation's custom resource requests. The catalog is opened by the first request,
//! so a keyspace unreachable at cold start still gets its `FAILED` answer.

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    lambda_runtime::tracing::init_default_subscriber();
    let catalog = seed_catalog::CatalogOnDemand::new(wiring::Config::from_env()?);
    let answer = custom_resource::HttpsAnswer::new()?;
    let (catalog, answer) = (&catalog, &answer);
    custom_resource::run(
        |request| async move { seed_catalog::handle(catalog, answer, &request).await },
    )
    .await
}
