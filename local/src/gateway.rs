//! The emulated API Gateway: route, authorize with the authorizer function, build the REST proxy
//! event the Lambda would receive, invoke the operation's handler, and send its response back.

use crate::dispatch::{self, Target};
use crate::{connections_api, dev, server::Services, web, websocket};
use aws_lambda_events::apigw::{ApiGatewayProxyRequest, ApiGatewayProxyRequestContext};
use aws_lambda_events::query_map::QueryMap;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use bytes::Bytes;
use edge::Problem;
use edge::routes::{self, Miss};
use http::{Method, StatusCode};
use http_body_util::{BodyExt, Full, Limited};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

/// API Gateway's own payload limit; the handlers apply their tighter one.
const GATEWAY_MAX_BODY: usize = 10 * 1024 * 1024;
/// What the proxy event calls our stage and API.
const STAGE: &str = "local";

/// The response type of the local server.
pub type HttpResponse = http::Response<Full<Bytes>>;

/// Answers one HTTP request, logging it as API Gateway's access log would.
pub async fn serve(
    services: &Arc<Services>,
    request: http::Request<hyper::body::Incoming>,
) -> HttpResponse {
    let started = Instant::now();
    let (method, path) = (request.method().clone(), loggable(request.uri().path()));
    let response = route(services, request).await;
    tracing::info!(target: "access", "{method} {path} -> {} in {:.1} ms", response.status().as_u16(), started.elapsed().as_secs_f64() * 1e3);
    response
}

/// `path` as the access log may keep it: an invite's token (`/invites/{token}...`) is a
/// credential, and is left out, as the deployed access log leaves it out by logging the resource.
fn loggable(path: &str) -> String {
    match path.strip_prefix("/invites/") {
        Some(rest) => match rest.split_once('/') {
            Some((_, after)) => format!("/invites/{{token}}/{after}"),
            None => "/invites/{token}".to_owned(),
        },
        None => path.to_owned(),
    }
}

async fn route(
    services: &Arc<Services>,
    request: http::Request<hyper::body::Incoming>,
) -> HttpResponse {
    let path = request.uri().path().to_owned();
    if path.contains(connections_api::PREFIX) {
        let method = request.method().clone();
        return connections_api::handle(services, &method, &path, read_body(request).await);
    }
    let (target, path_parameters) = match (request.method(), path.as_str()) {
        (&Method::GET, websocket::PATH) => {
            return websocket::upgrade(services.clone(), request).await;
        }
        (&Method::POST, "/dev/token") => {
            return dev::token(services, read_body(request).await).await;
        }
        (_, "/dev/token") => return problem(Problem::method_not_allowed(&["POST"])),
        (&Method::GET, "/dev") => return dev::index(),
        (&Method::GET, path)
            if path == "/" || path.starts_with("/web/") || path == "/index.html" =>
        {
            return web::file(path).unwrap_or_else(|| problem(Problem::no_route(path)));
        }
        (&Method::GET, "/dev/noop") => (Target::Noop, HashMap::new()),
        (method, path) => match routes::match_route(method.as_str(), path) {
            Ok((route, params)) => {
                // API Gateway hands functions their path parameters decoded.
                let decoded = params
                    .into_iter()
                    .map(|(k, v)| (k.to_owned(), percent_decode(v)))
                    .collect();
                (Target::Operation(route.operation, route.resource), decoded)
            }
            Err(Miss::NotFound) => return problem(Problem::no_route(path)),
            Err(Miss::MethodNotAllowed(allowed)) => {
                return problem(Problem::method_not_allowed(&allowed));
            }
        },
    };
    let (parts, body) = request.into_parts();
    let body = match read_body_limited(body).await {
        Ok(body) => body,
        Err(problem_response) => return problem_response,
    };
    let Some(claims) = authorize(services, &parts).await else {
        let problem =
            Problem::unauthenticated().with_header(http::header::WWW_AUTHENTICATE, "Bearer");
        return into_http(problem.into_response());
    };
    if let Err(throttled) = throttle(services, &claims) {
        return problem(throttled);
    }
    let event = proxy_event(&parts, &target, &path, path_parameters, claims, body);
    // As the function's runner reads it: values lambda_http cannot parse are dropped first.
    let request = edge::event::request(event);
    // A Lambda invocation runs to its end when the client hangs up; so does this one, on its
    // own task, rather than being dropped with the connection halfway through a change.
    let services = services.clone();
    let invocation =
        tokio::spawn(async move { dispatch::invoke(&services, target, request).await });
    let response = invocation
        .await
        .unwrap_or_else(|failed| Problem::internal(&failed).into_response());
    into_http(response)
}

/// Runs the authorizer Lambda's own logic on the `Authorization` header; its context is what
/// API Gateway would put under `requestContext.authorizer`. `None`: refused (401).
async fn authorize(
    services: &Services,
    parts: &http::request::Parts,
) -> Option<HashMap<String, serde_json::Value>> {
    let event = authorizer::AuthorizerRequest {
        kind: Some("TOKEN".into()),
        authorization_token: parts
            .headers
            .get(http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned),
        method_arn: Some(format!(
            "arn:aws:execute-api:local:000000000000:{STAGE}/{STAGE}/{}{}",
            parts.method,
            parts.uri.path()
        )),
        query_string_parameters: None,
    };
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    match authorizer::authorize(&services.verifier, &event, now).await {
        Ok(answer) => {
            let mut fields: HashMap<String, serde_json::Value> = match answer.context {
                serde_json::Value::Object(map) => map.into_iter().collect(),
                _ => HashMap::new(),
            };
            fields.insert(
                "principalId".into(),
                answer.principal_id.unwrap_or_default().into(),
            );
            Some(fields)
        }
        Err(refusal) => {
            tracing::debug!(?refusal, "authorizer refused the request");
            None
        }
    }
}

/// Takes a token from the caller's bucket: API Gateway's usage-plan throttle, per user rather
/// than per API key. The caller is the authorizer's principal.
fn throttle(
    services: &Services,
    claims: &HashMap<String, serde_json::Value>,
) -> Result<(), Problem> {
    let (Some(buckets), Some(user)) = (
        &services.throttle,
        claims.get("principalId").and_then(|p| p.as_str()),
    ) else {
        return Ok(());
    };
    buckets.take(user, Instant::now()).map_err(|wait| {
        domain::metrics::count(domain::metrics::Metric::RateLimited, 1);
        Problem::rate_limited(buckets.rate(), "user", wait)
    })
}

/// The REST proxy event API Gateway would send the operation's Lambda.
fn proxy_event(
    parts: &http::request::Parts,
    target: &Target,
    path: &str,
    path_parameters: HashMap<String, String>,
    authorizer_fields: HashMap<String, serde_json::Value>,
    body: Bytes,
) -> ApiGatewayProxyRequest {
    let resource = match target {
        Target::Operation(_, resource) => *resource,
        Target::Noop => "/dev/noop",
    };
    let query: QueryMap = parts
        .uri
        .query()
        .unwrap_or_default()
        .parse()
        .unwrap_or_default();

    let mut context = ApiGatewayProxyRequestContext::default();
    context.stage = Some(STAGE.into());
    context.request_id = Some(uuid::Uuid::new_v4().to_string());
    context.resource_path = Some(resource.into());
    context.path = Some(format!("/{STAGE}{path}"));
    context.http_method = parts.method.clone();
    context.apiid = Some(STAGE.into());
    context.account_id = Some("000000000000".into());
    context.request_time_epoch = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64);
    context.protocol = Some("HTTP/1.1".into());
    context.authorizer.fields = authorizer_fields;

    let mut event = ApiGatewayProxyRequest::default();
    event.resource = Some(resource.into());
    event.path = Some(path.into());
    event.http_method = parts.method.clone();
    event.headers = parts.headers.clone();
    event.query_string_parameters = query.clone();
    event.multi_value_query_string_parameters = query;
    event.path_parameters = path_parameters;
    event.request_context = context;
    (event.body, event.is_base64_encoded) = match String::from_utf8(body.to_vec()) {
        Ok(text) if text.is_empty() => (None, false),
        Ok(text) => (Some(text), false),
        // Binary bodies travel base64-encoded, as API Gateway sends them.
        Err(e) => (Some(STANDARD.encode(e.as_bytes())), true),
    };
    event
}

fn percent_decode(raw: &str) -> String {
    percent_encoding::percent_decode_str(raw)
        .decode_utf8_lossy()
        .into_owned()
}

async fn read_body_limited(body: hyper::body::Incoming) -> Result<Bytes, HttpResponse> {
    match Limited::new(body, GATEWAY_MAX_BODY).collect().await {
        Ok(collected) => Ok(collected.to_bytes()),
        Err(_) => Err(problem(Problem::too_large(GATEWAY_MAX_BODY))),
    }
}

/// The body of a request the gateway answers itself; oversized or broken bodies read as empty
/// and fail those routes' own validation.
async fn read_body(request: http::Request<hyper::body::Incoming>) -> Bytes {
    read_body_limited(request.into_body())
        .await
        .unwrap_or_default()
}

/// A handler's response as the gateway sends it.
pub fn into_http(response: edge::Response) -> HttpResponse {
    let (parts, body) = response.into_parts();
    let bytes = match body {
        lambda_http::Body::Text(text) => Bytes::from(text),
        lambda_http::Body::Binary(bytes) => Bytes::from(bytes),
        _ => Bytes::new(),
    };
    http::Response::from_parts(parts, Full::new(bytes))
}

/// A problem answered by the gateway itself.
pub fn problem(problem: Problem) -> HttpResponse {
    into_http(problem.into_response())
}

/// A JSON answer from the gateway itself.
pub fn json(status: StatusCode, value: &serde_json::Value) -> HttpResponse {
    into_http(edge::respond::json(status, value))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_parameters_are_percent_decoded_as_api_gateway_does() {
        assert_eq!(percent_decode("a%40b"), "a@b");
    }

    #[test]
    fn the_access_log_keeps_no_invite_token() {
        assert_eq!(
            loggable("/invites/c.s3cret/accept"),
            "/invites/{token}/accept"
        );
        assert_eq!(loggable("/invites/c.s3cret"), "/invites/{token}");
        assert_eq!(loggable("/carts/c/items"), "/carts/c/items");
    }
}
