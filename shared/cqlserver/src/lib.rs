//! A CQL server for tests: kassandra's in-memory engine behind a tokio listener on 127.0.0.1, one
//! engine per server, so each test has its own. The Keyspaces adapter's wire tests and the local
//! stack's tests on Keyspaces run against it.
//!
//! kassandra parses a conditional write (`IF NOT EXISTS`, `IF EXISTS`, `IF version = ?`) but
//! applies it without checking the condition, declares none of the `IF` clause's bind markers,
//! and answers with no rows. This server fills in what a driver needs to run such a statement
//! at all: it declares those markers (typed like the columns they compare) and reports the
//! write applied, which is what kassandra did. It checks no condition, so version conflicts are
//! tested against a real Cassandra (`shared/keyspaces/tests/cassandra.rs`).

use bytes::Bytes;
use futures_util::{SinkExt, StreamExt};
use kassandra::KassandraSession;
use kassandra::cql::column::ColumnType;
use kassandra::cql::value::CqlValue;
use kassandra::error::DbError;
use kassandra::frame::request::{Request, RequestOpcode};
use kassandra::frame::response::Response;
use kassandra::frame::response::error::Error;
use kassandra::frame::response::result::{
    ColumnSpec, QueryResult, ResultMetadata, Row, Rows, TableSpec,
};
use kassandra::frame::{request_stream, response_sink};
use std::collections::HashSet;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use tokio::net::{TcpListener, TcpStream};

/// The engine and which prepared statements are conditional.
#[derive(Default)]
struct Node {
    session: KassandraSession,
    conditional: HashSet<u128>,
}

/// Starts a server on a free port; it lives as long as the test's runtime.
pub async fn start() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0")
        .await
        .unwrap_or_else(|e| panic!("bind: {e}"));
    let address = listener.local_addr().unwrap_or_else(|e| panic!("{e}"));
    let node = Arc::new(Mutex::new(Node::default()));
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            tokio::spawn(serve(stream, node.clone()));
        }
    });
    address
}

async fn serve(stream: TcpStream, node: Arc<Mutex<Node>>) {
    let (read, write) = stream.into_split();
    let mut requests = request_stream(read);
    let mut responses = response_sink(write);
    while let Some(Ok((frame, opcode, data))) = requests.next().await {
        let response = answer(&node, opcode, &data, frame.flags);
        if responses.send((response, frame.stream)).await.is_err() {
            break;
        }
    }
}

fn answer(
    node: &Mutex<Node>,
    opcode: RequestOpcode,
    data: &Bytes,
    flags: kassandra::frame::FrameFlags,
) -> Response {
    let request = match Request::deserialize(opcode, data, flags) {
        Ok(request) => request,
        Err(e) => return Response::Error(e),
    };
    let mut node = node.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    let result = match request {
        Request::StartUp(_) | Request::Register { .. } => return Response::Ready,
        Request::Options => return Response::options(),
        Request::AuthResponse => {
            return Response::Error(Error::new(DbError::ProtocolError, "no authentication here"));
        }
        Request::Query(query) => {
            let condition = condition_of(query.raw_query).is_some();
            node.session
                .process(query)
                .map(|result| if condition { applied() } else { result })
        }
        Request::Prepare(parsed) => {
            // The raw text is a [long string] at the start of the frame body.
            let text = data
                .get(4..)
                .and_then(|raw| std::str::from_utf8(raw).ok())
                .unwrap_or_default();
            node.session.prepare(parsed).map(|mut result| {
                if let (QueryResult::Prepared(prepared), Some(condition)) =
                    (&mut result, condition_of(text))
                {
                    let specs = &mut prepared.prepared_metadata.col_specs;
                    for column in compared_columns(condition) {
                        if let Some(spec) = specs.iter().find(|s| s.name == column).cloned() {
                            specs.push(spec);
                        }
                    }
                    node.conditional.insert(prepared.id);
                }
                result
            })
        }
        Request::Execute(execute) => {
            let condition = <[u8; 16]>::try_from(execute.id)
                .is_ok_and(|id| node.conditional.contains(&u128::from_be_bytes(id)));
            node.session
                .execute(execute)
                .map(|result| if condition { applied() } else { result })
        }
        Request::Batch(batch) => node.session.process_batch(batch),
    };
    match result {
        Ok(result) => Response::Result(result),
        Err(e) => Response::Error(e),
    }
}

/// The `IF ...` clause of a write, if it has one.
fn condition_of(cql: &str) -> Option<&str> {
    let upper = cql.to_ascii_uppercase();
    let write = ["INSERT", "UPDATE", "DELETE"]
        .iter()
        .any(|verb| upper.trim_start().starts_with(verb));
    let at = upper.rfind(" IF ")?;
    write.then(|| &cql[at + 4..])
}

/// The columns an `IF a = ? AND b = ?` clause compares with bind markers.
fn compared_columns(condition: &str) -> Vec<String> {
    condition
        .split(" AND ")
        .filter_map(|term| term.split_once('='))
        .filter(|(_, value)| value.trim() == "?")
        .map(|(column, _)| column.trim().to_owned())
        .collect()
}

/// The one-row result of a conditional write that applied.
fn applied() -> QueryResult {
    QueryResult::Rows(Rows {
        metadata: ResultMetadata {
            // kassandra writes a column's table from here; the driver reads only the name.
            global_spec: Some(TableSpec {
                ks_name: "system".to_owned(),
                table_name: "lwt".to_owned(),
            }),
            col_specs: vec![ColumnSpec::new("[applied]", ColumnType::Boolean)],
            ..ResultMetadata::default()
        },
        rows: vec![Row {
            columns: vec![Some(CqlValue::Boolean(true))],
        }],
    })
}
