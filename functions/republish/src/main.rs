//! The republish Lambda: opens the cart store and the event publisher once, then relays on
//! every scheduled invocation.

use lambda_runtime::{LambdaEvent, service_fn};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    lambda_runtime::tracing::init_default_subscriber();
    edge::metrics::install_on_lambda();
    let config = wiring::Config::from_env()?;
    let relay = wiring::relay(&config).await?;
    lambda_runtime::run(service_fn(|_: LambdaEvent<serde_json::Value>| {
        let relay = &relay;
        async move {
            let relayed = republish::handle(relay).await;
            edge::metrics::flush();
            relayed.map_err(|e| -> lambda_runtime::Error { Box::new(e) })
        }
    }))
    .await
}
