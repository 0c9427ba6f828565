//! The deployed functions on this machine, for `bench cold` and `bench ops`: each function's
//! binary from the release build (the AWS adapters only), run as its own process under the
//! runtime API emulation with the settings the template gives it, its AWS adapters pointed at
//! real servers through links that delay everything each way and count connections and round
//! trips: a CQL server as strict as Keyspaces (TLS, SigV4) in this process, a broker of the
//! bench's own (tansu, advertising the link, so every connection crosses it), and moto's
//! DynamoDB and SQS from `tests/services.sh`.
//!
//! What differs from AWS: Kafka is reached in plaintext without IAM (the stand-in has neither),
//! and the binaries are built for this machine's architecture, not arm64.

use crate::runtime_api::{Heard, RuntimeApi};
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use tests::CuttableLink;
use yaml_serde::Value;

/// Each way, on every link, unless told otherwise: a round trip of 2 ms, as between a Lambda
/// and a service in its region.
pub const LINK_DELAY: Duration = Duration::from_millis(1);
/// The topic the publishers are given (created first: a publisher looks it up at start).
const TOPIC: &str = "bench-cart-events";
/// How long a start may take before it counts as failed.
const START_LIMIT: Duration = Duration::from_secs(20);

/// The links in front of each server, by name.
pub struct Links(Vec<(&'static str, CuttableLink)>);

impl Links {
    /// Per link: connections and round trips carried so far.
    pub fn counts(&self) -> Vec<(u64, u64)> {
        self.0
            .iter()
            .map(|(_, link)| (link.connections(), link.round_trips()))
            .collect()
    }

    /// The link names, in the order of [`Links::counts`].
    pub fn names(&self) -> Vec<&'static str> {
        self.0.iter().map(|(name, _)| *name).collect()
    }

    fn addr(&self, name: &str) -> SocketAddr {
        self.0
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, link)| link.addr())
            .unwrap_or_else(|| panic!("a link to {name}"))
    }

    /// Every link delays by `delay` each way from now on.
    pub fn delay_each_way(&self, delay: Duration) {
        for (_, link) in &self.0 {
            link.delay_each_way(delay);
        }
    }
}

/// The servers, their links and the template.
pub struct Deployed {
    pub cql: cqlserver::CqlServer,
    pub links: Links,
    template: Value,
    _broker: tokio::process::Child,
}

impl Deployed {
    /// Starts the servers and links (delaying `delay` each way), with the keyspace, its tables
    /// and the events topic made.
    pub async fn start(delay: Duration) -> Self {
        let cql = cqlserver::CqlServer::start().await;
        keyspaces::schema::open_creating(&Self::keyspace_of(&cql))
            .await
            .expect("the keyspace and its tables");
        let (kafka_link, broker) = tests::broker::tansu_behind_link().await;
        let mut links = vec![
            ("CQL", CuttableLink::start(cql.address()).await),
            ("Kafka", kafka_link),
        ];
        for (name, setting) in [("DynamoDB", "DYNAMODB_ENDPOINT"), ("SQS", "SQS_ENDPOINT")] {
            let upstream = address(&tests::service_setting(setting));
            links.push((name, CuttableLink::start(upstream).await));
        }
        let links = Links(links);
        // Through the link: the broker's answers name the address it advertises, the link's.
        let kafka = kafka::connect(vec![links.addr("Kafka").to_string()])
            .await
            .expect("the broker");
        kafka::topics::ensure(&kafka, TOPIC, 3, 1)
            .await
            .expect("the events topic");
        links.delay_each_way(delay);
        let template = yaml_serde::from_str(
            &std::fs::read_to_string(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/../infra/template.yaml"
            ))
            .expect("the template"),
        )
        .expect("the template is YAML");
        Self {
            cql,
            links,
            template,
            _broker: broker,
        }
    }

    /// The keyspace as its administrator reaches it (directly, not through the link).
    pub fn keyspace(&self) -> keyspaces::KeyspacesConfig {
        Self::keyspace_of(&self.cql)
    }

    fn keyspace_of(cql: &cqlserver::CqlServer) -> keyspaces::KeyspacesConfig {
        let admin = cql.settings(cql.admin());
        keyspaces::KeyspacesConfig::from_settings(&|name| admin.get(name).cloned())
            .ok()
            .flatten()
            .expect("the CQL server's settings")
    }

    /// The default of the template parameter `value` refers to (`!Ref Parameter`), if it does.
    fn parameter_default(&self, value: &Value) -> Option<String> {
        let Value::Tagged(tagged) = value else {
            return None;
        };
        let parameter = tagged.value.as_str()?;
        scalar(&self.template["Parameters"][parameter]["Default"])
    }

    /// The name of the table the variable `variable` names (a `!Ref` in the template).
    pub fn table(variable: &str) -> String {
        format!("bench-{}", variable.to_lowercase().replace('_', "-"))
    }

    /// Every function of the template, by package, with its properties.
    pub fn functions(&self) -> BTreeMap<String, &Value> {
        self.template["Resources"]
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
    pub fn settings_of(&self, function: &str, runtime_api: SocketAddr) -> BTreeMap<String, String> {
        let (cql, links) = (&self.cql, &self.links);
        let globals = &self.template["Globals"]["Function"];
        let properties = self.functions()[function];
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
                _ => Some(
                    scalar(value)
                        .or_else(|| self.parameter_default(value))
                        // A table's name, from a `!Ref` to the table.
                        .unwrap_or_else(|| Self::table(name)),
                ),
            };
            if let Some(local) = local {
                settings.insert(name.to_owned(), local);
            }
        }
        settings
    }
}

/// A scalar's text; `None` for anything else.
fn scalar(value: &Value) -> Option<String> {
    match value {
        Value::String(text) => Some(text.clone()),
        Value::Number(number) => Some(number.to_string()),
        Value::Bool(flag) => Some(flag.to_string()),
        _ => None,
    }
}

/// The first address of a `host:port` list or an `http://host:port` URL.
fn address(setting: &str) -> SocketAddr {
    let first = setting.split(',').next().unwrap_or_default();
    let host = first.strip_prefix("http://").unwrap_or(first);
    host.trim_end_matches('/')
        .parse()
        .unwrap_or_else(|_| panic!("{setting} is not host:port"))
}

/// A function process, polling its own runtime API.
pub struct Running {
    pub api: RuntimeApi,
    child: tokio::process::Child,
    log: PathBuf,
}

impl Running {
    /// Starts `function`'s binary from `bin_dir` and waits for its first poll: returns it with
    /// how long that took (Lambda's init phase). Its log goes to `target/bench/<function>.log`.
    pub async fn start(
        deployed: &Deployed,
        function: &str,
        bin_dir: &Path,
    ) -> Result<(Self, Duration), String> {
        let binary = bin_dir.join(function);
        if !binary.is_file() {
            return Err(format!(
                "{} is missing: build the functions first (cargo build --release --locked -p {function} ...)",
                binary.display()
            ));
        }
        let mut api = RuntimeApi::start().await;
        let settings = deployed.settings_of(function, api.addr);
        let logs = Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/bench");
        std::fs::create_dir_all(&logs).map_err(|e| e.to_string())?;
        let log = logs.join(format!("{function}.log"));
        let stderr = std::fs::File::create(&log).map_err(|e| e.to_string())?;
        let started = Instant::now();
        let mut child = tokio::process::Command::new(&binary)
            .env_clear()
            .envs(&settings)
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(stderr)
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| format!("{}: {e}", binary.display()))?;
        let outcome = tokio::select! {
            heard = api.heard.recv() => match heard {
                Some(Heard::Polled) => Ok(started.elapsed()),
                Some(Heard::InitError(body)) => Err(format!("init error: {body}")),
                Some(Heard::Answered { .. }) => Err("an answer before any invocation".to_owned()),
                None => Err("the runtime API emulation stopped".to_owned()),
            },
            exited = child.wait() => Err(format!("exited before polling: {exited:?}")),
            () = tokio::time::sleep(START_LIMIT) => Err(format!("no poll within {START_LIMIT:?}")),
        };
        let running = Self { api, child, log };
        match outcome {
            Ok(took) => Ok((running, took)),
            Err(why) => Err(running.failed(&why).await),
        }
    }

    /// Stops the process.
    pub async fn stop(mut self) {
        let _ = self.child.start_kill();
        let _ = self.child.wait().await;
    }

    /// `why`, with the end of the function's log; the process is stopped.
    pub async fn failed(self, why: &str) -> String {
        let log = self.log.clone();
        self.stop().await;
        let text = std::fs::read_to_string(&log).unwrap_or_default();
        let tail: Vec<&str> = text.lines().rev().take(20).collect();
        let tail: Vec<&str> = tail.into_iter().rev().collect();
        format!("{why}\n{}", tail.join("\n"))
    }
}

/// Where the binaries are by default: this workspace's release build.
pub fn default_bin_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/release")
}
