//! The CPU `sync-push` spends per delivery: what Lambda bills on every change, at the function's
//! memory size. The function's own code (decode, lookups, one `PostToConnection` per connection
//! through the real SDK client) runs on a thread of its own, on a single-threaded runtime, so
//! that thread's CPU clock counts it and nothing else: the HTTP connection's I/O is driven by
//! that runtime too, while the `@connections` emulation and the members' sockets run elsewhere.

use aws_lambda_events::event::kafka::{KafkaEvent, KafkaRecord};
use base64::Engine;
use cpu_time::ThreadTime;
use domain::{CartEvent, ConnectionPoster, ConnectionRegistry};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

/// Deliveries each client is measured over, at least (whole events, so more at 1,000 members).
const DELIVERIES: usize = 7_000;
/// Rounds those deliveries are taken in, each client in turn.
const ROUNDS: usize = 7;

/// CPU microseconds per delivery with each client.
pub struct PerDelivery {
    /// The client the template deploys: SigV4, the SDK's standard retries.
    pub aws: f64,
    /// The local stack's: unsigned, no retries.
    pub local: f64,
    /// Plain HTTP, no SDK: the baseline.
    pub plain_http: f64,
    /// No client: every post taken at once, so what is left is the function's own work per
    /// delivery (decoding, the registry's lookups, the messages).
    pub without_posts: f64,
}

/// The same `POST @connections/{id}` as plain HTTP on a pooled hyper client: the floor the SDK's
/// per-call pipeline (signing, interceptors, retries) is measured against.
struct PlainHttp {
    client: hyper_util::client::legacy::Client<
        hyper_util::client::legacy::connect::HttpConnector,
        http_body_util::Full<bytes::Bytes>,
    >,
    endpoint: String,
}

#[async_trait::async_trait]
impl ConnectionPoster for PlainHttp {
    async fn post(
        &self,
        connection: &domain::ConnectionId,
        message: &[u8],
    ) -> Result<(), domain::PostError> {
        let id = percent_encoding::utf8_percent_encode(
            connection.as_str(),
            percent_encoding::NON_ALPHANUMERIC,
        );
        let request = http::Request::post(format!("{}/@connections/{id}", self.endpoint))
            .body(http_body_util::Full::new(bytes::Bytes::copy_from_slice(
                message,
            )))
            .map_err(|e| domain::PostError::Failed(Box::new(e)))?;
        let response = self
            .client
            .request(request)
            .await
            .map_err(|e| domain::PostError::Failed(Box::new(e)))?;
        match response.status() {
            http::StatusCode::OK => Ok(()),
            http::StatusCode::GONE => Err(domain::PostError::Gone),
            other => Err(domain::PostError::Failed(format!("{other}").into())),
        }
    }
}

/// Takes every post and sends nothing.
struct Discarding;

#[async_trait::async_trait]
impl ConnectionPoster for Discarding {
    async fn post(&self, _: &domain::ConnectionId, _: &[u8]) -> Result<(), domain::PostError> {
        Ok(())
    }
}

/// Pushes `events` again and again to their members' connections, as fresh `sync-push`
/// instances would (each event is a repeat to an instance that pushed it), and divides the
/// thread's CPU time by the messages delivered.
pub async fn measure(
    registry: Arc<dyn ConnectionRegistry>,
    stack: SocketAddr,
    events: Vec<Arc<CartEvent>>,
) -> PerDelivery {
    let (measured, answer) = tokio::sync::oneshot::channel();
    // Named, so a profile can pick its samples out: `perf report --comms sync-push`.
    std::thread::Builder::new()
        .name("sync-push".into())
        .spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("a runtime for the push thread");
            let per_delivery = runtime.block_on(async {
                let endpoint = format!("http://{stack}");
                let posters: [Arc<dyn ConnectionPoster>; 4] = [
                    Arc::new(apigw::ManagementApi::at_stage(
                        &lambda_like_settings().await,
                        &endpoint,
                    )),
                    Arc::new(apigw::ManagementApi::unsigned_local(&endpoint)),
                    Arc::new(PlainHttp {
                        client: hyper_util::client::legacy::Client::builder(
                            hyper_util::rt::TokioExecutor::new(),
                        )
                        .build_http(),
                        endpoint: endpoint.clone(),
                    }),
                    Arc::new(Discarding),
                ];
                let [aws, local, plain_http, without_posts] =
                    median_per_delivery(&registry, &posters, &events).await;
                PerDelivery {
                    aws,
                    local,
                    plain_http,
                    without_posts,
                }
            });
            let _ = measured.send(per_delivery);
        })
        .expect("a thread for the push");
    answer.await.expect("the push thread")
}

/// The settings a Lambda loads (the same loader), with the credentials and region its
/// environment would give.
async fn lambda_like_settings() -> aws_config::SdkConfig {
    use aws_credential_types::Credentials;
    tls::aws_config_loader()
        .region(aws_config::Region::new("eu-west-1"))
        .credentials_provider(Credentials::new(
            "AKIDBENCH",
            "bench-secret",
            None,
            None,
            "bench",
        ))
        .load()
        .await
}

/// Each poster's CPU per delivery, the median of [`ROUNDS`] rounds taken in turn, so a moment
/// when the machine is busy with something else weighs on one round of each and decides none.
async fn median_per_delivery<const N: usize>(
    registry: &Arc<dyn ConnectionRegistry>,
    posters: &[Arc<dyn ConnectionPoster>; N],
    events: &[Arc<CartEvent>],
) -> [f64; N] {
    for poster in posters {
        // Once unmeasured: it opens the client's connections.
        push_once(registry, poster, events).await;
    }
    let mut rounds: [Vec<f64>; N] = std::array::from_fn(|_| Vec::with_capacity(ROUNDS));
    for _ in 0..ROUNDS {
        for (poster, measured) in posters.iter().zip(rounds.iter_mut()) {
            let mut cpu = Duration::ZERO;
            let mut delivered = 0;
            while delivered < DELIVERIES / ROUNDS {
                let started = ThreadTime::now();
                delivered += push_once(registry, poster, events).await;
                cpu += started.elapsed();
            }
            measured.push(cpu.as_secs_f64() * 1e6 / delivered as f64);
        }
    }
    rounds.map(|mut measured| {
        measured.sort_by(f64::total_cmp);
        measured[measured.len() / 2]
    })
}

/// One batch of `events` through a fresh instance; the messages delivered.
async fn push_once(
    registry: &Arc<dyn ConnectionRegistry>,
    poster: &Arc<dyn ConnectionPoster>,
    events: &[Arc<CartEvent>],
) -> usize {
    let push = sync_push::Push::new(registry.clone(), poster.clone());
    let report = sync_push::handle(&push, batch_of(events))
        .await
        .expect("the registry answers");
    assert!(
        report.failed == 0 && report.gone == 0 && report.posted > 0,
        "every member's socket takes every post: {report:?}"
    );
    report.posted
}

/// `events` as MSK hands them to the function: one partition, base64 values.
fn batch_of(events: &[Arc<CartEvent>]) -> KafkaEvent {
    let records = events
        .iter()
        .enumerate()
        .map(|(offset, event)| {
            let mut record = KafkaRecord::default();
            record.topic = Some("cart-events".into());
            record.offset = offset as i64;
            record.value = Some(
                base64::engine::general_purpose::STANDARD
                    .encode(serde_json::to_vec(event.as_ref()).expect("an event serializes")),
            );
            record
        })
        .collect();
    let mut batch = KafkaEvent::default();
    batch.records.insert("cart-events-0".into(), records);
    batch
}

/// Whether the template's memory size for `sync-push` gives the worst batch the CPU it needs,
/// from the CPU per delivery measured here ("Configure Lambda function memory": CPU is
/// allocated in proportion to memory, one vCPU at 1,769 MB). The worst batch is a full one
/// whose every event goes to a cart of `MAX_MEMBERS`, each with one connection. On AWS each
/// member is also a DynamoDB query, an SDK call of its own, taken here to cost what a post
/// costs; its I/O is a query and a post per member, `MAX_CONCURRENT_MEMBERS` at a time, at
/// [`ROUND_TRIP_IN_REGION`] each.
pub fn print_memory_arithmetic(aws_us_per_delivery: f64) {
    let template = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../infra/template.yaml"
    ))
    .expect("the template");
    let setting = |name: &str| -> f64 {
        template
            .lines()
            .skip_while(|line| !line.starts_with("  SyncPushFunction:"))
            .find_map(|line| line.trim().strip_prefix(name)?.trim().parse().ok())
            .unwrap_or_else(|| panic!("SyncPushFunction's {name} in the template"))
    };
    let (memory_mb, timeout_s, batch) = (
        setting("MemorySize:"),
        setting("Timeout:"),
        setting("BatchSize:"),
    );
    let members = domain::cart::MAX_MEMBERS as f64;
    let vcpu = memory_mb / 1769.0;
    let cpu_per_event_ms = 2.0 * aws_us_per_delivery * members / 1000.0;
    let io_per_event_ms = 2.0
        * ROUND_TRIP_IN_REGION.as_secs_f64()
        * 1000.0
        * (members / sync_push::MAX_CONCURRENT_MEMBERS as f64).ceil();
    let event_ms = (cpu_per_event_ms / vcpu).max(io_per_event_ms);
    let batch_s = event_ms * batch / 1000.0;
    let bound = if cpu_per_event_ms / vcpu > io_per_event_ms {
        "CPU"
    } else {
        "I/O"
    };
    let verdict = if bound == "I/O" && batch_s < timeout_s {
        "met"
    } else {
        "MISSED"
    };
    println!(
        "sync-push memory ({verdict}: the worst batch bound by I/O and within the timeout): {memory_mb:.0} MB = {vcpu:.2} vCPU; a change to {members:.0} members = {cpu_per_event_ms:.0} ms of CPU at 1 vCPU ({:.0} ms at this size) against {io_per_event_ms:.0} ms of I/O; a batch of {batch:.0} such changes {batch_s:.1} s ({bound}-bound) against a timeout of {timeout_s:.0} s",
        cpu_per_event_ms / vcpu
    );
}

/// A request to DynamoDB or API Gateway from a Lambda in the same region, assumed.
const ROUND_TRIP_IN_REGION: Duration = Duration::from_millis(5);
