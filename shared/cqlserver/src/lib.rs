//! A CQL server for tests that is as strict as Amazon Keyspaces where the adapters depend on it:
//! kassandra's in-memory engine behind a tokio listener on 127.0.0.1, one engine per server, so
//! each test has its own. Like a Keyspaces endpoint ("Service endpoints for Amazon Keyspaces"),
//! it
//!
//! - speaks TLS only, with a certificate for `cassandra.us-east-1.amazonaws.com` from a CA made
//!   in the test ([`testca`]), though it is reached at 127.0.0.1: a client must trust that CA and
//!   check that name, not the address it dialled;
//! - lets nothing run before a sign-in, with service-specific credentials (plain text) or the
//!   SigV4 handshake, checked against the keys the test holds ([`auth`]);
//! - runs a statement only if the login's grants allow its IAM action on its table, checked when
//!   it is prepared and when it runs ([`grants`]);
//! - evaluates `IF` conditions, compare-and-set under one lock, answering `[applied]` and the
//!   current values as Cassandra does ([`conditional`]);
//! - refuses the consistency levels Keyspaces refuses (`ANY`, `TWO`, `THREE`, `QUORUM`, `ALL`,
//!   `EACH_QUORUM`: "Supported Apache Cassandra consistency levels in Amazon Keyspaces") and
//!   prepared DDL ("Amazon Keyspaces does not currently support the use of prepared statements
//!   for data definition language (DDL) operations": "Functional differences: Amazon Keyspaces
//!   vs. Apache Cassandra"), and reports its data center as the region.
//!
//! What it does not do: it is one node (`system.peers` is empty), and it keeps no data between
//! runs. A conditional write must be prepared, and compare only columns the write also sets;
//! anything else is refused rather than applied unconditionally.

mod auth;
mod conditional;
mod connection;
pub mod grants;

pub use grants::{Action, Grants};

use kassandra::KassandraSession;
use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};
use tokio::net::TcpListener;

/// The region the server plays, and its data center.
pub const REGION: &str = "us-east-1";

/// The name its certificate carries: Keyspaces' endpoint in [`REGION`].
pub const SERVER_NAME: &str = "cassandra.us-east-1.amazonaws.com";

/// Service-specific credentials: a user name and password.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Login {
    /// The user name.
    pub username: String,
    /// Its password.
    pub password: String,
}

/// An access key pair the SigV4 handshake is checked against.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SigV4Keys {
    /// The access key id.
    pub access_key_id: String,
    /// Its secret.
    pub secret_access_key: String,
}

/// A running server and what a client needs to reach it. The server lives as long as the
/// runtime that started it.
pub struct CqlServer {
    address: SocketAddr,
    ca_file: PathBuf,
    admin: Login,
    keys: SigV4Keys,
    node: Arc<Node>,
}

/// The engine, who may sign in, and every refusal so far.
#[derive(Default)]
pub(crate) struct Node {
    engine: Mutex<Engine>,
    logins: Mutex<HashMap<String, (String, Grants)>>,
    keys: Mutex<HashMap<String, (String, Grants)>>,
    refusals: Mutex<Vec<String>>,
}

/// The data and the statements prepared on it.
#[derive(Default)]
pub(crate) struct Engine {
    pub session: KassandraSession,
    pub prepared: HashMap<u128, connection::PreparedInfo>,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn secret() -> String {
    std::iter::repeat_with(fastrand::alphanumeric)
        .take(24)
        .collect()
}

impl Node {
    pub(crate) fn engine(&self) -> MutexGuard<'_, Engine> {
        lock(&self.engine)
    }

    /// The grants of `username` if `password` is its password.
    pub(crate) fn password_login(&self, username: &str, password: &str) -> Option<Grants> {
        lock(&self.logins)
            .get(username)
            .filter(|(expected, _)| expected == password)
            .map(|(_, grants)| grants.clone())
    }

    /// The secret and grants of an access key.
    pub(crate) fn key(&self, access_key_id: &str) -> Option<(String, Grants)> {
        lock(&self.keys).get(access_key_id).cloned()
    }

    pub(crate) fn refuse(&self, reason: String) {
        lock(&self.refusals).push(reason);
    }
}

/// The test CA of this process, made once, and its PEM file: every server of a test process
/// chains to it, so one file per process is left in the temporary directory, not one per server.
fn test_ca() -> &'static (testca::TestCa, PathBuf) {
    static CA: std::sync::OnceLock<(testca::TestCa, PathBuf)> = std::sync::OnceLock::new();
    CA.get_or_init(|| {
        let ca = testca::TestCa::new().unwrap_or_else(|e| panic!("{e}"));
        let dir = std::env::temp_dir().join(format!("cqlserver-{}", std::process::id()));
        let file = ca.write_pem(&dir).unwrap_or_else(|e| panic!("{e}"));
        (ca, file)
    })
}

impl CqlServer {
    /// Starts a server on a free loopback port, with one login and one access key that may do
    /// everything (the test's own, for the schema and seed data).
    pub async fn start() -> Self {
        let (ca, ca_file) = test_ca();
        let tls = ca
            .server_config(&[SERVER_NAME])
            .unwrap_or_else(|e| panic!("{e}"));
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .unwrap_or_else(|e| panic!("bind: {e}"));
        let address = listener.local_addr().unwrap_or_else(|e| panic!("{e}"));
        let ca_file = ca_file.clone();
        let node = Arc::new(Node::default());
        connection::play_the_region(&mut node.engine().session, REGION);
        let admin = Login {
            username: "test-admin-at-000000000000".to_owned(),
            password: secret(),
        };
        let keys = SigV4Keys {
            access_key_id: format!("AKIATEST{}", fastrand::u32(..)),
            secret_access_key: secret(),
        };
        lock(&node.logins).insert(
            admin.username.clone(),
            (admin.password.clone(), Grants::all()),
        );
        lock(&node.keys).insert(
            keys.access_key_id.clone(),
            (keys.secret_access_key.clone(), Grants::all()),
        );
        let acceptor = tokio_rustls::TlsAcceptor::from(tls);
        let serving = node.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                // As Cassandra's native transport does: an answer goes out when written, not
                // after the client's delayed acknowledgement of the one before (Nagle's wait
                // put 40 ms into a start's handshake).
                let _ = stream.set_nodelay(true);
                let (acceptor, node) = (acceptor.clone(), serving.clone());
                tokio::spawn(async move {
                    // A client that will not speak TLS, or does not trust the CA, is dropped.
                    if let Ok(stream) = acceptor.accept(stream).await {
                        connection::serve(stream, node).await;
                    }
                });
            }
        });
        Self {
            address,
            ca_file,
            admin,
            keys,
            node,
        }
    }

    /// Where it listens.
    pub fn address(&self) -> SocketAddr {
        self.address
    }

    /// The PEM file of the CA its certificate chains to.
    pub fn ca_file(&self) -> &Path {
        &self.ca_file
    }

    /// The login that may do everything.
    pub fn admin(&self) -> &Login {
        &self.admin
    }

    /// The access key that may do everything, for the SigV4 handshake in [`REGION`].
    pub fn sigv4_keys(&self) -> &SigV4Keys {
        &self.keys
    }

    /// A new login that may do what `grants` allow, and nothing else.
    pub fn login_with(&self, grants: Grants) -> Login {
        let login = Login {
            username: format!("user-{}-at-000000000000", fastrand::u32(..)),
            password: secret(),
        };
        lock(&self.node.logins).insert(login.username.clone(), (login.password.clone(), grants));
        login
    }

    /// The `CASSANDRA_*` settings that reach this server as `login`: as the template sets them
    /// for a function (TLS with the endpoint's name, the region as the data center), but signing
    /// in with service-specific credentials where the template has `CASSANDRA_AUTH=sigv4` (a
    /// test has no role; SigV4 is signed with [`CqlServer::sigv4_keys`] in code), plus the test
    /// CA and the address to dial.
    pub fn settings(&self, login: &Login) -> BTreeMap<&'static str, String> {
        BTreeMap::from([
            ("CASSANDRA_CONTACT_POINTS", self.address.to_string()),
            ("CASSANDRA_TLS", "true".to_owned()),
            ("CASSANDRA_TLS_SERVER_NAME", SERVER_NAME.to_owned()),
            (
                "CASSANDRA_TLS_CA_FILE",
                self.ca_file.to_string_lossy().into_owned(),
            ),
            ("CASSANDRA_LOCAL_DC", REGION.to_owned()),
            ("CASSANDRA_USERNAME", login.username.clone()),
            ("CASSANDRA_PASSWORD", login.password.clone()),
        ])
    }

    /// Every statement refused for want of a grant so far, with the login and what it lacked.
    pub fn refusals(&self) -> Vec<String> {
        lock(&self.node.refusals).clone()
    }
}
