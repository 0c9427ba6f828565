//! Reading a request: path and query parameters, `If-Match`, and JSON bodies within limits.

use crate::problem::Problem;
use domain::{CartId, ValidationError};
use lambda_http::RequestExt;
use serde::de::DeserializeOwned;

/// The largest request body accepted, in bytes: a full modifyCart batch fits with room to spare.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// A path parameter as API Gateway extracted it.
pub fn path_param(request: &lambda_http::Request, name: &'static str) -> Result<String, Problem> {
    request
        .path_parameters_ref()
        .and_then(|p| p.first(name))
        .map(str::to_owned)
        .ok_or_else(|| ValidationError::new(name, "is missing from the path").into())
}

/// The `{cartId}` path parameter, parsed.
pub fn cart_id(request: &lambda_http::Request) -> Result<CartId, Problem> {
    Ok(CartId::parse(&path_param(request, "cartId")?)?)
}

/// A query parameter, if present.
pub fn query_param<'r>(request: &'r lambda_http::Request, name: &str) -> Option<&'r str> {
    request
        .query_string_parameters_ref()
        .and_then(|q| q.first(name))
}

/// The version named by `If-Match` (`"7"`, `W/"7"` or `7`), if the header is present.
pub fn if_match(request: &lambda_http::Request) -> Result<Option<u64>, Problem> {
    let Some(value) = request.headers().get(http::header::IF_MATCH) else {
        return Ok(None);
    };
    let text = value.to_str().unwrap_or_default().trim();
    let text = text.strip_prefix("W/").unwrap_or(text).trim_matches('"');
    text.parse().map(Some).map_err(|_| {
        ValidationError::new(
            "If-Match",
            "must be a cart version as the ETag gave it, such as \"7\"",
        )
        .into()
    })
}

/// The body as JSON of type `T`: 413 past the limit, 415 for another media type, 400 for
/// anything that does not parse or does not match `T`.
pub fn json_body<T: DeserializeOwned>(request: &lambda_http::Request) -> Result<T, Problem> {
    let bytes = body_bytes(request)?;
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(Problem::malformed_json("the body is empty"));
    }
    parse_json(request, bytes)
}

/// Like `json_body`, but an empty body is `None`.
pub fn optional_json_body<T: DeserializeOwned>(
    request: &lambda_http::Request,
) -> Result<Option<T>, Problem> {
    let bytes = body_bytes(request)?;
    if bytes.iter().all(u8::is_ascii_whitespace) {
        Ok(None)
    } else {
        parse_json(request, bytes).map(Some)
    }
}

fn body_bytes(request: &lambda_http::Request) -> Result<&[u8], Problem> {
    let bytes: &[u8] = request.body().as_ref();
    if bytes.len() > MAX_BODY_BYTES {
        return Err(Problem::too_large(MAX_BODY_BYTES));
    }
    Ok(bytes)
}

/// True when the request declares a media type that is not JSON. A body that parses as JSON is
/// accepted whatever it declares (curl's `-d` says form-urlencoded); one that does not is
/// answered 415 rather than 400 when its declared type explains why.
fn declares_other_media_type(request: &lambda_http::Request) -> bool {
    request
        .headers()
        .get(http::header::CONTENT_TYPE)
        .is_some_and(|value| {
            let media = value
                .to_str()
                .unwrap_or_default()
                .split(';')
                .next()
                .unwrap_or_default()
                .trim()
                .to_ascii_lowercase();
            media != "application/json" && !media.ends_with("+json")
        })
}

fn parse_json<T: DeserializeOwned>(
    request: &lambda_http::Request,
    bytes: &[u8],
) -> Result<T, Problem> {
    serde_json::from_slice(bytes).map_err(|e| match e.classify() {
        serde_json::error::Category::Data => Problem::from(ValidationError::new(
            "body",
            e.to_string()
                .split(" at line")
                .next()
                .unwrap_or_default()
                .to_owned(),
        )),
        _ if declares_other_media_type(request) => Problem::unsupported_media_type(),
        _ => Problem::malformed_json(e),
    })
}
