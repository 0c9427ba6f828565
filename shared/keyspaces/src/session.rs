//! The session and every statement this crate runs, prepared once per process.

use crate::config::{Auth, KeyspacesConfig};
use scylla::client::execution_profile::ExecutionProfile;
use scylla::client::session::Session;
use scylla::client::session_builder::SessionBuilder;
use scylla::policies::load_balancing::DefaultPolicy;
use scylla::statement::prepared::PreparedStatement;
use scylla::statement::{Consistency, SerialConsistency};
use std::sync::Arc;
use std::time::Duration;

/// How long one request may take before the driver gives up on it. A Lambda behind API Gateway
/// has 29 s in all; a store that does not answer in a few should answer 503, not time out.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(5);

/// Why the keyspace could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum KeyspacesError {
    /// No node answered, or the handshake (TLS, authentication) failed.
    #[error("could not open a CQL session")]
    Connect(#[source] Box<scylla::errors::NewSessionError>),
    /// SigV4 was asked for, but the environment has no AWS credentials or region.
    #[error("CASSANDRA_AUTH=sigv4 needs AWS credentials and AWS_REGION")]
    NoCredentials,
    /// The TLS settings could not be built.
    #[error("could not build the TLS settings")]
    Tls(#[from] rustls::Error),
    /// A statement could not be prepared (a table is missing or differs from the schema).
    #[error("could not prepare {statement:?}")]
    Prepare {
        /// The statement's CQL.
        statement: String,
        /// The driver's error.
        #[source]
        source: Box<scylla::errors::PrepareError>,
    },
    /// A schema statement failed.
    #[error("could not run {statement:?}")]
    Schema {
        /// The statement's CQL.
        statement: String,
        /// The driver's error.
        #[source]
        source: Box<scylla::errors::ExecutionError>,
    },
}

/// The session and the prepared statements over one keyspace. Cheap to clone.
#[derive(Clone, Debug)]
pub struct Keyspace {
    pub(crate) session: Arc<Session>,
    pub(crate) statements: Arc<Statements>,
}

/// Every statement the adapters run, by purpose.
#[derive(Debug)]
pub(crate) struct Statements {
    pub load_cart: PreparedStatement,
    pub insert_cart: PreparedStatement,
    pub update_cart: PreparedStatement,
    pub add_membership: PreparedStatement,
    pub remove_membership: PreparedStatement,
    pub carts_of: PreparedStatement,
    pub load_item: PreparedStatement,
    pub all_items: PreparedStatement,
    pub put_item: PreparedStatement,
    pub set_stock: PreparedStatement,
    pub load_taken: PreparedStatement,
    pub take_stock: PreparedStatement,
}

/// The cart columns after the key, in the order both cart writes bind them.
pub(crate) const CART_COLUMNS: &str = "owner_id, status, version, currency, created_at, \
    updated_at, user_ids, roles, items, item_order, item_names, unit_prices, added_by";

impl Keyspace {
    /// Opens a session as `config` says and prepares every statement against its keyspace, whose
    /// tables must exist (the template creates them on AWS; [`crate::schema::create`] elsewhere).
    pub async fn open(config: &KeyspacesConfig) -> Result<Self, KeyspacesError> {
        let session = connect(config).await?;
        Self::prepare(session, &config.keyspace).await
    }

    /// The session underneath, for what the adapters do not cover (schema, checks).
    pub fn session(&self) -> &Session {
        &self.session
    }

    /// Prepares every statement on `session` for the tables in `keyspace`.
    pub async fn prepare(session: Session, keyspace: &str) -> Result<Self, KeyspacesError> {
        let assignments = CART_COLUMNS
            .split(", ")
            .map(|c| format!("{c} = ?"))
            .collect::<Vec<_>>()
            .join(", ");
        let markers = vec!["?"; CART_COLUMNS.split(", ").count() + 1].join(", ");
        let ks = keyspace;
        let prepare = async |cql: String| {
            session
                .prepare(cql.as_str())
                .await
                .map_err(|source| KeyspacesError::Prepare {
                    statement: cql,
                    source: Box::new(source),
                })
        };
        let statements = Statements {
            load_cart: prepare(format!(
                "SELECT cart_id, {CART_COLUMNS} FROM {ks}.carts WHERE cart_id = ?"
            ))
            .await?,
            insert_cart: prepare(format!(
                "INSERT INTO {ks}.carts ({CART_COLUMNS}, cart_id) VALUES ({markers}) IF NOT EXISTS"
            ))
            .await?,
            update_cart: prepare(format!(
                "UPDATE {ks}.carts SET {assignments} WHERE cart_id = ? IF version = ?"
            ))
            .await?,
            add_membership: prepare(format!(
                "INSERT INTO {ks}.user_cart_sharing (user_id, cart_id) VALUES (?, ?)"
            ))
            .await?,
            remove_membership: prepare(format!(
                "DELETE FROM {ks}.user_cart_sharing WHERE user_id = ? AND cart_id = ?"
            ))
            .await?,
            carts_of: prepare(format!(
                "SELECT cart_id FROM {ks}.user_cart_sharing WHERE user_id = ?"
            ))
            .await?,
            load_item: prepare(format!(
                "SELECT item_id, name, price, currency, stock FROM {ks}.items WHERE item_id = ?"
            ))
            .await?,
            all_items: prepare(format!(
                "SELECT item_id, name, price, currency, stock FROM {ks}.items"
            ))
            .await?,
            put_item: prepare(format!(
                "INSERT INTO {ks}.items (item_id, name, price, currency, stock) VALUES (?, ?, ?, ?, ?)"
            ))
            .await?,
            set_stock: prepare(format!(
                "UPDATE {ks}.items SET stock = ? WHERE item_id = ? IF EXISTS"
            ))
            .await?,
            load_taken: prepare(format!(
                "SELECT stock, taken FROM {ks}.items WHERE item_id = ?"
            ))
            .await?,
            take_stock: prepare(format!(
                "UPDATE {ks}.items SET stock = ?, taken = ? WHERE item_id = ? IF stock = ?"
            ))
            .await?,
        };
        Ok(Self {
            session: Arc::new(session),
            statements: Arc::new(statements),
        })
    }
}

/// A session to `config`'s nodes, at `LOCAL_QUORUM` with `LOCAL_SERIAL` conditions.
pub async fn connect(config: &KeyspacesConfig) -> Result<Session, KeyspacesError> {
    let mut policy = DefaultPolicy::builder();
    if let Some(dc) = &config.local_datacenter {
        policy = policy.prefer_datacenter(dc.clone());
    }
    let profile = ExecutionProfile::builder()
        .consistency(Consistency::LocalQuorum)
        .serial_consistency(Some(SerialConsistency::LocalSerial))
        .request_timeout(Some(REQUEST_TIMEOUT))
        .load_balancing_policy(policy.build())
        .build();
    let mut builder = SessionBuilder::new()
        .known_nodes(&config.contact_points)
        .default_execution_profile_handle(profile.into_handle())
        .connection_timeout(REQUEST_TIMEOUT)
        // Nothing here changes the schema at run time (the template creates the tables), so
        // there is no agreement to wait for; single-node test servers have no peers to ask.
        .auto_await_schema_agreement(false);
    if config.tls {
        builder = builder.tls_context(Some(tls::system_roots()?));
    }
    match &config.auth {
        Auth::None => {}
        Auth::Password { username, password } => builder = builder.user(username, password),
        Auth::SigV4 => {
            let aws = aws_config::load_from_env().await;
            let credentials = aws
                .credentials_provider()
                .ok_or(KeyspacesError::NoCredentials)?;
            let region = aws.region().ok_or(KeyspacesError::NoCredentials)?;
            builder = builder.authenticator_provider(Arc::new(
                crate::sigv4::SigV4Authenticator::new(credentials, region.to_string()),
            ));
        }
    }
    builder
        .build()
        .await
        .map_err(|e| KeyspacesError::Connect(Box::new(e)))
}
