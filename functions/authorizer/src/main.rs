//! The authorizer Lambda: reads its keys once, then answers API Gateway's authorizer events.

use aws_lambda_events::apigw::ApiGatewayCustomAuthorizerRequest;
use lambda_runtime::{LambdaEvent, service_fn};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    lambda_runtime::tracing::init_default_subscriber();
    let keys = token::TokenKeys::from_env()?;
    lambda_runtime::run(service_fn(
        |event: LambdaEvent<ApiGatewayCustomAuthorizerRequest>| {
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_secs() as i64);
            let answer = authorizer::authorize(&keys, &event.payload, now).map_err(|refusal| {
                tracing::info!(?refusal, "request refused");
                // API Gateway answers 401 only for this exact message; any other error is a 500.
                authorizer::UNAUTHORIZED
            });
            async move { answer }
        },
    ))
    .await
}
