//! One client connection: the sign-in, then each request checked (consistency, grants,
//! conditions) before kassandra runs it.

use crate::auth;
use crate::conditional::{Conditional, condition_of};
use crate::grants::{Access, Grants};
use crate::{Engine, Node};
use bytes::{BufMut, Bytes, BytesMut};
use futures_util::{SinkExt, StreamExt};
use kassandra::KassandraSession;
use kassandra::cql::query::QueryString;
use kassandra::error::DbError;
use kassandra::frame::consistency::Consistency;
use kassandra::frame::request::batch::BatchStatement;
use kassandra::frame::request::query::Query;
use kassandra::frame::request::{Request, RequestOpcode};
use kassandra::frame::response::error::Error;
use kassandra::frame::response::result::QueryResult;
use kassandra::frame::response::{Response, ResponseFrameCodec, ResponseOpcode};
use kassandra::frame::{FrameFlags, request_stream};
use std::sync::Arc;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio_util::codec::FramedWrite;

/// The authenticator the server names. AWS's docs do not say which class Keyspaces announces;
/// this is the name gocql's list of approved authenticators carries for Keyspaces. The drivers
/// here do not look at it.
const AUTHENTICATOR: &str = "com.amazon.helenus.auth.HelenusAuthenticator";

/// What the server knows of a prepared statement.
pub(crate) struct PreparedInfo {
    access: Option<Access>,
    conditional: Option<Conditional>,
}

/// Where a connection is in its sign-in.
enum SignIn {
    /// Nothing yet: only `OPTIONS`, `STARTUP` and `AUTH_RESPONSE` are answered.
    Pending,
    /// A SigV4 challenge was sent with this nonce.
    Challenged { nonce: String },
    /// Signed in with these grants.
    Done { login: String, grants: Grants },
}

/// One answer: a CQL response kassandra can write, or an authentication frame it cannot. One
/// per request, moved once: the size difference of the two costs nothing.
#[allow(clippy::large_enum_variant)]
enum Reply {
    Cql(Response),
    Auth(ResponseOpcode, Bytes),
}

/// Serves `stream` until the client leaves.
pub(crate) async fn serve<S>(stream: S, node: Arc<Node>)
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let (read, write) = tokio::io::split(stream);
    let mut requests = request_stream(read);
    let mut responses = FramedWrite::new(write, ResponseFrameCodec);
    let mut sign_in = SignIn::Pending;
    while let Some(Ok((frame, opcode, data))) = requests.next().await {
        let sent = match answer(&node, &mut sign_in, opcode, &data, frame.flags) {
            Reply::Cql(response) => responses.send((response, frame.stream)).await,
            Reply::Auth(opcode, body) => responses.send((frame, opcode, body)).await,
        };
        if sent.is_err() {
            break;
        }
    }
}

fn answer(
    node: &Node,
    sign_in: &mut SignIn,
    opcode: RequestOpcode,
    data: &Bytes,
    flags: FrameFlags,
) -> Reply {
    let error = |e: DbError, reason: &str| Reply::Cql(Response::Error(Error::new(e, reason)));
    match opcode {
        RequestOpcode::Options => return Reply::Cql(Response::options()),
        // kassandra cannot read an AUTH_RESPONSE (it panics), so it is read here.
        RequestOpcode::AuthResponse => return authenticate(node, sign_in, data),
        RequestOpcode::Startup => {
            let mut body = BytesMut::new();
            put_string(&mut body, AUTHENTICATOR);
            return match sign_in {
                SignIn::Done { .. } => Reply::Cql(Response::Ready),
                _ => Reply::Auth(ResponseOpcode::Authenticate, body.freeze()),
            };
        }
        _ => {}
    }
    let SignIn::Done { login, grants } = sign_in else {
        return error(DbError::Unauthorized, "You have not logged in");
    };
    let request = match Request::deserialize(opcode, data, flags) {
        Ok(request) => request,
        Err(e) => return Reply::Cql(Response::Error(e)),
    };
    let mut engine = node.engine();
    let result = run(node, &mut engine, login, grants, request, data);
    Reply::Cql(match result {
        Ok(Some(result)) => Response::Result(result),
        Ok(None) => Response::Ready,
        Err(e) => Response::Error(e),
    })
}

/// Runs a request of a signed-in client; `None` answers `READY`.
fn run(
    node: &Node,
    engine: &mut Engine,
    login: &str,
    grants: &Grants,
    request: Request<'_>,
    data: &Bytes,
) -> Result<Option<QueryResult>, Error> {
    let allow = |access: Option<&Access>| -> Result<(), Error> {
        match access {
            Some(access) if !grants.allows(access.action, &access.resource) => {
                let reason = access.refusal(login);
                node.refuse(reason.clone());
                Err(Error::new(DbError::Unauthorized, reason))
            }
            _ => Ok(()),
        }
    };
    match request {
        Request::StartUp(_) | Request::Register { .. } => Ok(None),
        Request::Options | Request::AuthResponse => Ok(None),
        Request::Query(query) => {
            supported(query.parameters.consistency)?;
            allow(Access::of(&query.query, None).as_ref())?;
            if condition_of(query.raw_query).is_some() {
                return Err(refused("a conditional write must be prepared"));
            }
            engine.session.process(query).map(Some)
        }
        Request::Prepare(parsed) => {
            if !matches!(
                parsed,
                QueryString::Select(_) | QueryString::Insert(_) | QueryString::Delete(_)
            ) {
                return Err(refused(
                    "Keyspaces does not support prepared statements for DDL",
                ));
            }
            let access = Access::of(&parsed, None);
            allow(access.as_ref())?;
            let text = long_string(data)
                .ok_or_else(|| refused("a PREPARE whose text is not a [long string] of UTF-8"))?;
            let mut result = engine.session.prepare(parsed)?;
            if let QueryResult::Prepared(prepared) = &mut result {
                // kassandra declares a marker for a literal in a WHERE clause (the driver's
                // `SELECT .. FROM system.local WHERE key='local'`); a statement without a
                // marker binds nothing.
                if !text.contains('?') {
                    prepared.prepared_metadata.col_specs.clear();
                    prepared.prepared_metadata.pk_indexes.clear();
                }
                let conditional = Conditional::prepare(text, prepared)?;
                engine.prepared.insert(
                    prepared.id,
                    PreparedInfo {
                        access,
                        conditional,
                    },
                );
            }
            Ok(Some(result))
        }
        Request::Execute(execute) => {
            supported(execute.parameters.consistency)?;
            let id = <[u8; 16]>::try_from(execute.id)
                .map(u128::from_be_bytes)
                .map_err(|_| refused("a prepared id of the wrong length"))?;
            // The statements and the data are borrowed apart: nothing is copied per execute.
            let Engine { session, prepared } = engine;
            let info = prepared.get(&id);
            allow(info.and_then(|i| i.access.as_ref()))?;
            match info.and_then(|i| i.conditional.as_ref()) {
                Some(conditional) => conditional.execute(session, execute).map(Some),
                None => session.execute(execute).map(Some),
            }
        }
        Request::Batch(batch) => {
            supported(batch.consistency)?;
            for statement in &batch.statements {
                let (access, conditional) = match statement {
                    BatchStatement::Query {
                        query, raw_query, ..
                    } => (Access::of(query, None), condition_of(raw_query).is_some()),
                    BatchStatement::Prepared { id, .. } => {
                        let info = <[u8; 16]>::try_from(*id)
                            .ok()
                            .and_then(|id| engine.prepared.get(&u128::from_be_bytes(id)));
                        (
                            info.and_then(|i| i.access.clone()),
                            info.is_some_and(|i| i.conditional.is_some()),
                        )
                    }
                };
                allow(access.as_ref())?;
                if conditional {
                    return Err(refused("conditions in a batch are not evaluated here"));
                }
            }
            engine.session.process_batch(batch).map(Some)
        }
    }
}

/// The consistency levels Keyspaces accepts: `ONE`, `LOCAL_ONE` and `LOCAL_QUORUM`.
fn supported(consistency: Consistency) -> Result<(), Error> {
    match consistency {
        Consistency::One | Consistency::LocalOne | Consistency::LocalQuorum => Ok(()),
        other => Err(Error::new(
            DbError::Invalid,
            format!("Consistency level {other} is not supported by Amazon Keyspaces"),
        )),
    }
}

fn refused(reason: &str) -> Error {
    Error::new(DbError::Invalid, format!("test server: {reason}"))
}

/// An `AUTH_RESPONSE`: the opening of a SigV4 handshake, its answer, or a user and password.
fn authenticate(node: &Node, sign_in: &mut SignIn, data: &Bytes) -> Reply {
    let refuse = |reason: &str| {
        Reply::Cql(Response::Error(Error::new(
            DbError::AuthenticationError,
            reason,
        )))
    };
    let Some(token) = bytes_field(data) else {
        return refuse("an AUTH_RESPONSE without a token");
    };
    match std::mem::replace(sign_in, SignIn::Pending) {
        SignIn::Done { login, grants } => {
            *sign_in = SignIn::Done { login, grants };
            refuse("already signed in")
        }
        SignIn::Challenged { nonce } => {
            let answer = String::from_utf8_lossy(token);
            let verified = auth::verify(
                &answer,
                &nonce,
                crate::REGION,
                |key| node.key(key).map(|(secret, _)| secret),
                chrono::Utc::now(),
            );
            match verified.map(|key| (node.key(&key), key)) {
                Ok((Some((_, grants)), login)) => {
                    *sign_in = SignIn::Done { login, grants };
                    success()
                }
                Ok((None, _)) => refuse(auth::Refused::UnknownKey.reason()),
                Err(refusal) => refuse(refusal.reason()),
            }
        }
        SignIn::Pending if token == auth::SIGV4_INITIAL => {
            let nonce = auth::nonce();
            let mut body = BytesMut::new();
            put_bytes(&mut body, format!("nonce={nonce}").as_bytes());
            *sign_in = SignIn::Challenged { nonce };
            Reply::Auth(ResponseOpcode::AuthChallenge, body.freeze())
        }
        SignIn::Pending => {
            // PLAIN: [authorization id] \0 user \0 password.
            let mut parts = token.split(|b| *b == 0).skip(1);
            let (Some(user), Some(password)) = (parts.next(), parts.next()) else {
                return refuse("neither SigV4 nor a user name and password");
            };
            let (user, password) = (
                String::from_utf8_lossy(user),
                String::from_utf8_lossy(password),
            );
            match node.password_login(&user, &password) {
                Some(grants) => {
                    *sign_in = SignIn::Done {
                        login: user.into_owned(),
                        grants,
                    };
                    success()
                }
                None => refuse("Provided username and/or password are incorrect"),
            }
        }
    }
}

fn success() -> Reply {
    let mut body = BytesMut::new();
    body.put_i32(-1); // no token
    Reply::Auth(ResponseOpcode::AuthSuccess, body.freeze())
}

/// The `[long string]` at the start of a body: a 4-byte length, then that many UTF-8 bytes.
fn long_string(data: &[u8]) -> Option<&str> {
    let length = usize::try_from(i32::from_be_bytes(data.get(..4)?.try_into().ok()?)).ok()?;
    std::str::from_utf8(data.get(4..4 + length)?).ok()
}

/// The `[bytes]` an `AUTH_RESPONSE` body holds.
fn bytes_field(data: &[u8]) -> Option<&[u8]> {
    let length = usize::try_from(i32::from_be_bytes(data.get(..4)?.try_into().ok()?)).ok()?;
    data.get(4..4 + length)
}

fn put_bytes(body: &mut BytesMut, bytes: &[u8]) {
    body.put_i32(i32::try_from(bytes.len()).unwrap_or(i32::MAX));
    body.put_slice(bytes);
}

fn put_string(body: &mut BytesMut, text: &str) {
    body.put_u16(u16::try_from(text.len()).unwrap_or(u16::MAX));
    body.put_slice(text.as_bytes());
}

/// Makes the node report `region` as its data center, as every Keyspaces endpoint reports its
/// region (the template sets `CASSANDRA_LOCAL_DC` to it, and the driver prefers that data center).
pub(crate) fn play_the_region(session: &mut KassandraSession, region: &str) {
    use kassandra::frame::request::{QueryFlags, QueryParameters};
    use kassandra::frame::value::FrameValue;
    // kassandra's node owns the token "hello", which no partitioner makes, and the driver then
    // leaves it out of every data center's ring: it gets one real token, `{'0'}` (a set<text>
    // of one element, as the protocol writes it; kassandra parses no set literal).
    let tokens: [u8; 9] = [0, 0, 0, 1, 0, 0, 0, 1, b'0'];
    let text =
        format!("UPDATE system.local SET data_center = '{region}', tokens = ? WHERE key = 'local'");
    let result = Query::simple(&text).and_then(|mut query| {
        query.parameters = QueryParameters {
            flags: QueryFlags::VALUES,
            data: vec![FrameValue::Some(&tokens)],
            ..QueryParameters::default()
        };
        session.process(query)
    });
    if let Err(e) = result {
        panic!("could not set the data center: {e:?}");
    }
}
