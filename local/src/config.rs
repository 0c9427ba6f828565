//! The local stack's settings: flags first, then environment variables, then defaults.

use domain::limits::{self, Rate};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use token::TokenKeys;

/// A secret for local tokens only: the local stack never runs anywhere tokens matter.
const LOCAL_DEV_SECRET: &str = "local-stack-development-secret-not-for-aws";

/// Everything the local stack needs to start.
#[derive(Clone, Debug)]
pub struct Config {
    /// Where to listen; port 0 picks a free one.
    pub addr: SocketAddr,
    /// Where the embedded store keeps its file.
    pub data_dir: PathBuf,
    /// Issues `/dev/token` tokens and checks every request's, unless `issuer` is set.
    pub keys: TokenKeys,
    /// An OIDC issuer whose tokens every request must carry instead, as on AWS (a Cognito user
    /// pool, or a stand-in of one): `JWT_JWKS_URL`, `JWT_ISSUER` and `JWT_AUDIENCE`.
    pub issuer: Option<token::Issuer>,
    /// Whether to seed the demo catalog into an empty store.
    pub seed_demo_catalog: bool,
    /// The real servers to use instead of the embedded ones, if any.
    pub backends: crate::Backends,
    /// Each user's rate across the REST routes (`None`: unlimited, for the bench).
    pub rate_per_user: Option<Rate>,
    /// How long a checkout lock lasts: `CHECKOUT_LOCK_MINUTES` (default
    /// `domain::service::DEFAULT_LOCK`).
    pub checkout_lock: chrono::Duration,
    /// How long presence notices are gathered before presence is pushed (default
    /// `presence_push::WINDOW`, as on AWS).
    pub presence_window: std::time::Duration,
    /// API Gateway's WebSocket quotas as the `/ws` emulation enforces them:
    /// `MAX_CONNECTIONS_PER_USER`, `WS_IDLE_TIMEOUT_SECONDS`, `WS_MAX_CONNECTION_SECONDS`.
    pub websocket: crate::WebSocketQuotas,
}

/// A flag or variable that does not parse.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// A port that is not a number from 0 to 65535.
    #[error("{source_name}: '{value}' is not a port number")]
    Port {
        /// The flag or variable.
        source_name: &'static str,
        /// What it said.
        value: String,
    },
    /// `RATE_PER_USER` is not `off` or `PER_SECOND/BURST`.
    #[error("RATE_PER_USER: '{0}' is not 'off' or requests per second/burst, such as '20/40'")]
    Rate(String),
    /// A flag without its value, or one we do not know.
    #[error(
        "{0}\n\nusage: local [--port PORT] [--data-dir DIR]\n  env: PORT, DATA_DIR, JWT_SECRET or JWT_JWKS_URL, JWT_ISSUER, JWT_AUDIENCE, RATE_PER_USER, MAX_CONNECTIONS_PER_USER,\n  WS_IDLE_TIMEOUT_SECONDS, WS_MAX_CONNECTION_SECONDS, RUST_LOG; real servers: KAFKA_BROKERS, OUTBOX_QUEUE_URL,\n  CONNECTIONS_TABLE, CARTS_TABLE, DYNAMODB_ENDPOINT, SQS_ENDPOINT, CASSANDRA_CONTACT_POINTS\n  (see the README)"
    )]
    Usage(String),
    /// A WebSocket duration that is not a whole number of seconds from 1 to API Gateway's.
    #[error("{variable}: '{value}' is not a whole number of seconds from 1 to {max}")]
    Seconds {
        /// The variable.
        variable: &'static str,
        /// What it said.
        value: String,
        /// API Gateway's own value, the most it may be.
        max: u64,
    },
    /// The JWT settings are unusable.
    #[error(transparent)]
    Token(#[from] token::ConfigError),
    /// A real server's settings are unusable.
    #[error(transparent)]
    Backends(#[from] wiring::ConfigError),
}

impl Config {
    /// Settings for a test or bench: an ephemeral port on 127.0.0.1 and the given directory.
    pub fn ephemeral(data_dir: PathBuf) -> Self {
        Self {
            addr: SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 0),
            data_dir,
            keys: TokenKeys::new(LOCAL_DEV_SECRET, "shared-carts", "shared-carts-api"),
            issuer: None,
            seed_demo_catalog: true,
            backends: crate::Backends::embedded(),
            rate_per_user: Some(limits::PER_USER),
            checkout_lock: domain::service::DEFAULT_LOCK,
            // A fifth of AWS's window: tests wait for presence, and nothing here batches.
            presence_window: presence_push::WINDOW / 5,
            websocket: crate::WebSocketQuotas::default(),
        }
    }

    /// Reads `--port` / `PORT` (default 3000), `--data-dir` / `DATA_DIR` (default `./data`),
    /// `JWT_SECRET`, `JWT_ISSUER`, `JWT_AUDIENCE` (default: a local development secret) and
    /// `RATE_PER_USER` (default `domain::limits::PER_USER`).
    pub fn from_args_and_env(args: impl IntoIterator<Item = String>) -> Result<Self, ConfigError> {
        let mut port = std::env::var("PORT").ok().map(|v| ("PORT", v));
        let mut data_dir = std::env::var_os("DATA_DIR").map(PathBuf::from);
        let mut args = args.into_iter();
        while let Some(arg) = args.next() {
            let mut value = |flag: &str| {
                args.next()
                    .ok_or_else(|| ConfigError::Usage(format!("{flag} needs a value")))
            };
            match arg.as_str() {
                "--port" | "-p" => port = Some(("--port", value("--port")?)),
                "--data-dir" => data_dir = Some(PathBuf::from(value("--data-dir")?)),
                "--help" | "-h" => {
                    return Err(ConfigError::Usage("shared carts, the local stack".into()));
                }
                other => return Err(ConfigError::Usage(format!("unknown argument '{other}'"))),
            }
        }
        let port = match port {
            Some((source_name, value)) => value
                .parse()
                .map_err(|_| ConfigError::Port { source_name, value })?,
            None => 3000,
        };
        let variable = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
        let issuer = token::Issuer::from_settings(&variable)?;
        let keys = match (std::env::var("JWT_SECRET"), &issuer) {
            (Ok(_), None) => TokenKeys::from_env()?,
            (Err(_), None) => TokenKeys::from_parts(
                LOCAL_DEV_SECRET.into(),
                variable("JWT_ISSUER"),
                variable("JWT_AUDIENCE"),
            )?,
            // With an issuer, `/dev/token` still answers, with tokens no request accepts.
            (_, Some(_)) => TokenKeys::new(LOCAL_DEV_SECRET, "shared-carts", "shared-carts-api"),
        };
        Ok(Self {
            addr: SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), port),
            data_dir: data_dir.unwrap_or_else(|| PathBuf::from("data")),
            keys,
            issuer,
            seed_demo_catalog: true,
            backends: crate::Backends::from_env()?,
            checkout_lock: wiring::checkout_lock_minutes(&wiring::environment)?
                .map_or(domain::service::DEFAULT_LOCK, |minutes| {
                    chrono::Duration::minutes(i64::from(minutes))
                }),
            presence_window: presence_push::WINDOW,
            websocket: websocket_quotas(&variable)?,
            rate_per_user: match std::env::var("RATE_PER_USER") {
                Ok(value) => parse_rate(&value)?,
                Err(_) => Some(limits::PER_USER),
            },
        })
    }
}

/// The `/ws` emulation's quotas: API Gateway's unless the settings shorten them (tests do, to
/// see clients survive the cuts), and the per-user cap as the functions read it.
fn websocket_quotas(variable: wiring::Settings<'_>) -> Result<crate::WebSocketQuotas, ConfigError> {
    let aws = crate::WebSocketQuotas::default();
    let seconds = |name: &'static str, most: std::time::Duration| match variable(name) {
        None => Ok(most),
        Some(value) => value
            .trim()
            .parse()
            .ok()
            .filter(|s| (1..=most.as_secs()).contains(s))
            .map(std::time::Duration::from_secs)
            .ok_or(ConfigError::Seconds {
                variable: name,
                value,
                max: most.as_secs(),
            }),
    };
    Ok(crate::WebSocketQuotas {
        connections_per_user: wiring::connections_per_user(variable)?,
        idle_timeout: seconds("WS_IDLE_TIMEOUT_SECONDS", aws.idle_timeout)?,
        max_duration: seconds("WS_MAX_CONNECTION_SECONDS", aws.max_duration)?,
    })
}

/// `off`, or `PER_SECOND/BURST`.
fn parse_rate(value: &str) -> Result<Option<Rate>, ConfigError> {
    if value.trim() == "off" {
        return Ok(None);
    }
    let (per_second, burst) = value
        .split_once('/')
        .and_then(|(rate, burst)| Some((rate.trim().parse().ok()?, burst.trim().parse().ok()?)))
        .filter(|&(rate, burst): &(u32, u32)| rate > 0 && burst > 0)
        .ok_or_else(|| ConfigError::Rate(value.to_owned()))?;
    Ok(Some(Rate { per_second, burst }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_rate_is_off_or_per_second_over_burst() {
        assert_eq!(parse_rate("off").unwrap(), None);
        assert_eq!(
            parse_rate("5/10").unwrap(),
            Some(Rate {
                per_second: 5,
                burst: 10
            })
        );
        for wrong in ["5", "0/10", "a/b", "5/"] {
            assert!(parse_rate(wrong).is_err(), "{wrong}");
        }
    }
}
