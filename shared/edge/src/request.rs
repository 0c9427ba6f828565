//! Reading a request: path and query parameters, `If-Match`, and JSON bodies within limits.

use crate::problem::Problem;
use domain::{CartId, ValidationError};
use lambda_http::RequestExt;
use serde::de::{DeserializeOwned, Error as _};
use serde::{Deserialize, Deserializer};

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
    // Every body of the API is an object. serde would take an array for a struct (its fields
    // in order, so `[]` is a struct whose fields all have defaults), and a bare `null` for one
    // whose every field is optional: refuse any other JSON value before it gets that far.
    let first = bytes.iter().find(|b| !b.is_ascii_whitespace());
    if first != Some(&b'{') && serde_json::from_slice::<serde::de::IgnoredAny>(bytes).is_ok() {
        return Err(ValidationError::new("body", "must be a JSON object").into());
    }
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

/// A whole number as JSON Schema's `integer` means it: `3`, or `3.0`. For body fields with
/// `#[serde(deserialize_with = "edge::request::whole_number")]`; the range is checked after.
pub fn whole_number<'de, D: Deserializer<'de>>(deserializer: D) -> Result<i64, D::Error> {
    let number = serde_json::Number::deserialize(deserializer)?;
    number
        .as_i64()
        .or_else(|| {
            number
                .as_f64()
                .filter(|f| f.fract() == 0.0 && f.abs() <= 2f64.powi(53))
                .map(|f| f as i64)
        })
        .ok_or_else(|| D::Error::custom(format!("{number} is not a whole number in range")))
}

/// [`whole_number`] for an optional field (with `#[serde(default)]`).
pub fn optional_whole_number<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<i64>, D::Error> {
    whole_number(deserializer).map(Some)
}

/// An optional field that, when present, is not `null` (the spec gives it a type, not null).
/// For fields with `#[serde(default, deserialize_with = "edge::request::not_null")]`.
pub fn not_null<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
    deserializer: D,
) -> Result<Option<T>, D::Error> {
    T::deserialize(deserializer).map(Some)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Deserialize)]
    struct Line {
        #[serde(deserialize_with = "whole_number")]
        quantity: i64,
    }

    fn quantity(json: &str) -> Result<i64, String> {
        serde_json::from_str::<Line>(json)
            .map(|l| l.quantity)
            .map_err(|e| e.to_string())
    }

    #[derive(Debug, Default, Deserialize)]
    #[allow(dead_code)]
    struct AllOptional {
        #[serde(default)]
        currency: Option<String>,
    }

    #[test]
    fn a_body_that_is_json_but_not_an_object_is_a_400_naming_the_body() {
        for body in ["[]", "[\"EUR\"]", "\"EUR\"", "3", "null", "true", " \n[]"] {
            let request = http::Request::builder()
                .header("content-type", "application/json")
                .body(lambda_http::Body::from(body))
                .unwrap();
            let refused = json_body::<AllOptional>(&request).unwrap_err();
            assert_eq!(refused.status, 400, "{body}");
            assert!(
                format!("{refused:?}").contains("must be a JSON object"),
                "{body}: {refused:?}"
            );
        }
        let object = http::Request::builder()
            .body(lambda_http::Body::from("{}"))
            .unwrap();
        assert!(json_body::<AllOptional>(&object).is_ok());
    }

    #[test]
    fn a_whole_number_may_be_written_with_a_zero_fraction_as_json_schema_allows() {
        assert_eq!(quantity(r#"{"quantity": 3}"#), Ok(3));
        assert_eq!(quantity(r#"{"quantity": 3.0}"#), Ok(3));
        assert_eq!(quantity(r#"{"quantity": -2}"#), Ok(-2));
        assert!(quantity(r#"{"quantity": 3.5}"#).is_err());
        assert!(quantity(r#"{"quantity": 1e300}"#).is_err());
        assert!(quantity(r#"{"quantity": "3"}"#).is_err());
    }
}
