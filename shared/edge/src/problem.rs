//! RFC 9457 problem details: the one place where errors become statuses and bodies.
//!
//! 4xx bodies explain what to fix; 5xx bodies are opaque and the cause goes to the log.

use crate::Response;
use domain::{CartError, ValidationError};
use http::StatusCode;
use serde_json::{Map, Value, json};

/// The media type of every error body.
pub const CONTENT_TYPE: &str = "application/problem+json";

/// An error response in the making.
#[derive(Debug, Clone, PartialEq)]
pub struct Problem {
    /// The HTTP status.
    pub status: StatusCode,
    /// The stable code clients branch on (`VERSION_CONFLICT`).
    pub code: &'static str,
    /// What happened and what to do, for people.
    pub detail: String,
    /// More members (`currentVersion`, `shortages`, `field`...).
    pub extra: Map<String, Value>,
    /// Extra response headers (`Retry-After`, `Allow`).
    pub headers: Vec<(http::HeaderName, String)>,
}

impl Problem {
    /// A problem with no extra members.
    pub fn new(status: StatusCode, code: &'static str, detail: impl Into<String>) -> Self {
        Self {
            status,
            code,
            detail: detail.into(),
            extra: Map::new(),
            headers: Vec::new(),
        }
    }

    /// Adds a member to the body.
    pub fn with(mut self, key: &str, value: impl Into<Value>) -> Self {
        self.extra.insert(key.to_owned(), value.into());
        self
    }

    /// Adds a response header.
    pub fn with_header(mut self, name: http::HeaderName, value: impl Into<String>) -> Self {
        self.headers.push((name, value.into()));
        self
    }

    /// No valid identity reached the function.
    pub fn unauthenticated() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "UNAUTHENTICATED",
            "a valid bearer token is required",
        )
    }

    /// The token was valid when the authorizer saw it, and has expired since.
    pub fn token_expired() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "UNAUTHENTICATED",
            "the token has expired; sign in again",
        )
        .with_header(
            http::header::WWW_AUTHENTICATE,
            "Bearer error=\"invalid_token\"",
        )
    }

    /// The caller lacks a scope the operation needs.
    pub fn missing_scope(scope: &str) -> Self {
        Self::new(
            StatusCode::FORBIDDEN,
            "SCOPE_REQUIRED",
            format!("this operation needs the '{scope}' scope"),
        )
        .with("scope", scope)
    }

    /// A request body that is not JSON.
    pub fn malformed_json(detail: impl std::fmt::Display) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "MALFORMED_JSON",
            format!("the body is not valid JSON: {detail}"),
        )
    }

    /// A body larger than the limit.
    pub fn too_large(limit: usize) -> Self {
        Self::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "PAYLOAD_TOO_LARGE",
            format!("request bodies are limited to {limit} bytes"),
        )
        .with("limit", limit)
    }

    /// A body that is not JSON by its content type.
    pub fn unsupported_media_type() -> Self {
        Self::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "UNSUPPORTED_MEDIA_TYPE",
            "send the body as application/json",
        )
    }

    /// No route has this path.
    pub fn no_route(path: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "ROUTE_NOT_FOUND",
            format!("no route matches {path}"),
        )
    }

    /// The path exists but not with this method.
    pub fn method_not_allowed(allowed: &[&str]) -> Self {
        Self::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "METHOD_NOT_ALLOWED",
            format!("this path accepts {}", allowed.join(", ")),
        )
        .with_header(http::header::ALLOW, allowed.join(", "))
    }

    /// The caller went faster than `rate` allows; a token is back after `wait`.
    pub fn rate_limited(rate: domain::limits::Rate, per: &str, wait: std::time::Duration) -> Self {
        Self::new(
            StatusCode::TOO_MANY_REQUESTS,
            "RATE_LIMITED",
            format!(
                "at most {} requests per second per {per} (bursts of {}); retry after Retry-After seconds",
                rate.per_second, rate.burst
            ),
        )
        .with("limit", rate.per_second)
        .with("burst", rate.burst)
        .with_header(
            http::header::RETRY_AFTER,
            domain::limits::retry_after_seconds(wait).to_string(),
        )
    }

    /// Something failed on our side; `cause` is logged, never sent.
    pub fn internal(cause: &(dyn std::error::Error + 'static)) -> Self {
        tracing::error!(error = %cause, chain = ?error_chain(cause), "request failed");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "INTERNAL",
            "something went wrong on our side; it has been logged",
        )
    }

    /// The JSON body: `type`, `title`, `status`, `detail`, `code` and the extras.
    pub fn body(&self) -> Value {
        let mut body = json!({
            "type": format!("/problems/{}", self.code.to_ascii_lowercase().replace('_', "-")),
            "title": self.status.canonical_reason().unwrap_or("Error"),
            "status": self.status.as_u16(),
            "detail": self.detail,
            "code": self.code,
        });
        if let Value::Object(map) = &mut body {
            map.extend(self.extra.clone());
        }
        body
    }

    /// The response: the JSON body, with the status and headers.
    pub fn into_response(self) -> Response {
        let body = self.body();
        let mut builder = http::Response::builder()
            .status(self.status)
            .header(http::header::CONTENT_TYPE, CONTENT_TYPE);
        for (name, value) in self.headers {
            builder = builder.header(name, value);
        }
        builder
            .body(crate::Body::Text(body.to_string()))
            .unwrap_or_else(|_| {
                // Only an invalid header value could fail; answer without the extras.
                let mut fallback = http::Response::new(crate::Body::Empty);
                *fallback.status_mut() = StatusCode::INTERNAL_SERVER_ERROR;
                fallback
            })
    }
}

/// The messages of `error` and every source under it, for logs.
fn error_chain(error: &(dyn std::error::Error + 'static)) -> Vec<String> {
    std::iter::successors(error.source(), |e| e.source())
        .map(ToString::to_string)
        .collect()
}

impl From<ValidationError> for Problem {
    fn from(e: ValidationError) -> Self {
        Problem::new(StatusCode::BAD_REQUEST, "VALIDATION_FAILED", e.to_string())
            .with("field", e.field.as_ref())
    }
}

impl From<CartError> for Problem {
    fn from(e: CartError) -> Self {
        use CartError as E;
        let status = match &e {
            E::Invalid(v) => return v.clone().into(),
            E::Unavailable(domain::ports::StoreError::CircuitOpen {
                dependency,
                retry_after,
            }) => {
                return Problem::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "DEPENDENCY_UNAVAILABLE",
                    format!(
                        "{dependency} is failing; nothing changed. Retry after Retry-After seconds"
                    ),
                )
                .with("dependency", *dependency)
                .with_header(
                    http::header::RETRY_AFTER,
                    domain::limits::retry_after_seconds(*retry_after).to_string(),
                );
            }
            E::Unavailable(cause) => {
                tracing::error!(error = %cause, chain = ?error_chain(cause), "a dependency failed");
                return Problem::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "UNAVAILABLE",
                    "a dependency is unavailable; retry shortly",
                )
                .with_header(http::header::RETRY_AFTER, "1");
            }
            E::CartNotFound(_) | E::LineNotFound(_) | E::NotAMember(_) | E::InviteNotFound => {
                StatusCode::NOT_FOUND
            }
            E::InviteExpired | E::InviteRevoked | E::InviteUsedUp => StatusCode::GONE,
            E::ReadOnly | E::OwnerOnly(_) => StatusCode::FORBIDDEN,
            E::CheckedOut
            | E::Locked(_)
            | E::NotLocked
            | E::AlreadyAMember
            | E::VersionConflict { .. }
            | E::Contended { .. }
            | E::OutOfStock(_)
            | E::PriceChanged { .. } => StatusCode::CONFLICT,
            E::UnknownItem(_)
            | E::OwnerIsPermanent(_)
            | E::TooManyLines
            | E::LineQuantityLimit { .. }
            | E::TooManyMembers
            | E::CurrencyMismatch { .. }
            | E::EmptyCart
            | E::TooManyInvites => StatusCode::UNPROCESSABLE_ENTITY,
        };
        let mut problem = Problem::new(status, e.code(), e.to_string());
        if let Some(current) = e.current_version() {
            problem = problem.with("currentVersion", current);
        }
        match e {
            E::OutOfStock(shortages) => problem.with(
                "shortages",
                serde_json::to_value(shortages).unwrap_or_default(),
            ),
            E::PriceChanged { changes, .. } => problem.with(
                "priceChanges",
                serde_json::to_value(changes).unwrap_or_default(),
            ),
            E::UnknownItem(item) | E::LineNotFound(item) => problem.with("itemId", item.as_str()),
            E::NotAMember(user) => problem.with("userId", user.as_str()),
            E::Locked(lock) => problem
                .with("lockedBy", lock.locked_by.as_str())
                .with("lockedAt", timestamp(lock.locked_at))
                .with("expiresAt", timestamp(lock.expires_at)),
            E::TooManyLines => problem.with("limit", domain::cart::MAX_LINES),
            E::TooManyMembers => problem.with("limit", domain::cart::MAX_MEMBERS),
            E::TooManyInvites => problem.with("limit", domain::invite::MAX_OPEN),
            E::LineQuantityLimit { .. } => problem.with("limit", domain::Quantity::MAX),
            _ => problem,
        }
    }
}

/// A time as the API writes every time: RFC 3339 in UTC, to the millisecond.
fn timestamp(at: chrono::DateTime<chrono::Utc>) -> String {
    at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(response: Response) -> Value {
        match response.body() {
            crate::Body::Text(text) => serde_json::from_str(text).unwrap(),
            other => panic!("unexpected body {other:?}"),
        }
    }

    #[test]
    fn a_version_conflict_is_409_with_the_current_version() {
        let response = Problem::from(CartError::VersionConflict {
            expected: 3,
            current: 5,
        })
        .into_response();
        assert_eq!(response.status(), 409);
        assert_eq!(response.headers()[http::header::CONTENT_TYPE], CONTENT_TYPE);
        let body = body(response);
        assert_eq!(body["code"], "VERSION_CONFLICT");
        assert_eq!(body["currentVersion"], 5);
        assert_eq!(body["type"], "/problems/version-conflict");
    }

    #[test]
    fn an_open_breaker_is_503_dependency_unavailable_with_when_to_retry() {
        let open = domain::ports::StoreError::CircuitOpen {
            dependency: "the item catalog",
            retry_after: std::time::Duration::from_millis(2500),
        };
        let response = Problem::from(CartError::Unavailable(open)).into_response();
        assert_eq!(response.status(), 503);
        assert_eq!(response.headers()[http::header::RETRY_AFTER], "3");
        let body = body(response);
        assert_eq!(body["code"], "DEPENDENCY_UNAVAILABLE");
        assert_eq!(body["dependency"], "the item catalog");
    }

    #[test]
    fn a_dependency_failure_is_an_opaque_503() {
        let cause = domain::ports::StoreError::unavailable("connection refused to 10.1.2.3");
        let response = Problem::from(CartError::Unavailable(cause)).into_response();
        assert_eq!(response.status(), 503);
        assert!(
            !body(response).to_string().contains("10.1.2.3"),
            "no internals in 5xx bodies"
        );
    }
}
