//! Routes only the local stack has, never a Lambda: `POST /dev/token` to act as any user, and
//! an index at `/` saying what is here.

use crate::gateway::{HttpResponse, json, problem};
use crate::server::Services;
use bytes::Bytes;
use domain::{UserId, ValidationError};
use edge::Problem;
use http::StatusCode;
use serde::Deserialize;
use serde_json::json;

/// How long a development token lasts: a working day.
const TOKEN_TTL_SECS: i64 = 12 * 3600;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct TokenRequest {
    user_id: String,
    #[serde(default)]
    scopes: Vec<String>,
    name: Option<String>,
    /// A verified email, as an issuer would vouch for it.
    email: Option<String>,
    /// The name the user signs in with (`cognito:username`).
    user_name: Option<String>,
}

/// `POST /dev/token` with `{"userId": "alice", "scopes": ["admin"]}` answers `{"token": ...}`.
pub async fn token(services: &Services, body: Bytes) -> HttpResponse {
    let request: TokenRequest = match serde_json::from_slice(&body) {
        Ok(request) => request,
        Err(e) => {
            return problem(Problem::from(ValidationError::new(
                "body",
                format!("expected {{\"userId\": \"alice\"}}: {e}"),
            )));
        }
    };
    let user = match UserId::parse(&request.user_id) {
        Ok(user) => user,
        Err(e) => return problem(e.into()),
    };
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    let scopes: Vec<&str> = request.scopes.iter().map(String::as_str).collect();
    let token = services.keys.sign(&token::Claims {
        sub: user.to_string(),
        name: request.name,
        email_verified: request.email.is_some(),
        email: request.email,
        user_name: request.user_name,
        scope: scopes.join(" "),
        iss: services.keys.issuer().to_owned(),
        aud: services.keys.audience().to_owned(),
        iat: now,
        exp: now + TOKEN_TTL_SECS,
        nbf: None,
    });
    json(
        StatusCode::OK,
        &json!({ "token": token, "userId": user, "expiresIn": TOKEN_TTL_SECS }),
    )
}

/// `GET /dev`: what this server is and how to start using it.
pub fn index() -> HttpResponse {
    json(
        StatusCode::OK,
        &json!({
            "service": "shared carts, local stack",
            "page": "/",
            "websocket": "/ws?token=<token>",
            "token": "POST /dev/token {\"userId\": \"alice\"}",
            "routes": edge::routes::ROUTES.iter().map(|r| format!("{} {}", r.method, r.resource)).collect::<Vec<_>>(),
        }),
    )
}
