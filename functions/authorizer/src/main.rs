//! The authorizer Lambda: reads its verifier's settings once (the issuer's keys are fetched on
//! the first token and cached), then answers API Gateway's authorizer events.

use lambda_runtime::{LambdaEvent, service_fn};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    lambda_runtime::tracing::init_default_subscriber();
    let verifier = token::Verifier::from_env()?;
    lambda_runtime::run(service_fn(
        |event: LambdaEvent<authorizer::AuthorizerRequest>| {
            let verifier = &verifier;
            async move {
                let now = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map_or(0, |d| d.as_secs() as i64);
                authorizer::authorize(verifier, &event.payload, now)
                    .await
                    .map_err(|refusal| match refusal {
                        // Not the caller's fault: API Gateway answers 500 for any other error.
                        authorizer::Refusal::Invalid(token::TokenError::KeysUnavailable(why)) => {
                            tracing::error!(why, "the issuer's keys cannot be fetched");
                            lambda_runtime::Error::from(why)
                        }
                        refusal => {
                            tracing::info!(?refusal, "request refused");
                            // API Gateway answers 401 only for this exact message.
                            authorizer::UNAUTHORIZED.into()
                        }
                    })
            }
        },
    ))
    .await
}
