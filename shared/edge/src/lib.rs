//! The HTTP edge shared by every REST function: the route table, the caller's identity as the
//! authorizer passed it, request bodies and parameters with their limits, and the one place where
//! errors become `application/problem+json` responses. Handlers always return a response: an
//! expected failure is a 4xx, never an `Err` that API Gateway would turn into a 502. It also
//! reads what the other triggers hand a function: WebSocket events and MSK records.

pub mod event;
pub mod idempotency;
pub mod identity;
pub mod metrics;
pub mod problem;
pub mod records;
pub mod request;
pub mod respond;
pub mod routes;
#[cfg(any(test, feature = "testing"))]
pub mod testing;
pub mod websocket;

use aws_lambda_events::apigw::{ApiGatewayProxyRequest, ApiGatewayProxyResponse};
pub use identity::Caller;
pub use lambda_http::{Body, Request};
pub use problem::Problem;

/// What every handler returns.
pub type Response = http::Response<Body>;

/// Runs `handler` as a Lambda function behind API Gateway REST: the body of every `main.rs`.
///
/// The handler cannot fail: every outcome, errors included, is already a response. The event
/// is read through [`event::request`], which lambda_http's own runner would not do.
pub async fn run<F, Fut>(handler: F) -> Result<(), lambda_http::Error>
where
    F: Fn(Request) -> Fut,
    Fut: std::future::Future<Output = Response> + Send,
{
    use tracing::Instrument;
    metrics::install_on_lambda();
    lambda_runtime::run(lambda_runtime::service_fn(
        move |invocation: lambda_runtime::LambdaEvent<ApiGatewayProxyRequest>| {
            let span = request_span(&invocation.payload);
            let response = span.in_scope(|| handler(event::request(invocation.payload)));
            async move {
                let response = proxy_response(response.await);
                metrics::flush();
                Ok::<_, std::convert::Infallible>(response)
            }
            .instrument(span)
        },
    ))
    .await
}

/// The span every log line of one request is in: API Gateway's request id, and the caller's
/// user id as the authorizer gave it (empty before the authorizer, or without one).
fn request_span(event: &ApiGatewayProxyRequest) -> tracing::Span {
    let context = &event.request_context;
    let user_id = context
        .authorizer
        .fields
        .get(identity::context_keys::USER_ID)
        .and_then(|v| v.as_str())
        .unwrap_or_default();
    tracing::info_span!(
        "request",
        request_id = context.request_id.as_deref().unwrap_or_default(),
        user_id
    )
}

/// A handler's response as API Gateway REST takes it back (as lambda_http makes it: the headers
/// as multi-value headers only, so none is sent twice).
pub fn proxy_response(response: Response) -> ApiGatewayProxyResponse {
    let (parts, body) = response.into_parts();
    let mut proxied = ApiGatewayProxyResponse::default();
    proxied.status_code = i64::from(parts.status.as_u16());
    proxied.multi_value_headers = parts.headers;
    (proxied.is_base64_encoded, proxied.body) = match body {
        Body::Empty => (false, None),
        text @ Body::Text(_) => (false, Some(text)),
        binary @ Body::Binary(_) => (true, Some(binary)),
        _ => (false, None),
    };
    proxied
}

/// Runs a mutating operation's `handler` as a Lambda, at most once per `Idempotency-Key`
/// (see [`idempotency`]), with the answers kept in `keys`.
pub async fn run_once<F, Fut>(
    keys: &dyn domain::idempotency::IdempotencyStore,
    handler: F,
) -> Result<(), lambda_http::Error>
where
    F: Fn(Request) -> Fut + Sync,
    Fut: std::future::Future<Output = Response> + Send,
{
    run(|request| idempotency::once(keys, request, &handler)).await
}
