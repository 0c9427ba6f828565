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
use tokio::sync::OnceCell;

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
    Tls(#[from] tls::TlsError),
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

/// The session over one keyspace and the statements prepared on it so far. Cheap to clone.
#[derive(Clone, Debug)]
pub struct Keyspace {
    pub(crate) session: Arc<Session>,
    statements: Arc<Statements>,
}

/// A statement the adapters run, by purpose. Its discriminant is its place in
/// [`Statement::ALL`] and in the prepared statements.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(usize)]
pub enum Statement {
    /// A cart's row.
    LoadCart,
    /// A new cart, `IF NOT EXISTS`.
    InsertCart,
    /// A changed cart, `IF version = ?`.
    UpdateCart,
    /// A user's entry in the membership index.
    AddMembership,
    /// A user's entry in the membership index, removed.
    RemoveMembership,
    /// The carts of a user, from the membership index.
    CartsOf,
    /// An item of the catalog.
    LoadItem,
    /// The whole catalog.
    AllItems,
    /// An item, written whole.
    PutItem,
    /// An item's stock, `IF EXISTS`.
    SetStock,
    /// An item's stock and the checkouts that took from it.
    LoadTaken,
    /// Stock taken by a checkout, `IF stock = ?`.
    TakeStock,
    /// A change's entry in the relay's list, written beside the change.
    AddUnpublished,
    /// The carts of one shard of the relay's list.
    UnpublishedShard,
    /// One cart's entries in the relay's list.
    UnpublishedOfCart,
    /// An entry of the relay's list, removed.
    RemoveUnpublished,
}

impl Statement {
    /// Every statement, in the order `Statements` keeps them.
    pub const ALL: [Statement; 16] = [
        Statement::LoadCart,
        Statement::InsertCart,
        Statement::UpdateCart,
        Statement::AddMembership,
        Statement::RemoveMembership,
        Statement::CartsOf,
        Statement::LoadItem,
        Statement::AllItems,
        Statement::PutItem,
        Statement::SetStock,
        Statement::LoadTaken,
        Statement::TakeStock,
        Statement::AddUnpublished,
        Statement::UnpublishedShard,
        Statement::UnpublishedOfCart,
        Statement::RemoveUnpublished,
    ];

    /// The table the statement reads or writes.
    pub fn table(self) -> &'static str {
        match self {
            Self::LoadCart | Self::InsertCart | Self::UpdateCart => "carts",
            Self::AddMembership | Self::RemoveMembership | Self::CartsOf => "user_cart_sharing",
            Self::LoadItem
            | Self::AllItems
            | Self::PutItem
            | Self::SetStock
            | Self::LoadTaken
            | Self::TakeStock => "items",
            Self::AddUnpublished
            | Self::UnpublishedShard
            | Self::UnpublishedOfCart
            | Self::RemoveUnpublished => "unpublished_events",
        }
    }

    /// Whether it writes (IAM `cassandra:Modify`) rather than reads (`cassandra:Select`).
    pub fn writes(self) -> bool {
        !matches!(
            self,
            Self::LoadCart
                | Self::CartsOf
                | Self::LoadItem
                | Self::AllItems
                | Self::LoadTaken
                | Self::UnpublishedShard
                | Self::UnpublishedOfCart
        )
    }

    /// Its CQL on the tables of `keyspace`.
    pub fn cql(self, keyspace: &str) -> String {
        let ks = keyspace;
        match self {
            Self::LoadCart => {
                format!("SELECT cart_id, {CART_COLUMNS} FROM {ks}.carts WHERE cart_id = ?")
            }
            Self::InsertCart => {
                let markers = vec!["?"; CART_COLUMNS.split(", ").count() + 1].join(", ");
                format!(
                    "INSERT INTO {ks}.carts ({CART_COLUMNS}, cart_id) VALUES ({markers}) IF NOT EXISTS"
                )
            }
            Self::UpdateCart => {
                let assignments = CART_COLUMNS
                    .split(", ")
                    .map(|c| format!("{c} = ?"))
                    .collect::<Vec<_>>()
                    .join(", ");
                format!("UPDATE {ks}.carts SET {assignments} WHERE cart_id = ? IF version = ?")
            }
            Self::AddMembership => {
                format!("INSERT INTO {ks}.user_cart_sharing (user_id, cart_id) VALUES (?, ?)")
            }
            Self::RemoveMembership => {
                format!("DELETE FROM {ks}.user_cart_sharing WHERE user_id = ? AND cart_id = ?")
            }
            Self::CartsOf => {
                format!("SELECT cart_id FROM {ks}.user_cart_sharing WHERE user_id = ?")
            }
            Self::LoadItem => format!(
                "SELECT item_id, name, price, currency, stock FROM {ks}.items WHERE item_id = ?"
            ),
            Self::AllItems => {
                format!("SELECT item_id, name, price, currency, stock FROM {ks}.items")
            }
            Self::PutItem => format!(
                "INSERT INTO {ks}.items (item_id, name, price, currency, stock) VALUES (?, ?, ?, ?, ?)"
            ),
            Self::SetStock => {
                format!("UPDATE {ks}.items SET stock = ? WHERE item_id = ? IF EXISTS")
            }
            Self::LoadTaken => format!("SELECT stock, taken FROM {ks}.items WHERE item_id = ?"),
            Self::TakeStock => {
                format!("UPDATE {ks}.items SET stock = ?, taken = ? WHERE item_id = ? IF stock = ?")
            }
            Self::AddUnpublished => format!(
                "INSERT INTO {ks}.unpublished_events (shard, cart_id, version, event_id, written_at) \
                 VALUES (?, ?, ?, ?, ?)"
            ),
            Self::UnpublishedShard => {
                format!("SELECT cart_id FROM {ks}.unpublished_events WHERE shard = ?")
            }
            Self::UnpublishedOfCart => format!(
                "SELECT version, event_id, written_at FROM {ks}.unpublished_events \
                 WHERE shard = ? AND cart_id = ?"
            ),
            Self::RemoveUnpublished => format!(
                "DELETE FROM {ks}.unpublished_events \
                 WHERE shard = ? AND cart_id = ? AND version = ? AND event_id = ?"
            ),
        }
    }
}

/// The statements prepared so far, each at most once per process. A statement is prepared the
/// first time it runs, never at cold start: a function prepares only what it executes, so a
/// read-only function never asks to prepare a write its role may not make (IAM allows it
/// `cassandra:Select` only), and a cold start makes no round trip for statements it may never
/// use. The price is one round trip on the first request that needs each statement.
#[derive(Debug)]
struct Statements {
    keyspace: String,
    prepared: [OnceCell<PreparedStatement>; Statement::ALL.len()],
}

/// The cart columns after the key, in the order both cart writes bind them.
pub(crate) const CART_COLUMNS: &str = "owner_id, status, version, currency, created_at, \
    updated_at, user_ids, roles, items, item_order, item_names, unit_prices, added_by, unpublished, checkout_lock, invites, names, who_may_lock";

impl Keyspace {
    /// Opens a session as `config` says, over its keyspace, whose tables must exist (the
    /// template creates them on AWS; [`crate::schema::create`] elsewhere). Nothing is prepared
    /// until it runs.
    pub async fn open(config: &KeyspacesConfig) -> Result<Self, KeyspacesError> {
        let session = connect(config).await?;
        Ok(Self::new(session, &config.keyspace))
    }

    /// The keyspace `keyspace` over `session`.
    pub fn new(session: Session, keyspace: &str) -> Self {
        Self {
            session: Arc::new(session),
            statements: Arc::new(Statements {
                keyspace: keyspace.to_owned(),
                prepared: Default::default(),
            }),
        }
    }

    /// The session underneath, for what the adapters do not cover (schema, checks).
    pub fn session(&self) -> &Session {
        &self.session
    }

    /// `which`, prepared on its first use.
    pub async fn statement(&self, which: Statement) -> Result<&PreparedStatement, KeyspacesError> {
        self.statements.prepared[which as usize]
            .get_or_try_init(|| async {
                let cql = which.cql(&self.statements.keyspace);
                self.session
                    .prepare(cql.as_str())
                    .await
                    .map_err(|source| KeyspacesError::Prepare {
                        statement: cql,
                        source: Box::new(source),
                    })
            })
            .await
    }

    /// `which`, prepared on its first use, as the ports report a failure to prepare it.
    pub(crate) async fn prepared(
        &self,
        which: Statement,
    ) -> Result<&PreparedStatement, domain::ports::StoreError> {
        self.statement(which).await.map_err(crate::unavailable)
    }

    /// Prepares every statement now: a check that the tables are the schema's, for the local
    /// stack and the tests, which create them (a Lambda prepares lazily).
    pub async fn prepare_all(&self) -> Result<(), KeyspacesError> {
        for which in Statement::ALL {
            self.statement(which).await?;
        }
        Ok(())
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
        .auto_await_schema_agreement(false)
        // At start the driver reads the schema: by default the tables, columns, types, views
        // and functions of every keyspace, a round trip each, for nothing (a prepared statement
        // carries its own metadata). The keyspaces' replication is all routing needs.
        .fetch_full_schema_metadata(false);
    if let Some(settings) = &config.tls {
        builder = builder.tls_context(Some(tls::client_config(settings)?));
    }
    match &config.auth {
        Auth::None => {}
        Auth::Password { username, password } => builder = builder.user(username, password),
        Auth::SigV4 => {
            let aws = tls::aws_config_loader().load().await;
            let credentials = aws
                .credentials_provider()
                .ok_or(KeyspacesError::NoCredentials)?;
            let region = aws.region().ok_or(KeyspacesError::NoCredentials)?;
            builder = builder.authenticator_provider(Arc::new(
                crate::sigv4::SigV4Authenticator::new(credentials, region.to_string()),
            ));
        }
        Auth::SigV4Keys {
            access_key_id,
            secret_access_key,
            region,
        } => {
            let keys = aws_credential_types::Credentials::new(
                access_key_id,
                secret_access_key,
                None,
                None,
                "keyspaces config",
            );
            builder =
                builder.authenticator_provider(Arc::new(crate::sigv4::SigV4Authenticator::new(
                    aws_credential_types::provider::SharedCredentialsProvider::new(keys),
                    region.clone(),
                )));
        }
    }
    builder
        .build()
        .await
        .map_err(|e| KeyspacesError::Connect(Box::new(e)))
}

#[cfg(test)]
mod tests {
    use super::Statement;

    #[test]
    fn each_statement_s_discriminant_is_its_place_in_all() {
        for (at, statement) in Statement::ALL.iter().enumerate() {
            assert_eq!(*statement as usize, at, "{statement:?}");
        }
    }
}
