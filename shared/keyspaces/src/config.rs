//! Where the keyspace is and how to reach it, read once from the environment.
//!
//! | setting | meaning | default |
//! |---|---|---|
//! | `CASSANDRA_CONTACT_POINTS` | `host:port` list, comma-separated (`cassandra.us-east-1.amazonaws.com:9142`) | required |
//! | `KEYSPACE` | the keyspace holding the tables | `shared_carts` |
//! | `CASSANDRA_LOCAL_DC` | the data center to prefer (the region, on Keyspaces) | none |
//! | `CASSANDRA_TLS` | `true` for TLS (Keyspaces accepts nothing else, on port 9142) | `false` |
//! | `CASSANDRA_TLS_SERVER_NAME` | the name the server's certificate must carry, whatever address the driver dialled | the contact points' host name |
//! | `CASSANDRA_TLS_CA_FILE` | a PEM file of the roots to trust instead of the system's | the system's roots |
//! | `CASSANDRA_USERNAME`, `CASSANDRA_PASSWORD` | Keyspaces service-specific credentials (plain-text authentication, inside TLS) | none |
//! | `CASSANDRA_AUTH=sigv4` | instead: SigV4 with the function's role, in `AWS_REGION` | off |

use std::fmt;
use std::path::PathBuf;
use tls::{Roots, TlsSettings};

/// How the session authenticates.
#[derive(Clone, Default, PartialEq, Eq)]
pub enum Auth {
    /// No authentication (a local Cassandra).
    #[default]
    None,
    /// SigV4 with the credentials and region of the environment (a Lambda's role).
    SigV4,
    /// SigV4 with these keys, in this region (tests and scripts; never read from settings).
    SigV4Keys {
        /// The access key id.
        access_key_id: String,
        /// Its secret; never printed.
        secret_access_key: String,
        /// The region the signature is scoped to.
        region: String,
    },
    /// A user name and password: Keyspaces service-specific credentials, or a Cassandra role.
    Password {
        /// The user (for Keyspaces, the IAM user's service-specific user name).
        username: String,
        /// Its password; never printed.
        password: String,
    },
}

impl fmt::Debug for Auth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Auth::None => f.write_str("None"),
            Auth::SigV4 => f.write_str("SigV4"),
            Auth::SigV4Keys {
                access_key_id,
                region,
                ..
            } => write!(
                f,
                "SigV4Keys {{ access_key_id: {access_key_id:?}, region: {region:?} }}"
            ),
            Auth::Password { username, .. } => write!(f, "Password {{ username: {username:?} }}"),
        }
    }
}

/// Everything the session needs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyspacesConfig {
    /// `host:port` of one or more nodes.
    pub contact_points: Vec<String>,
    /// The keyspace of the tables.
    pub keyspace: String,
    /// The data center to prefer, if any.
    pub local_datacenter: Option<String>,
    /// TLS, and how the server's certificate is checked; `None` for plaintext.
    pub tls: Option<TlsSettings>,
    /// How to authenticate.
    pub auth: Auth,
}

/// A setting the environment gave in a form we cannot use.
#[derive(Debug, thiserror::Error)]
#[error("{name}: {problem}")]
pub struct ConfigError {
    /// The variable.
    pub name: &'static str,
    /// What is wrong with it.
    pub problem: &'static str,
}

impl KeyspacesConfig {
    /// The keyspace the tables live in unless `KEYSPACE` names another.
    pub const DEFAULT_KEYSPACE: &'static str = "shared_carts";

    /// The config from `settings`, or `None` when `CASSANDRA_CONTACT_POINTS` is not set.
    pub fn from_settings(
        settings: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Option<Self>, ConfigError> {
        let Some(points) = settings("CASSANDRA_CONTACT_POINTS") else {
            return Ok(None);
        };
        let contact_points: Vec<String> = points
            .split(',')
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .map(str::to_owned)
            .collect();
        if contact_points.is_empty() {
            return Err(ConfigError {
                name: "CASSANDRA_CONTACT_POINTS",
                problem: "names no host:port",
            });
        }
        let keyspace = settings("KEYSPACE").unwrap_or_else(|| Self::DEFAULT_KEYSPACE.to_owned());
        if !keyspace
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_')
        {
            // It is spliced into CQL text (`USE`, `CREATE KEYSPACE`), so only identifiers.
            return Err(ConfigError {
                name: "KEYSPACE",
                problem: "must be letters, digits and '_'",
            });
        }
        let tls = match settings("CASSANDRA_TLS").as_deref() {
            None | Some("false") => None,
            Some("true") => Some(tls_settings(settings, &contact_points)?),
            Some(_) => {
                return Err(ConfigError {
                    name: "CASSANDRA_TLS",
                    problem: "must be true or false",
                });
            }
        };
        let password = (
            settings("CASSANDRA_USERNAME"),
            settings("CASSANDRA_PASSWORD"),
        );
        let auth = match (settings("CASSANDRA_AUTH").as_deref(), password) {
            (Some("sigv4"), (None, None)) => Auth::SigV4,
            (Some("sigv4"), _) => {
                return Err(ConfigError {
                    name: "CASSANDRA_AUTH",
                    problem: "sigv4 signs with the role: leave CASSANDRA_USERNAME/PASSWORD unset",
                });
            }
            (Some(_), _) => {
                return Err(ConfigError {
                    name: "CASSANDRA_AUTH",
                    problem: "must be sigv4 (or unset)",
                });
            }
            (None, (None, None)) => Auth::None,
            (None, (Some(username), Some(password))) => Auth::Password { username, password },
            (None, _) => {
                return Err(ConfigError {
                    name: "CASSANDRA_USERNAME",
                    problem: "and CASSANDRA_PASSWORD go together",
                });
            }
        };
        Ok(Some(Self {
            contact_points,
            keyspace,
            local_datacenter: settings("CASSANDRA_LOCAL_DC"),
            tls,
            auth,
        }))
    }
}

/// How the certificate is checked: against `CASSANDRA_TLS_SERVER_NAME`, or the host name the
/// contact points share (the driver dials each node by its IP address, so the name has to come
/// from here), with the roots of `CASSANDRA_TLS_CA_FILE` or the system's.
fn tls_settings(
    settings: &dyn Fn(&str) -> Option<String>,
    contact_points: &[String],
) -> Result<TlsSettings, ConfigError> {
    let hosts: Vec<&str> = contact_points
        .iter()
        .map(|point| {
            point
                .rsplit_once(':')
                .map_or(point.as_str(), |(host, _)| host)
        })
        .collect();
    let named = hosts
        .iter()
        .all(|host| host.parse::<std::net::IpAddr>().is_err() && !host.starts_with('['));
    let server_name = match settings("CASSANDRA_TLS_SERVER_NAME") {
        Some(name) => Some(name),
        None if named && hosts.iter().all(|h| *h == hosts[0]) => Some(hosts[0].to_owned()),
        None if named => {
            return Err(ConfigError {
                name: "CASSANDRA_TLS_SERVER_NAME",
                problem: "the contact points name different hosts: say which name the certificate carries",
            });
        }
        // Addresses only: the certificate must carry the address dialled.
        None => None,
    };
    let roots = settings("CASSANDRA_TLS_CA_FILE")
        .map_or(Roots::System, |file| Roots::PemFile(PathBuf::from(file)));
    Ok(TlsSettings { roots, server_name })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn from(pairs: &[(&str, &str)]) -> Result<Option<KeyspacesConfig>, ConfigError> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        KeyspacesConfig::from_settings(&|name| map.get(name).cloned())
    }

    #[test]
    fn without_contact_points_there_is_no_keyspaces_store() {
        assert!(matches!(from(&[]), Ok(None)));
    }

    #[test]
    fn keyspaces_settings_are_read_whole() {
        let config = from(&[
            (
                "CASSANDRA_CONTACT_POINTS",
                "cassandra.eu-west-1.amazonaws.com:9142, ",
            ),
            ("KEYSPACE", "carts_prod"),
            ("CASSANDRA_LOCAL_DC", "eu-west-1"),
            ("CASSANDRA_TLS", "true"),
            ("CASSANDRA_USERNAME", "svc-user-at-123"),
            ("CASSANDRA_PASSWORD", "secret"),
        ]);
        let Ok(Some(config)) = config else {
            panic!("{config:?}")
        };
        assert_eq!(
            config.contact_points,
            ["cassandra.eu-west-1.amazonaws.com:9142"]
        );
        assert_eq!(config.keyspace, "carts_prod");
        assert_eq!(config.local_datacenter.as_deref(), Some("eu-west-1"));
        assert_eq!(
            config.tls,
            Some(TlsSettings {
                roots: Roots::System,
                server_name: Some("cassandra.eu-west-1.amazonaws.com".to_owned()),
            }),
            "the certificate is checked against the endpoint's name, not the address dialled"
        );
        assert!(!format!("{:?}", config.auth).contains("secret"));
    }

    #[test]
    fn a_named_certificate_and_private_roots_can_be_given() {
        let config = from(&[
            ("CASSANDRA_CONTACT_POINTS", "127.0.0.1:9142"),
            ("CASSANDRA_TLS", "true"),
            (
                "CASSANDRA_TLS_SERVER_NAME",
                "cassandra.us-east-1.amazonaws.com",
            ),
            ("CASSANDRA_TLS_CA_FILE", "/etc/test-ca.pem"),
        ]);
        let Ok(Some(config)) = config else {
            panic!("{config:?}")
        };
        assert_eq!(
            config.tls,
            Some(TlsSettings {
                roots: Roots::PemFile(PathBuf::from("/etc/test-ca.pem")),
                server_name: Some("cassandra.us-east-1.amazonaws.com".to_owned()),
            })
        );
        let addresses = from(&[
            ("CASSANDRA_CONTACT_POINTS", "10.0.0.1:9142,10.0.0.2:9142"),
            ("CASSANDRA_TLS", "true"),
        ]);
        assert!(matches!(
            addresses,
            Ok(Some(KeyspacesConfig {
                tls: Some(TlsSettings {
                    server_name: None,
                    ..
                }),
                ..
            }))
        ));
        let mixed = from(&[
            ("CASSANDRA_CONTACT_POINTS", "a.example:9142,b.example:9142"),
            ("CASSANDRA_TLS", "true"),
        ]);
        assert_eq!(
            mixed.err().map(|e| e.name),
            Some("CASSANDRA_TLS_SERVER_NAME")
        );
    }

    #[test]
    fn a_bad_setting_is_named() {
        let bad = |pairs: &[(&str, &str)]| from(pairs).err().map(|e| e.name);
        let points = ("CASSANDRA_CONTACT_POINTS", "127.0.0.1:9042");
        assert_eq!(bad(&[points, ("KEYSPACE", "x; DROP")]), Some("KEYSPACE"));
        assert_eq!(
            bad(&[points, ("CASSANDRA_TLS", "yes")]),
            Some("CASSANDRA_TLS")
        );
        assert_eq!(
            bad(&[points, ("CASSANDRA_USERNAME", "u")]),
            Some("CASSANDRA_USERNAME")
        );
        assert_eq!(
            bad(&[("CASSANDRA_CONTACT_POINTS", " , ")]),
            Some("CASSANDRA_CONTACT_POINTS")
        );
        assert_eq!(
            bad(&[points, ("CASSANDRA_AUTH", "kerberos")]),
            Some("CASSANDRA_AUTH")
        );
        assert_eq!(
            bad(&[
                points,
                ("CASSANDRA_AUTH", "sigv4"),
                ("CASSANDRA_USERNAME", "u")
            ]),
            Some("CASSANDRA_AUTH")
        );
        let sigv4 = from(&[points, ("CASSANDRA_AUTH", "sigv4")]);
        assert!(matches!(
            sigv4,
            Ok(Some(KeyspacesConfig {
                auth: Auth::SigV4,
                ..
            }))
        ));
    }
}
