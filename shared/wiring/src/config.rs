//! Everything a function reads from its environment, read and checked once at cold start: a
//! setting in a form the function cannot use stops it there, with the variable's name, rather
//! than at the first request that needs it. (The token settings are `token::Verifier`'s.)

use crate::Settings;
use domain::breaker::BreakerSettings;
use keyspaces::KeyspacesConfig;
use std::path::PathBuf;
use std::time::Duration;

/// The topic events go to (`EVENTS_TOPIC`) unless told otherwise.
pub const DEFAULT_EVENTS_TOPIC: &str = "cart-events";

/// A function's settings; `None` where a setting is absent and its port falls back.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Config {
    /// `CASSANDRA_CONTACT_POINTS` and the rest of `keyspaces::config`: carts, the catalog and
    /// its stock on Keyspaces.
    pub keyspaces: Option<KeyspacesConfig>,
    /// `CARTS_TABLE`: without a keyspace, carts on this DynamoDB table.
    pub carts_table: Option<String>,
    /// `MEMBERSHIPS_TABLE`: its membership index (default `<CARTS_TABLE>-memberships`).
    pub memberships_table: Option<String>,
    /// `CONNECTIONS_TABLE`: the connection registry on this DynamoDB table.
    pub connections_table: Option<String>,
    /// `IDEMPOTENCY_TABLE`: the answers kept under `Idempotency-Key` on this DynamoDB table.
    pub idempotency_table: Option<String>,
    /// `ANALYTICS_TABLE`: the analytics counters on this DynamoDB table.
    pub analytics_table: Option<String>,
    /// `PROFILES_TABLE`: the directory of profiles on this DynamoDB table.
    pub profiles_table: Option<String>,
    /// `NOTIFICATIONS_TABLE`: the members' notifications on this DynamoDB table.
    pub notifications_table: Option<String>,
    /// `MAIL_FROM`: notification mails go through Amazon SES from this verified address
    /// (without it they are only logged).
    pub mail_from: Option<String>,
    /// `SES_ENDPOINT`: SES at this URL instead of AWS's.
    pub ses_endpoint: Option<String>,
    /// `PAGE_URL`: the page's address, which mails link to (none: mails carry no link).
    pub page_url: Option<String>,
    /// `MAILS_PER_HOUR`: mails a member gets in one hour at most, from 1 to 100 (default
    /// `domain::notification::DEFAULT_EMAILS_PER_HOUR`).
    pub mails_per_hour: u32,
    /// `DYNAMODB_ENDPOINT`: DynamoDB at this URL instead of AWS's.
    pub dynamodb_endpoint: Option<String>,
    /// `REDIS_URL`: item details cached in Redis as well as in the process.
    pub redis_url: Option<String>,
    /// The events topic on Kafka, if any brokers are configured.
    pub kafka: Option<KafkaConfig>,
    /// `OUTBOX_QUEUE_URL`: events Kafka does not take go to this SQS queue.
    pub outbox_queue_url: Option<String>,
    /// `ORDERS_QUEUE_URL`: checkout hands orders to this SQS queue.
    pub orders_queue_url: Option<String>,
    /// `PRESENCE_QUEUE_URL`: the WebSocket functions announce presence changes on this SQS
    /// queue, which `presence-push` reads.
    pub presence_queue_url: Option<String>,
    /// `SQS_ENDPOINT`: SQS at this URL instead of AWS's.
    pub sqs_endpoint: Option<String>,
    /// `WEBSOCKET_MANAGEMENT_ENDPOINT`: the `@connections` API pushes go to.
    pub websocket_management_endpoint: Option<String>,
    /// `DATA_DIR`: where the embedded store keeps what nothing above moved (default `./data`).
    pub data_dir: PathBuf,
    /// The circuit breakers' thresholds.
    pub breakers: Breakers,
    /// `CHECKOUT_LOCK_MINUTES`: how long a checkout lock lasts (default
    /// `domain::service::DEFAULT_LOCK`, at most a day).
    pub checkout_lock_minutes: Option<u32>,
    /// `MAX_CONNECTIONS_PER_USER`: the WebSockets one user may hold open.
    pub connections_per_user: usize,
}

/// The thresholds of the circuit breakers around the item catalog and the event publisher
/// (defaults `domain::breaker::CATALOG` and `EVENTS`). Each is set by three variables:
/// `CATALOG_BREAKER_FAILURES` (failures in a row that open it), `CATALOG_BREAKER_OPEN_MS`
/// (how long it stays open) and `CATALOG_TIMEOUT_MS` (how long one call may take), and the same
/// with `EVENTS_`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Breakers {
    /// Around the item catalog.
    pub catalog: BreakerSettings,
    /// Around the event publisher (Kafka).
    pub events: BreakerSettings,
}

impl Default for Breakers {
    fn default() -> Self {
        Self {
            catalog: domain::breaker::CATALOG,
            events: domain::breaker::EVENTS,
        }
    }
}

impl Breakers {
    /// The thresholds `settings` give, the defaults where they say nothing.
    pub fn from_settings(settings: Settings<'_>) -> Result<Self, ConfigError> {
        Ok(Self {
            catalog: breaker(
                settings,
                [
                    "CATALOG_BREAKER_FAILURES",
                    "CATALOG_BREAKER_OPEN_MS",
                    "CATALOG_TIMEOUT_MS",
                ],
                domain::breaker::CATALOG,
            )?,
            events: breaker(
                settings,
                [
                    "EVENTS_BREAKER_FAILURES",
                    "EVENTS_BREAKER_OPEN_MS",
                    "EVENTS_TIMEOUT_MS",
                ],
                domain::breaker::EVENTS,
            )?,
        })
    }
}

/// One breaker's thresholds from its three variables (failures, open for, call timeout).
fn breaker(
    settings: Settings<'_>,
    [failures, open_for, call_timeout]: [&'static str; 3],
    default: BreakerSettings,
) -> Result<BreakerSettings, ConfigError> {
    let number = |variable: &'static str, default: u64| -> Result<u64, ConfigError> {
        match settings(variable) {
            None => Ok(default),
            Some(text) => text
                .trim()
                .parse()
                .ok()
                .filter(|n| *n > 0)
                .ok_or_else(|| ConfigError {
                    variable,
                    problem: format!("'{text}' is not a positive whole number"),
                }),
        }
    };
    let millis = |d: Duration| d.as_millis() as u64;
    Ok(BreakerSettings {
        failures: u32::try_from(number(failures, u64::from(default.failures))?).unwrap_or(u32::MAX),
        open_for: Duration::from_millis(number(open_for, millis(default.open_for))?),
        call_timeout: Duration::from_millis(number(call_timeout, millis(default.call_timeout))?),
    })
}

/// Where the events topic is and how to reach it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KafkaConfig {
    /// The brokers, or the MSK cluster to ask for them.
    pub brokers: Brokers,
    /// `KAFKA_AUTH`: how to authenticate.
    pub auth: KafkaAuth,
    /// `KAFKA_TLS_CA_FILE`: with TLS, a PEM file of the roots to trust instead of the system's.
    pub tls_roots: tls::Roots,
    /// `EVENTS_TOPIC` (default `cart-events`).
    pub topic: String,
}

/// How a function finds the brokers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Brokers {
    /// `KAFKA_BROKERS`: `host:port`, comma-separated.
    Listed(Vec<String>),
    /// `MSK_CLUSTER_ARN`: asked of the MSK API at cold start (at `MSK_ENDPOINT` when set).
    Cluster {
        /// The cluster's ARN.
        arn: String,
        /// The MSK API's address, instead of AWS's.
        endpoint: Option<String>,
    },
}

/// `KAFKA_AUTH`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KafkaAuth {
    /// `none` (the default): plaintext, a local broker.
    None,
    /// `tls`: TLS, no client authentication (an MSK Provisioned TLS listener).
    Tls,
    /// `iam`: TLS with MSK IAM, signed with the function's role.
    Iam,
}

/// A setting in a form the function cannot use.
#[derive(Debug, thiserror::Error)]
#[error("{variable}: {problem}")]
pub struct ConfigError {
    /// The environment variable at fault.
    pub variable: &'static str,
    /// What is wrong with it.
    pub problem: String,
}

impl From<keyspaces::config::ConfigError> for ConfigError {
    fn from(e: keyspaces::config::ConfigError) -> Self {
        Self {
            variable: e.name,
            problem: e.problem.to_owned(),
        }
    }
}

impl Config {
    /// The config of a Lambda: its environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_settings(&crate::environment)
    }

    /// The config `settings` give (a table in tests).
    pub fn from_settings(settings: Settings<'_>) -> Result<Self, ConfigError> {
        Ok(Self {
            keyspaces: KeyspacesConfig::from_settings(settings)?,
            carts_table: settings("CARTS_TABLE"),
            memberships_table: settings("MEMBERSHIPS_TABLE"),
            connections_table: settings("CONNECTIONS_TABLE"),
            idempotency_table: settings("IDEMPOTENCY_TABLE"),
            analytics_table: settings("ANALYTICS_TABLE"),
            profiles_table: settings("PROFILES_TABLE"),
            notifications_table: settings("NOTIFICATIONS_TABLE"),
            mail_from: settings("MAIL_FROM"),
            ses_endpoint: settings("SES_ENDPOINT"),
            page_url: settings("PAGE_URL"),
            mails_per_hour: mails_per_hour(settings)?,
            dynamodb_endpoint: settings("DYNAMODB_ENDPOINT"),
            redis_url: settings("REDIS_URL"),
            kafka: KafkaConfig::from_settings(settings)?,
            outbox_queue_url: settings("OUTBOX_QUEUE_URL"),
            orders_queue_url: settings("ORDERS_QUEUE_URL"),
            presence_queue_url: settings("PRESENCE_QUEUE_URL"),
            sqs_endpoint: settings("SQS_ENDPOINT"),
            websocket_management_endpoint: settings("WEBSOCKET_MANAGEMENT_ENDPOINT"),
            data_dir: settings("DATA_DIR").map_or_else(|| PathBuf::from("data"), PathBuf::from),
            breakers: Breakers::from_settings(settings)?,
            checkout_lock_minutes: checkout_lock_minutes(settings)?,
            connections_per_user: connections_per_user(settings)?,
        })
    }
}

/// `MAILS_PER_HOUR`, from 1 to 100.
fn mails_per_hour(settings: Settings<'_>) -> Result<u32, ConfigError> {
    let Some(text) = settings("MAILS_PER_HOUR") else {
        return Ok(domain::notification::DEFAULT_EMAILS_PER_HOUR);
    };
    text.trim()
        .parse()
        .ok()
        .filter(|count| (1..=100).contains(count))
        .ok_or_else(|| ConfigError {
            variable: "MAILS_PER_HOUR",
            problem: format!("'{text}' is not a whole number from 1 to 100"),
        })
}

/// `MAX_CONNECTIONS_PER_USER`, from 1 to 1000 (default `domain::limits::CONNECTIONS_PER_USER`):
/// the WebSockets one user may hold open, counted at `$connect`.
pub fn connections_per_user(settings: Settings<'_>) -> Result<usize, ConfigError> {
    let Some(text) = settings("MAX_CONNECTIONS_PER_USER") else {
        return Ok(domain::limits::CONNECTIONS_PER_USER);
    };
    text.trim()
        .parse()
        .ok()
        .filter(|cap| (1..=1000).contains(cap))
        .ok_or_else(|| ConfigError {
            variable: "MAX_CONNECTIONS_PER_USER",
            problem: format!("'{text}' is not a whole number from 1 to 1000"),
        })
}

/// `CHECKOUT_LOCK_MINUTES`, from 1 to 1440 (a day, `domain::commands::MAX_LOCK`).
pub fn checkout_lock_minutes(settings: Settings<'_>) -> Result<Option<u32>, ConfigError> {
    let Some(text) = settings("CHECKOUT_LOCK_MINUTES") else {
        return Ok(None);
    };
    text.trim()
        .parse()
        .ok()
        .filter(|minutes| (1..=1440).contains(minutes))
        .map(Some)
        .ok_or_else(|| ConfigError {
            variable: "CHECKOUT_LOCK_MINUTES",
            problem: format!("'{text}' is not a whole number of minutes from 1 to 1440"),
        })
}

impl KafkaConfig {
    /// The topic's settings, or `None` when neither `KAFKA_BROKERS` nor `MSK_CLUSTER_ARN` is set.
    fn from_settings(settings: Settings<'_>) -> Result<Option<Self>, ConfigError> {
        let brokers = match (settings("KAFKA_BROKERS"), settings("MSK_CLUSTER_ARN")) {
            (Some(listed), _) => {
                let listed: Vec<String> = listed
                    .split(',')
                    .map(str::trim)
                    .filter(|b| !b.is_empty())
                    .map(str::to_owned)
                    .collect();
                if listed.is_empty() {
                    return Err(ConfigError {
                        variable: "KAFKA_BROKERS",
                        problem: "names no host:port".into(),
                    });
                }
                Brokers::Listed(listed)
            }
            (None, Some(arn)) if arn.starts_with("arn:") => Brokers::Cluster {
                arn,
                endpoint: settings("MSK_ENDPOINT"),
            },
            (None, Some(_)) => {
                return Err(ConfigError {
                    variable: "MSK_CLUSTER_ARN",
                    problem: "is not an ARN".into(),
                });
            }
            (None, None) => return Ok(None),
        };
        let auth = match settings("KAFKA_AUTH").as_deref() {
            Some("none") | None => KafkaAuth::None,
            Some("tls") => KafkaAuth::Tls,
            Some("iam") => KafkaAuth::Iam,
            Some(other) => {
                return Err(ConfigError {
                    variable: "KAFKA_AUTH",
                    problem: format!("'{other}' is not 'iam', 'tls' or 'none'"),
                });
            }
        };
        Ok(Some(Self {
            brokers,
            auth,
            tls_roots: settings("KAFKA_TLS_CA_FILE")
                .map_or(tls::Roots::System, |file| tls::Roots::PemFile(file.into())),
            topic: settings("EVENTS_TOPIC").unwrap_or_else(|| DEFAULT_EVENTS_TOPIC.to_owned()),
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(pairs: &[(&str, &str)]) -> Result<Config, ConfigError> {
        Config::from_settings(&|name| {
            pairs
                .iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| (*v).to_owned())
        })
    }

    #[test]
    fn mails_per_hour_is_a_whole_number_from_1_to_100() {
        let set = |raw: &str| config(&[("MAILS_PER_HOUR", raw)]).map(|c| c.mails_per_hour);
        assert_eq!(set("12").ok(), Some(12));
        for bad in ["0", "101", "six", "-1"] {
            assert!(
                set(bad).is_err_and(|e| e.variable == "MAILS_PER_HOUR"),
                "{bad}"
            );
        }
    }

    #[test]
    fn nothing_set_is_the_embedded_fallback_everywhere() {
        let config = config(&[]).unwrap();
        assert_eq!(
            config,
            Config {
                data_dir: "data".into(),
                breakers: Breakers::default(),
                mails_per_hour: domain::notification::DEFAULT_EMAILS_PER_HOUR,
                connections_per_user: domain::limits::CONNECTIONS_PER_USER,
                ..Config::default()
            }
        );
    }

    #[test]
    fn a_user_holds_ten_connections_unless_told_otherwise() {
        let cap = |pairs: &[(&str, &str)]| config(pairs).map(|c| c.connections_per_user);
        assert_eq!(cap(&[]).unwrap(), domain::limits::CONNECTIONS_PER_USER);
        assert_eq!(cap(&[("MAX_CONNECTIONS_PER_USER", "3")]).unwrap(), 3);
        for wrong in ["0", "1001", "ten"] {
            assert_eq!(
                cap(&[("MAX_CONNECTIONS_PER_USER", wrong)])
                    .unwrap_err()
                    .variable,
                "MAX_CONNECTIONS_PER_USER"
            );
        }
    }

    #[test]
    fn a_checkout_lock_lasts_whole_minutes_up_to_a_day() {
        let minutes =
            |text| config(&[("CHECKOUT_LOCK_MINUTES", text)]).map(|c| c.checkout_lock_minutes);
        assert_eq!(minutes("30").unwrap(), Some(30));
        for wrong in ["0", "1441", "ten", "-5"] {
            assert_eq!(
                minutes(wrong).unwrap_err().variable,
                "CHECKOUT_LOCK_MINUTES",
                "{wrong}"
            );
        }
    }

    #[test]
    fn the_template_settings_of_a_publisher_read_as_they_mean() {
        let arn = "arn:aws:kafka:eu-west-1:123456789012:cluster/carts-events/0a1b2c3d-4";
        let config = config(&[
            ("MSK_CLUSTER_ARN", arn),
            ("KAFKA_AUTH", "iam"),
            ("EVENTS_TOPIC", "cart-events"),
            (
                "CASSANDRA_CONTACT_POINTS",
                "cassandra.eu-west-1.amazonaws.com:9142",
            ),
            ("CASSANDRA_TLS", "true"),
            ("CASSANDRA_AUTH", "sigv4"),
            (
                "OUTBOX_QUEUE_URL",
                "https://sqs.eu-west-1.amazonaws.com/1/outbox",
            ),
        ])
        .unwrap();
        assert_eq!(
            config.kafka,
            Some(KafkaConfig {
                brokers: Brokers::Cluster {
                    arn: arn.into(),
                    endpoint: None
                },
                auth: KafkaAuth::Iam,
                tls_roots: tls::Roots::System,
                topic: "cart-events".into(),
            })
        );
        assert!(config.keyspaces.is_some_and(|k| k.tls.is_some()));
    }

    #[test]
    fn breaker_thresholds_default_to_the_products_and_each_can_be_set() {
        let config = config(&[
            ("CATALOG_TIMEOUT_MS", "250"),
            ("EVENTS_BREAKER_OPEN_MS", "500"),
        ])
        .unwrap();
        assert_eq!(
            config.breakers.catalog.call_timeout,
            Duration::from_millis(250)
        );
        assert_eq!(
            config.breakers.catalog.failures,
            domain::breaker::CATALOG.failures
        );
        assert_eq!(config.breakers.events.open_for, Duration::from_millis(500));
        assert_eq!(
            config.breakers.events.call_timeout,
            domain::breaker::EVENTS.call_timeout
        );
    }

    #[test]
    fn a_setting_in_the_wrong_form_names_its_variable() {
        for (pairs, variable) in [
            (
                &[("KAFKA_BROKERS", "b:9092"), ("KAFKA_AUTH", "scram")][..],
                "KAFKA_AUTH",
            ),
            (&[("KAFKA_BROKERS", " , ")][..], "KAFKA_BROKERS"),
            (&[("MSK_CLUSTER_ARN", "events")][..], "MSK_CLUSTER_ARN"),
            (&[("CATALOG_TIMEOUT_MS", "1s")][..], "CATALOG_TIMEOUT_MS"),
            (
                &[("EVENTS_BREAKER_FAILURES", "0")][..],
                "EVENTS_BREAKER_FAILURES",
            ),
            (
                &[
                    ("CASSANDRA_CONTACT_POINTS", "h:9142"),
                    ("CASSANDRA_TLS", "yes"),
                ][..],
                "CASSANDRA_TLS",
            ),
        ] {
            assert_eq!(config(pairs).unwrap_err().variable, variable);
        }
    }
}
