//! The WebSocket edge: what every WebSocket function reads from API Gateway's event and how it
//! answers. The functions take the typed event (`ApiGatewayWebsocketProxyRequest`) through the
//! plain Lambda runtime; a non-200 answer to `$connect` refuses the handshake.

use aws_lambda_events::apigw::{ApiGatewayProxyResponse, ApiGatewayWebsocketProxyRequest};
use aws_lambda_events::encodings::Body;
use domain::ConnectionId;

/// The WebSocket API's routes (route key, function package). API Gateway picks the route by
/// the message's `action` (`$request.body.action`); unknown actions go to `$default`.
pub const ROUTES: &[(&str, &str)] = &[
    ("$connect", "ws-connect"),
    ("$disconnect", "ws-disconnect"),
    ("subscribe", "ws-message"),
    ("unsubscribe", "ws-message"),
    ("ping", "ws-message"),
    ("$default", "ws-message"),
];

/// The event every WebSocket function takes.
pub type Event = ApiGatewayWebsocketProxyRequest;
/// The answer every WebSocket function gives.
pub type Answer = ApiGatewayProxyResponse;

/// The connection the event is about; `None` only for an event API Gateway would never send.
pub fn connection_id(event: &Event) -> Option<ConnectionId> {
    event
        .request_context
        .connection_id
        .as_deref()
        .and_then(|id| ConnectionId::parse(id).ok())
}

/// An answer with `status` and, for two-way routes, a message back to the client.
pub fn answer(status: u16, body: Option<String>) -> Answer {
    let mut answer = ApiGatewayProxyResponse::default();
    answer.status_code = i64::from(status);
    answer.body = body.map(Body::Text);
    answer
}

/// Runs a WebSocket handler as a Lambda function: the body of every WebSocket `main.rs`.
pub async fn run<F, Fut>(handler: F) -> Result<(), lambda_runtime::Error>
where
    F: Fn(Event) -> Fut,
    Fut: std::future::Future<Output = Answer> + Send,
{
    crate::metrics::install_on_lambda();
    lambda_runtime::run(lambda_runtime::service_fn(
        move |event: lambda_runtime::LambdaEvent<Event>| {
            let answer = handler(event.payload);
            async move {
                let answer = answer.await;
                crate::metrics::flush();
                Ok::<_, std::convert::Infallible>(answer)
            }
        },
    ))
    .await
}
