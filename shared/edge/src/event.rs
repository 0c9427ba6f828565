//! The REST proxy event, made safe to read before lambda_http reads it.
//!
//! lambda_http builds a request's URI from the event's `Host` header (or the API's domain
//! name), `X-Forwarded-Proto`, stage and path, and unwraps every step: a value it cannot parse
//! panics, and on Lambda (built with `panic = "abort"`) a panic ends the instance. Fuzzing found
//! one (a `Host` of `abcdef]1234.execute-api...`). API Gateway sets these itself, but the local
//! gateway copies them from the client. So they are checked first: a host or scheme that would
//! not parse is dropped (the URI falls back to the API's domain name and `https`), a stage that
//! is not a stage name is dropped, and the path is percent-encoded into a valid URI path.

use crate::Request;
use aws_lambda_events::apigw::ApiGatewayProxyRequest;
use lambda_http::request::LambdaRequest;
use percent_encoding::{AsciiSet, CONTROLS, utf8_percent_encode};

/// What may stay unencoded in a URI path: RFC 3986's `pchar` and `/`, with `%` left as sent
/// (API Gateway hands paths over raw, escapes included).
const NOT_PATH: &AsciiSet = &CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'#')
    .add(b'<')
    .add(b'>')
    .add(b'?')
    .add(b'[')
    .add(b'\\')
    .add(b']')
    .add(b'^')
    .add(b'`')
    .add(b'{')
    .add(b'|')
    .add(b'}');

/// The request a function reads from `event`, after [`checked`].
pub fn request(event: ApiGatewayProxyRequest) -> Request {
    Request::from(LambdaRequest::ApiGatewayV1(checked(event)))
}

/// `event` with every value lambda_http would fail to parse dropped or encoded.
pub fn checked(mut event: ApiGatewayProxyRequest) -> ApiGatewayProxyRequest {
    // Both parsers lambda_http runs: the URL one, then http's stricter URI one.
    let host_is_bad = |host: &str| {
        url::Url::parse(&format!("https://{host}/"))
            .map_or(true, |url| http::Uri::try_from(url.as_str()).is_err())
    };
    let header = |event: &ApiGatewayProxyRequest, name: &http::HeaderName| {
        event
            .headers
            .get_all(name)
            .iter()
            .chain(event.multi_value_headers.get_all(name))
            .any(|value| {
                value
                    .to_str()
                    .map_or(true, |v| host_is_bad(v) || v.is_empty())
            })
    };
    if header(&event, &http::header::HOST) {
        event.headers.remove(http::header::HOST);
        event.multi_value_headers.remove(http::header::HOST);
    }
    if event
        .request_context
        .domain_name
        .as_deref()
        .is_some_and(|d| d.is_empty() || host_is_bad(d))
    {
        event.request_context.domain_name = None;
    }
    let forwarded_proto = http::HeaderName::from_static("x-forwarded-proto");
    let scheme_is_bad = event
        .headers
        .get_all(&forwarded_proto)
        .iter()
        .chain(event.multi_value_headers.get_all(&forwarded_proto))
        .any(|v| !matches!(v.to_str(), Ok("http" | "https")));
    if scheme_is_bad {
        event.headers.remove(&forwarded_proto);
        event.multi_value_headers.remove(&forwarded_proto);
    }
    let stage_is_bad = |stage: &str| {
        stage.is_empty()
            || !stage
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-' || b == b'$')
    };
    if event
        .request_context
        .stage
        .as_deref()
        .is_some_and(stage_is_bad)
    {
        event.request_context.stage = None;
    }
    if let Some(path) = &event.path {
        let rooted = if path.starts_with('/') {
            path.clone()
        } else {
            format!("/{path}")
        };
        event.path = Some(utf8_percent_encode(&rooted, NOT_PATH).to_string());
    }
    event
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event_with(host: &str, proto: &str, path: &str) -> ApiGatewayProxyRequest {
        let mut event = ApiGatewayProxyRequest::default();
        event.http_method = http::Method::GET;
        event.path = Some(path.into());
        for (name, value) in [("host", host), ("x-forwarded-proto", proto)] {
            if let Ok(value) = http::HeaderValue::from_str(value) {
                event
                    .headers
                    .insert(http::HeaderName::from_static(name), value);
            }
        }
        event.request_context.stage = Some("prod".into());
        event
    }

    #[test]
    fn values_lambda_http_would_panic_on_become_a_request() {
        for (host, proto, path) in [
            (
                "abcdef]1234.execute-api.eu-west-1.amazonaws.com",
                "https",
                "/items",
            ),
            ("1.2.3.999", "https", "/items"),
            ("api.eu-w{t-1.amazonaws.com", "https", "/items"),
            ("", "https", "/items"),
            ("api.example.com", "a b", "/items"),
            ("api.example.com", "https", "items?x=1#frag"),
            ("api.example.com", "https", "/carts/{cartId}/ünïcode [x]"),
        ] {
            let request = request(event_with(host, proto, path));
            assert!(
                request.uri().path().starts_with('/'),
                "{host} {proto} {path}"
            );
        }
    }

    #[test]
    fn a_well_formed_event_is_unchanged() {
        let event = event_with("api.example.com", "https", "/carts/3f2b/items");
        assert_eq!(checked(event.clone()).path, event.path);
        assert_eq!(checked(event.clone()).headers, event.headers);
        let request = request(event);
        assert_eq!(request.uri().host(), Some("api.example.com"));
    }
}
