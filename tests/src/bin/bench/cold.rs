//! `bench cold`: how long each function takes from its process starting to its first poll of
//! the Lambda runtime API for an invocation, the end of Lambda's init phase. Each function runs
//! as its own process under an emulation of the runtime API, with the settings the template
//! gives it, its AWS adapters pointed at the real servers `tests/services.sh` starts (and a CQL
//! server as strict as Keyspaces, in this process) through links that delay everything by 1 ms
//! each way. Each link counts the connections and round trips a start made on it: a function
//! must open no connection it does not use.
//!
//! The binaries are the deployed build for this machine's architecture (the AWS adapters only,
//! release): `cargo build --release --locked -p <function>...` for every package of
//! `functions/`, then `tests/services.sh target/release/bench cold`.
//!
//! What differs from AWS: Kafka is reached in plaintext without IAM (the stand-in has neither),
//! and the broker's advertised address bypasses the link after the first connection; Keyspaces
//! signs in with SigV4 as on AWS, over TLS, through the link.

use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use tests::CuttableLink;
use tokio::sync::mpsc;
use yaml_serde::Value;

/// Each way, on every link, unless told otherwise: a round trip of 2 ms, as between a Lambda
/// and a service in its region.
pub const LINK_DELAY_MS: u64 = 1;
/// The topic the publishers are given (created first: a publisher looks it up at start).
const TOPIC: &str = "bench-cart-events";
/// How long a start may take before it counts as failed.
const START_LIMIT: Duration = Duration::from_secs(20);
/// Targets: a function with no connection to open, and one with connections at 1 ms each way.
const WITHOUT_CONNECTIONS_MS: f64 = 20.0;
const WITH_CONNECTIONS_MS: f64 = 100.0;

/// What the runtime API emulation heard.
enum Heard {
    /// The first `GET /runtime/invocation/next`: the function is ready.
    Ready,
    /// `POST /runtime/init/error`, with its body.
    InitError(String),
}

/// The links in front of each server, by name.
struct Links(Vec<(&'static str, CuttableLink)>);

impl Links {
    fn counts(&self) -> Vec<(u64, u64)> {
        self.0
            .iter()
            .map(|(_, link)| (link.connections(), link.round_trips()))
            .collect()
    }

    fn addr(&self, name: &str) -> SocketAddr {
        self.0
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, link)| link.addr())
            .unwrap_or_else(|| panic!("a link to {name}"))
    }
}

/// One function's starts.
struct Row {
    function: String,
    millis: Vec<f64>,
    /// Per link: connections and round trips of one start (the last).
    opened: Vec<(u64, u64)>,
}

/// Starts every function `starts` times (those named in `only`, when given) and prints the table.
pub async fn run(starts: usize, only: &[String], bin_dir: &Path, delay: Duration) -> bool {
    let cql = cqlserver::CqlServer::start().await;
    let admin = cql.settings(cql.admin());
    let keyspace = keyspaces::KeyspacesConfig::from_settings(&|name| admin.get(name).cloned())
        .ok()
        .flatten()
        .expect("the CQL server's settings");
    keyspaces::schema::open_creating(&keyspace)
        .await
        .expect("the keyspace and its tables");
    let brokers = tests::service_setting("KAFKA_BROKERS");
    let kafka = kafka::connect(brokers.split(',').map(str::to_owned).collect())
        .await
        .expect("the broker");
    kafka::topics::ensure(&kafka, TOPIC, 3, 1)
        .await
        .expect("the events topic");

    let mut links = Vec::new();
    for (name, upstream) in [
        ("CQL", cql.address()),
        ("Kafka", address(&brokers)),
        (
            "DynamoDB",
            address(&tests::service_setting("DYNAMODB_ENDPOINT")),
        ),
        ("SQS", address(&tests::service_setting("SQS_ENDPOINT"))),
    ] {
        let link = CuttableLink::start(upstream).await;
        link.delay_each_way(delay);
        links.push((name, link));
    }
    let links = Links(links);
    let (runtime_api, mut heard) = runtime_api().await;

    let template: Value = yaml_serde::from_str(
        &std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../infra/template.yaml"
        ))
        .expect("the template"),
    )
    .expect("the template is YAML");
    let globals = &template["Globals"]["Function"];
    let mut rows = Vec::new();
    let mut failed = false;
    for (function, properties) in functions(&template) {
        if !only.is_empty() && !only.contains(&function) {
            continue;
        }
        let binary = bin_dir.join(&function);
        assert!(
            binary.is_file(),
            "{} is missing: build the functions first (cargo build --release --locked -p {function} ...)",
            binary.display()
        );
        let settings = settings_of(&function, globals, properties, &cql, &links, runtime_api);
        let mut row = Row {
            function: function.clone(),
            millis: Vec::with_capacity(starts),
            opened: Vec::new(),
        };
        for _ in 0..starts {
            let before = links.counts();
            match start(&binary, &settings, &mut heard).await {
                Ok(took) => row.millis.push(took.as_secs_f64() * 1e3),
                Err(why) => {
                    eprintln!("{function} did not start: {why}");
                    failed = true;
                    break;
                }
            }
            row.opened = before
                .iter()
                .zip(links.counts())
                .map(|((c0, r0), (c1, r1))| (c1 - c0, r1 - r0))
                .collect();
        }
        rows.push(row);
    }
    print_table(&rows, &links, starts, delay);
    !failed
}

/// The first address of a `host:port` list or an `http://host:port` URL.
fn address(setting: &str) -> SocketAddr {
    let first = setting.split(',').next().unwrap_or_default();
    let host = first.strip_prefix("http://").unwrap_or(first);
    host.trim_end_matches('/')
        .parse()
        .unwrap_or_else(|_| panic!("{setting} is not host:port"))
}

/// Every function of the template, by package, with its properties.
fn functions(template: &Value) -> BTreeMap<String, &Value> {
    template["Resources"]
        .as_mapping()
        .expect("Resources")
        .values()
        .filter(|resource| resource["Type"] == "AWS::Serverless::Function")
        .filter_map(|resource| {
            let uri = resource["Properties"]["CodeUri"].as_str()?;
            let package = uri.strip_prefix("../functions/")?;
            Some((package.to_owned(), &resource["Properties"]))
        })
        .collect()
}

/// The process environment of `function` on this machine: the variables the template gives
/// it (the globals and its own), each pointed at the local server that stands in for its
/// target, and what Lambda itself sets.
fn settings_of(
    function: &str,
    globals: &Value,
    properties: &Value,
    cql: &cqlserver::CqlServer,
    links: &Links,
    runtime_api: SocketAddr,
) -> BTreeMap<String, String> {
    let cql_settings = cql.settings(cql.admin());
    let sqs = format!("http://{}", links.addr("SQS"));
    let keys = cql.sigv4_keys();
    let memory = properties["MemorySize"]
        .as_u64()
        .or_else(|| globals["MemorySize"].as_u64())
        .unwrap_or(128);
    let mut settings: BTreeMap<String, String> = [
        ("AWS_LAMBDA_RUNTIME_API", runtime_api.to_string()),
        ("AWS_LAMBDA_FUNCTION_NAME", function.to_owned()),
        ("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", memory.to_string()),
        ("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST".to_owned()),
        ("AWS_LAMBDA_LOG_GROUP_NAME", "/bench".to_owned()),
        ("AWS_LAMBDA_LOG_STREAM_NAME", "bench".to_owned()),
        ("AWS_REGION", cqlserver::REGION.to_owned()),
        ("AWS_DEFAULT_REGION", cqlserver::REGION.to_owned()),
        ("AWS_ACCESS_KEY_ID", keys.access_key_id.clone()),
        ("AWS_SECRET_ACCESS_KEY", keys.secret_access_key.clone()),
        (
            "DYNAMODB_ENDPOINT",
            format!("http://{}", links.addr("DynamoDB")),
        ),
        ("SQS_ENDPOINT", sqs.clone()),
    ]
    .into_iter()
    .map(|(name, value)| (name.to_owned(), value))
    .collect();
    let variables = globals["Environment"]["Variables"]
        .as_mapping()
        .into_iter()
        .chain(properties["Environment"]["Variables"].as_mapping())
        .flat_map(|variables| variables.iter());
    for (name, value) in variables {
        let name = name.as_str().expect("variable names are strings");
        let local = match name {
            "CASSANDRA_CONTACT_POINTS" => {
                for extra in ["CASSANDRA_TLS_SERVER_NAME", "CASSANDRA_TLS_CA_FILE"] {
                    settings.insert(extra.to_owned(), cql_settings[extra].clone());
                }
                Some(links.addr("CQL").to_string())
            }
            "CASSANDRA_LOCAL_DC" => Some(cqlserver::REGION.to_owned()),
            "KEYSPACE" => Some(keyspaces::KeyspacesConfig::DEFAULT_KEYSPACE.to_owned()),
            // The stand-in broker has neither TLS nor IAM: the brokers are named instead.
            "KAFKA_AUTH" | "MSK_ENDPOINT" => None,
            "MSK_CLUSTER_ARN" => {
                settings.insert("KAFKA_BROKERS".to_owned(), links.addr("Kafka").to_string());
                None
            }
            "EVENTS_TOPIC" => Some(TOPIC.to_owned()),
            "WEBSOCKET_MANAGEMENT_ENDPOINT" => Some("http://127.0.0.1:9/bench".to_owned()),
            "JWT_ISSUER" => Some("https://issuer.example".to_owned()),
            "JWT_AUDIENCE" => Some("bench".to_owned()),
            "JWT_JWKS_URL" => Some("http://127.0.0.1:9/jwks.json".to_owned()),
            "PAGE_URL" => Some("http://localhost/".to_owned()),
            "MAIL_FROM" => Some("shop@example.com".to_owned()),
            queue if queue.ends_with("_QUEUE_URL") => Some(format!(
                "{sqs}/123456789012/bench-{}",
                queue.to_lowercase().replace('_', "-")
            )),
            _ => Some(match value {
                Value::String(text) => text.clone(),
                Value::Number(number) => number.to_string(),
                Value::Bool(flag) => flag.to_string(),
                // A table's name, from a `!Ref`.
                _ => format!("bench-{}", name.to_lowercase().replace('_', "-")),
            }),
        };
        if let Some(local) = local {
            settings.insert(name.to_owned(), local);
        }
    }
    settings
}

/// Starts `binary` once and waits for its first poll; the process is stopped after it.
async fn start(
    binary: &Path,
    settings: &BTreeMap<String, String>,
    heard: &mut mpsc::UnboundedReceiver<Heard>,
) -> Result<Duration, String> {
    let started = Instant::now();
    let mut child = tokio::process::Command::new(binary)
        .env_clear()
        .envs(settings)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| format!("{}: {e}", binary.display()))?;
    let outcome = tokio::select! {
        heard = heard.recv() => match heard {
            Some(Heard::Ready) => Ok(started.elapsed()),
            Some(Heard::InitError(body)) => Err(format!("init error: {body}")),
            None => Err("the runtime API emulation stopped".to_owned()),
        },
        exited = child.wait() => Err(format!("exited before polling: {exited:?}")),
        () = tokio::time::sleep(START_LIMIT) => Err(format!("no poll within {START_LIMIT:?}")),
    };
    let _ = child.start_kill();
    let output = child.wait_with_output().await;
    outcome.map_err(|why| {
        let stderr = output
            .map(|o| String::from_utf8_lossy(&o.stderr).into_owned())
            .unwrap_or_default();
        format!("{why}\n{stderr}")
    })
}

/// A Lambda runtime API on a free port of loopback: it tells `Heard` of each first poll and
/// init error, and never hands out an invocation (the poll waits until the process stops).
async fn runtime_api() -> (SocketAddr, mpsc::UnboundedReceiver<Heard>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a port for the runtime API");
    let addr = listener.local_addr().expect("its address");
    let (tell, heard) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let tell = tell.clone();
            let service = hyper::service::service_fn(move |request: hyper::Request<Incoming>| {
                let tell = tell.clone();
                async move { answer(request, tell).await }
            });
            tokio::spawn(
                hyper::server::conn::http1::Builder::new()
                    .serve_connection(hyper_util::rt::TokioIo::new(stream), service),
            );
        }
    });
    (addr, heard)
}

async fn answer(
    request: hyper::Request<Incoming>,
    tell: mpsc::UnboundedSender<Heard>,
) -> Result<hyper::Response<Full<bytes::Bytes>>, std::convert::Infallible> {
    let path = request.uri().path().to_owned();
    if path.ends_with("/runtime/invocation/next") {
        let _ = tell.send(Heard::Ready);
        std::future::pending::<()>().await;
    }
    if path.ends_with("/runtime/init/error") {
        let body = request
            .into_body()
            .collect()
            .await
            .map(|b| String::from_utf8_lossy(&b.to_bytes()).into_owned())
            .unwrap_or_default();
        let _ = tell.send(Heard::InitError(body));
    }
    let mut response = hyper::Response::new(Full::new(bytes::Bytes::new()));
    *response.status_mut() = hyper::StatusCode::ACCEPTED;
    Ok(response)
}

fn print_table(rows: &[Row], links: &Links, starts: usize, delay: Duration) {
    let names: Vec<&str> = links.0.iter().map(|(name, _)| *name).collect();
    println!(
        "\nbench cold: process start to the first poll of the runtime API, {starts} starts each; production adapters through links of {} ms each way; connections / round trips of one start per link ({}); {} cores\n",
        delay.as_millis(),
        names.join(", "),
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    println!(
        "| function | min ms | median ms | max ms | connections / round trips at start | target |"
    );
    println!("|---|---:|---:|---:|---|---|");
    let mut missed = Vec::new();
    for row in rows {
        let mut millis = row.millis.clone();
        millis.sort_by(f64::total_cmp);
        let at = |q: f64| {
            millis
                .get(((millis.len().saturating_sub(1)) as f64 * q).round() as usize)
                .copied()
                .unwrap_or(f64::NAN)
        };
        let opens: u64 = row.opened.iter().map(|(connections, _)| connections).sum();
        let target = if opens == 0 {
            WITHOUT_CONNECTIONS_MS
        } else {
            WITH_CONNECTIONS_MS
        };
        let verdict = if millis.len() == starts && at(0.5) <= target {
            "met"
        } else {
            missed.push(row.function.as_str());
            "MISSED"
        };
        let opened: Vec<String> = names
            .iter()
            .zip(&row.opened)
            .filter(|(_, (connections, _))| *connections > 0)
            .map(|(name, (connections, trips))| format!("{name} {connections} / {trips}"))
            .collect();
        println!(
            "| {} | {:.1} | {:.1} | {:.1} | {} | ≤ {target:.0} ms ({verdict}) |",
            row.function,
            at(0.0),
            at(0.5),
            at(1.0),
            if opened.is_empty() {
                "none".to_owned()
            } else {
                opened.join(", ")
            }
        );
    }
    println!(
        "\ntargets (median): ≤ {WITHOUT_CONNECTIONS_MS:.0} ms with no connection to open, ≤ {WITH_CONNECTIONS_MS:.0} ms with connections; missed by {} of {}",
        missed.len(),
        rows.len()
    );
}

/// Where the binaries are by default: this workspace's release build.
pub fn default_bin_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/release")
}
