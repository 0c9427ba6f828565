//! An emulation of the Lambda runtime API for one function process at a time, on a free port of
//! loopback: it tells the bench of every poll for an invocation (the first one ends the init
//! phase), of an init error, and of every answer, and hands out the invocations the bench
//! queues, with the headers Lambda sends ("Using the Lambda runtime API for custom runtimes").

use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::sync::{Mutex, mpsc};

/// What the emulation heard from the function.
pub enum Heard {
    /// `GET /runtime/invocation/next`: the function waits for work (the first time: it is ready).
    Polled,
    /// `POST /runtime/init/error`, with its body.
    InitError(String),
    /// `POST /runtime/invocation/{id}/response` (or `/error`, then `failed`), with its body.
    Answered { body: String, failed: bool },
}

/// The runtime API of one function.
pub struct RuntimeApi {
    pub addr: SocketAddr,
    pub heard: mpsc::UnboundedReceiver<Heard>,
    invocations: mpsc::UnboundedSender<String>,
}

/// Invocations waiting for a poll, shared by the connections a process opens.
type Queue = Arc<Mutex<mpsc::UnboundedReceiver<String>>>;

impl RuntimeApi {
    pub async fn start() -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("a port for the runtime API");
        let addr = listener.local_addr().expect("its address");
        let (tell, heard) = mpsc::unbounded_channel();
        let (invocations, queued) = mpsc::unbounded_channel();
        let queue: Queue = Arc::new(Mutex::new(queued));
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let (tell, queue) = (tell.clone(), queue.clone());
                let service = hyper::service::service_fn(move |request| {
                    answer(request, tell.clone(), queue.clone())
                });
                tokio::spawn(
                    hyper::server::conn::http1::Builder::new()
                        .serve_connection(hyper_util::rt::TokioIo::new(stream), service),
                );
            }
        });
        Self {
            addr,
            heard,
            invocations,
        }
    }

    /// Queues `event` (JSON) for the function's next poll.
    pub fn invoke(&self, event: String) {
        let _ = self.invocations.send(event);
    }
}

async fn answer(
    request: hyper::Request<Incoming>,
    tell: mpsc::UnboundedSender<Heard>,
    queue: Queue,
) -> Result<hyper::Response<Full<bytes::Bytes>>, std::convert::Infallible> {
    let path = request.uri().path().to_owned();
    if path.ends_with("/runtime/invocation/next") {
        let _ = tell.send(Heard::Polled);
        let Some(event) = queue.lock().await.recv().await else {
            return Ok(std::future::pending().await);
        };
        return Ok(invocation(event));
    }
    let body = request
        .into_body()
        .collect()
        .await
        .map(|b| String::from_utf8_lossy(&b.to_bytes()).into_owned())
        .unwrap_or_default();
    if path.ends_with("/runtime/init/error") {
        let _ = tell.send(Heard::InitError(body));
    } else if path.ends_with("/response") || path.ends_with("/error") {
        let failed = path.ends_with("/error");
        let _ = tell.send(Heard::Answered { body, failed });
    }
    let mut response = hyper::Response::new(Full::new(bytes::Bytes::new()));
    *response.status_mut() = hyper::StatusCode::ACCEPTED;
    Ok(response)
}

/// The answer to a poll: the event, with the request id, deadline and function ARN headers.
fn invocation(event: String) -> hyper::Response<Full<bytes::Bytes>> {
    let deadline = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default()
        .as_millis()
        + 30_000;
    let id = format!("{:032x}", fastrand::u128(..));
    hyper::Response::builder()
        .header("Lambda-Runtime-Aws-Request-Id", id)
        .header("Lambda-Runtime-Deadline-Ms", deadline.to_string())
        .header(
            "Lambda-Runtime-Invoked-Function-Arn",
            "arn:aws:lambda:us-east-1:123456789012:function:bench",
        )
        .header(
            "Lambda-Runtime-Trace-Id",
            "Root=1-00000000-000000000000000000000000",
        )
        .header("Content-Type", "application/json")
        .body(Full::new(bytes::Bytes::from(event)))
        .expect("a response")
}
