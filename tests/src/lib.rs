//! The harness for integration tests and the bench: a local stack on an ephemeral port over a
//! fresh data directory (`spawn_stack`), and a small HTTP/1.1 client that keeps its connection.

pub mod broker;
mod link;

pub use link::CuttableLink;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::SendRequest;
use hyper_util::rt::TokioIo;
use local::{Backends, Config, LocalStack};
use serde_json::{Value, json};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, Ordering};

/// A running local stack that cleans up its data directory when dropped.
pub struct TestStack {
    stack: Option<LocalStack>,
    addr: SocketAddr,
    data_dir: PathBuf,
    config: Config,
}

/// Starts a local stack on 127.0.0.1 with an ephemeral port and a new, empty data directory.
pub async fn spawn_stack() -> TestStack {
    spawn_stack_on(Backends::embedded()).await
}

/// A setting `tests/services.sh` exports (a server's address, a tool's path). Panics (never
/// skips) when it is missing: the tests were not run through the script.
pub fn service_setting(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| {
        panic!("{name} is not set: run the tests through tests/services.sh (tests/run.sh does)")
    })
}

/// The real servers `tests/services.sh` started, with a topic, tables and an outbox queue no
/// other test uses. Panics (never skips) when the services are not running.
pub fn real_servers() -> Backends {
    let required = service_setting;
    let fresh = uuid::Uuid::new_v4();
    let (dynamodb, sqs) = (required("DYNAMODB_ENDPOINT"), required("SQS_ENDPOINT"));
    Backends {
        kafka_brokers: Some(
            required("KAFKA_BROKERS")
                .split(',')
                .map(str::to_owned)
                .collect(),
        ),
        events_topic: format!("cart-events-{fresh}"),
        outbox_queue_url: Some(format!("{sqs}/123456789012/outbox-{fresh}")),
        orders_queue_url: Some(format!("{sqs}/123456789012/orders-{fresh}")),
        sqs_endpoint: Some(sqs),
        connections_table: Some(format!("connections-{fresh}")),
        cart_tables: Some((format!("carts-{fresh}"), format!("memberships-{fresh}"))),
        idempotency_table: Some(format!("idempotency-{fresh}")),
        dynamodb_endpoint: Some(dynamodb),
        redis_url: Some(required("REDIS_URL")),
        keyspaces: None,
        breakers: Backends::embedded().breakers,
    }
}

/// Carts and the catalog on a CQL server of this test's own (in process, as strict as
/// Keyspaces: TLS, a sign-in, conditions evaluated), everything else embedded.
pub async fn keyspaces_server() -> Backends {
    let server = cqlserver::CqlServer::start().await;
    Backends {
        keyspaces: Some(keyspace_of(&server, server.address())),
        ..Backends::embedded()
    }
}

/// A CQL server of this test's own, and a link in front of it: the keyspace config names the
/// link (the certificate still names the endpoint, so TLS passes through the link).
pub async fn keyspace_behind_a_link() -> (keyspaces::KeyspacesConfig, CuttableLink) {
    let server = cqlserver::CqlServer::start().await;
    let link = CuttableLink::start(server.address()).await;
    (keyspace_of(&server, link.addr()), link)
}

/// The keyspace config of `server`'s test login, dialling `address`.
fn keyspace_of(server: &cqlserver::CqlServer, address: SocketAddr) -> keyspaces::KeyspacesConfig {
    let mut settings = server.settings(server.admin());
    settings.insert("CASSANDRA_CONTACT_POINTS", address.to_string());
    keyspaces::KeyspacesConfig::from_settings(&|name| settings.get(name).cloned())
        .ok()
        .flatten()
        .unwrap_or_else(|| panic!("a keyspaces config for {address}"))
}

/// Every order request waiting on `backends`' orders queue (read from the SQS server itself).
pub async fn orders_handed_over(backends: &Backends) -> Vec<Value> {
    let endpoint = backends.sqs_endpoint.clone().unwrap_or_default();
    let sqs = aws_sdk_sqs::Client::from_conf(
        aws_sdk_sqs::Config::builder()
            .behavior_version(aws_sdk_sqs::config::BehaviorVersion::latest())
            .endpoint_url(endpoint)
            .region(aws_sdk_sqs::config::Region::new("us-east-1"))
            .http_client(tls::aws_http_client())
            .credentials_provider(aws_sdk_sqs::config::Credentials::new(
                "test", "test", None, None, "tests",
            ))
            .build(),
    );
    let name = backends
        .orders_queue_url
        .as_deref()
        .and_then(|url| url.rsplit('/').next())
        .unwrap_or_default();
    let url = sqs
        .get_queue_url()
        .queue_name(name)
        .send()
        .await
        .unwrap_or_else(|e| panic!("the orders queue: {e}"))
        .queue_url
        .unwrap_or_default();
    let messages = sqs
        .receive_message()
        .queue_url(url)
        .max_number_of_messages(10)
        .wait_time_seconds(2)
        .send()
        .await
        .unwrap_or_else(|e| panic!("receive: {e}"))
        .messages
        .unwrap_or_default();
    messages
        .iter()
        .map(|m| serde_json::from_str(m.body().unwrap_or_default()).unwrap_or(Value::Null))
        .collect()
}

/// Starts a local stack as `spawn_stack` does, its ports on `backends`.
pub async fn spawn_stack_on(backends: Backends) -> TestStack {
    spawn_stack_with(|config| config.backends = backends).await
}

/// Starts a local stack as `spawn_stack` does, with its config edited by `edit` first.
pub async fn spawn_stack_with(edit: impl FnOnce(&mut Config)) -> TestStack {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let data_dir = std::env::temp_dir().join(format!(
        "shared-carts-test-{}-{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos())
    ));
    let mut config = Config::ephemeral(data_dir.clone());
    edit(&mut config);
    let stack = LocalStack::start(config.clone())
        .await
        .unwrap_or_else(|e| panic!("local stack: {e}"));
    TestStack {
        addr: stack.addr(),
        stack: Some(stack),
        data_dir,
        config,
    }
}

impl TestStack {
    /// Where the stack listens.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Every cart event the functions publish from now on, as the in-process bus carries them.
    pub fn events(&self) -> tokio::sync::broadcast::Receiver<std::sync::Arc<domain::CartEvent>> {
        self.stack
            .as_ref()
            .map(|s| s.bus().subscribe())
            .unwrap_or_else(|| panic!("the stack is stopped"))
    }

    /// The switch that, while set, ends every cart operation right after its save, before its
    /// publish, as a function that dies there would.
    pub fn crash_after_save(&self) -> std::sync::Arc<std::sync::atomic::AtomicBool> {
        self.stack
            .as_ref()
            .map(|s| s.cart_service().crash_switch())
            .unwrap_or_else(|| panic!("the stack is stopped"))
    }

    /// The connection registry, to find a user's connection ids as `sync-push` does.
    pub fn registry(&self) -> std::sync::Arc<dyn domain::ConnectionRegistry> {
        self.stack
            .as_ref()
            .map(|s| s.registry())
            .unwrap_or_else(|| panic!("the stack is stopped"))
    }

    /// A WebSocket as `user`, like a browser tab.
    pub async fn socket(&self, user: &str) -> Socket {
        let token = self.token(user, &[]).await;
        Socket::connect(self.addr, &token)
            .await
            .unwrap_or_else(|e| panic!("WebSocket for {user}: {e}"))
    }

    /// A new client with its own connection.
    pub async fn client(&self) -> Client {
        Client::connect(self.addr).await
    }

    /// A token for `user` from `/dev/token`, with `scopes`.
    pub async fn token(&self, user: &str, scopes: &[&str]) -> String {
        let reply = self
            .client()
            .await
            .send(
                "POST",
                "/dev/token",
                None,
                Some(json!({"userId": user, "scopes": scopes})),
            )
            .await;
        assert_eq!(reply.status, 200, "token for {user}: {}", reply.body);
        reply.body["token"].as_str().unwrap_or_default().to_owned()
    }

    /// A token issued with `claims` (`userId` and any of `name`, `email`, `userName`), and the
    /// answer of the sign-in it is then used for (`GET /me`, which keeps the profile).
    pub async fn signed_in(&self, claims: serde_json::Value) -> (String, Reply) {
        let issued = self
            .client()
            .await
            .send("POST", "/dev/token", None, Some(claims))
            .await;
        assert_eq!(issued.status, 200, "a token: {}", issued.body);
        let token = issued.body["token"].as_str().unwrap_or_default().to_owned();
        let me = self
            .client()
            .await
            .send("GET", "/me", Some(&token), None)
            .await;
        assert_eq!(me.status, 200, "{}", me.body);
        (token, me)
    }

    /// A client acting as `user`.
    pub async fn user(&self, user: &str) -> User {
        User {
            token: self.token(user, &[]).await,
            client: self.client().await,
        }
    }

    /// Alice, her new cart shared with bob as a viewer, and bob listening: the start of every
    /// test about what a second member hears.
    pub async fn alice_shares_a_cart_with_bob_listening(&self) -> (User, String, Socket) {
        let mut alice = self.user("alice").await;
        let cart = alice.create_cart().await;
        assert_eq!(alice.share(&cart, &["bob"], "viewer").await.status, 200);
        let bob = self.socket("bob").await;
        (alice, cart, bob)
    }

    /// Stops the stack and starts it again on the same data directory (and a new port).
    pub async fn restart(&mut self) {
        if let Some(stack) = self.stack.take() {
            stack.shutdown().await;
        }
        let stack = LocalStack::start(self.config.clone())
            .await
            .unwrap_or_else(|e| panic!("restart: {e}"));
        self.addr = stack.addr();
        self.stack = Some(stack);
    }

    /// Stops the stack, waiting for in-flight requests.
    pub async fn shutdown(mut self) {
        if let Some(stack) = self.stack.take() {
            stack.shutdown().await;
        }
    }
}

impl Drop for TestStack {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.data_dir);
    }
}

/// A response, its body parsed as JSON (`Null` when empty).
#[derive(Debug)]
pub struct Reply {
    /// The status code.
    pub status: u16,
    /// The headers.
    pub headers: http::HeaderMap,
    /// The body as JSON.
    pub body: Value,
}

impl Reply {
    /// The `code` of a problem body.
    pub fn code(&self) -> &str {
        self.body["code"].as_str().unwrap_or_default()
    }
}

/// An HTTP/1.1 client on one kept-alive connection.
pub struct Client {
    sender: SendRequest<Full<Bytes>>,
}

impl Client {
    /// Connects to `addr`.
    pub async fn connect(addr: SocketAddr) -> Client {
        let stream = tokio::net::TcpStream::connect(addr)
            .await
            .unwrap_or_else(|e| panic!("connect {addr}: {e}"));
        let _ = stream.set_nodelay(true);
        let (sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
            .await
            .unwrap_or_else(|e| panic!("handshake: {e}"));
        tokio::spawn(connection);
        Client { sender }
    }

    /// Sends a request with an optional bearer token and JSON body; extra headers after.
    pub async fn send_with(
        &mut self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
        headers: &[(&str, &str)],
    ) -> Reply {
        let body = body.map(|b| Bytes::from(b.to_string())).unwrap_or_default();
        let (status, headers, bytes) = self.send_raw(method, path, token, body, headers).await;
        let body = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes)
                .unwrap_or(Value::String(String::from_utf8_lossy(&bytes).into()))
        };
        Reply {
            status,
            headers,
            body,
        }
    }

    /// Sends a request with an optional bearer token and JSON body.
    pub async fn send(
        &mut self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> Reply {
        self.send_with(method, path, token, body, &[]).await
    }

    /// Sends pre-encoded bytes and returns the raw answer: what the bench drives.
    pub async fn send_raw(
        &mut self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Bytes,
        headers: &[(&str, &str)],
    ) -> (u16, http::HeaderMap, Bytes) {
        let mut request = http::Request::builder().method(method).uri(path);
        if !headers
            .iter()
            .any(|(name, _)| name.eq_ignore_ascii_case("host"))
        {
            request = request.header(http::header::HOST, "127.0.0.1");
        }
        if let Some(token) = token {
            request = request.header(http::header::AUTHORIZATION, format!("Bearer {token}"));
        }
        if !body.is_empty() {
            request = request.header(http::header::CONTENT_TYPE, "application/json");
        }
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let request = request
            .body(Full::new(body))
            .unwrap_or_else(|e| panic!("request: {e}"));
        self.sender
            .ready()
            .await
            .unwrap_or_else(|e| panic!("connection: {e}"));
        let response = self
            .sender
            .send_request(request)
            .await
            .unwrap_or_else(|e| panic!("{method} {path}: {e}"));
        let (parts, body) = response.into_parts();
        let bytes = body
            .collect()
            .await
            .map(|b| b.to_bytes())
            .unwrap_or_default();
        (parts.status.as_u16(), parts.headers, bytes)
    }
}

/// A client with a user's token.
pub struct User {
    /// The bearer token.
    pub token: String,
    /// The connection.
    pub client: Client,
}

impl User {
    /// A request as this user.
    pub async fn send(&mut self, method: &str, path: &str, body: Option<Value>) -> Reply {
        self.client
            .send(method, path, Some(&self.token), body)
            .await
    }

    /// A request as this user, with extra headers.
    pub async fn send_with(
        &mut self,
        method: &str,
        path: &str,
        body: Option<Value>,
        headers: &[(&str, &str)],
    ) -> Reply {
        self.client
            .send_with(method, path, Some(&self.token), body, headers)
            .await
    }

    /// Shares `cart` with `users` in `role` (`editor` or `viewer`).
    pub async fn share(&mut self, cart: &str, users: &[&str], role: &str) -> Reply {
        self.send(
            "POST",
            &format!("/carts/{cart}/members"),
            Some(json!({"userIds": users, "role": role})),
        )
        .await
    }

    /// Adds `quantity` of `item` to `cart` (addItemToCart), whatever the answer.
    pub async fn add(&mut self, cart: &str, item: &str, quantity: u32) -> Reply {
        self.send(
            "POST",
            &format!("/carts/{cart}/items"),
            Some(json!({"itemId": item, "quantity": quantity})),
        )
        .await
    }

    /// Creates an empty cart and returns its id.
    pub async fn create_cart(&mut self) -> String {
        let reply = self.send("POST", "/carts", None).await;
        assert_eq!(reply.status, 201, "{}", reply.body);
        reply.body["cartId"].as_str().unwrap_or_default().to_owned()
    }
}

/// A WebSocket client on the local stack's `/ws`. Presence messages come whenever someone
/// opens or leaves a cart the socket views, between any two others: the readers of other
/// messages set them aside for [`Socket::next_presence`].
pub struct Socket {
    stream: tokio_tungstenite::WebSocketStream<tokio::net::TcpStream>,
    presence: std::collections::VecDeque<Value>,
    others: std::collections::VecDeque<String>,
}

impl Socket {
    /// Opens `/ws?token=...`; the error is the handshake's (a 401 for a bad token).
    pub async fn connect(
        addr: SocketAddr,
        token: &str,
    ) -> Result<Socket, tokio_tungstenite::tungstenite::Error> {
        let stream = tokio::net::TcpStream::connect(addr)
            .await
            .map_err(tokio_tungstenite::tungstenite::Error::Io)?;
        let _ = stream.set_nodelay(true);
        // A small first read buffer: tungstenite zeroes all of it on every read, and the bench
        // opens a thousand of these beside the server's own.
        let config = tokio_tungstenite::tungstenite::protocol::WebSocketConfig::default()
            .read_buffer_size(8 * 1024);
        let (stream, _) = tokio_tungstenite::client_async_with_config(
            format!("ws://{addr}/ws?token={token}"),
            stream,
            Some(config),
        )
        .await?;
        Ok(Socket {
            stream,
            presence: Default::default(),
            others: Default::default(),
        })
    }

    /// Sends a text frame.
    pub async fn send(&mut self, text: &str) {
        use futures_util::SinkExt;
        self.stream
            .send(tokio_tungstenite::tungstenite::Message::text(text))
            .await
            .unwrap_or_else(|e| panic!("send: {e}"));
    }

    /// Sends one frame as it is (a binary one, one over a limit); false when the socket would
    /// not take it (the server already closed it).
    pub async fn send_frame(&mut self, frame: tokio_tungstenite::tungstenite::Message) -> bool {
        use futures_util::SinkExt;
        self.stream.send(frame).await.is_ok()
    }

    /// How the server closed the socket: the close frame's code and reason, skipping what
    /// comes before it; `None` when the connection ended without one or stayed open for `wait`.
    pub async fn close_frame(&mut self, wait: std::time::Duration) -> Option<(u16, String)> {
        use futures_util::StreamExt;
        use tokio_tungstenite::tungstenite::Message;
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            match tokio::time::timeout_at(deadline, self.stream.next()).await {
                Ok(Some(Ok(Message::Close(Some(frame))))) => {
                    return Some((u16::from(frame.code), frame.reason.as_str().to_owned()));
                }
                Ok(Some(Ok(Message::Close(None)))) | Ok(None) | Ok(Some(Err(_))) | Err(_) => {
                    return None;
                }
                Ok(Some(Ok(_))) => continue,
            }
        }
    }

    /// The next text message as JSON; `None` when the socket closed or nothing came within
    /// `wait`.
    pub async fn next_json(&mut self, wait: std::time::Duration) -> Option<Value> {
        let text = self.next_text(wait).await?;
        serde_json::from_str(&text).ok()
    }

    /// The next text message as it came, for readers that pick out a field or two (the bench,
    /// where parsing whole snapshots at a thousand sockets would cost more than the server).
    pub async fn next_text(&mut self, wait: std::time::Duration) -> Option<String> {
        if let Some(text) = self.others.pop_front() {
            return Some(text);
        }
        loop {
            let text = self.next_frame(wait).await?;
            if text.starts_with(r#"{"type":"presence""#) {
                self.presence.extend(serde_json::from_str(&text).ok());
                continue;
            }
            return Some(text);
        }
    }

    /// The next presence message; what comes before it waits for the other readers.
    pub async fn next_presence(&mut self, wait: std::time::Duration) -> Option<Value> {
        loop {
            if let Some(presence) = self.presence.pop_front() {
                return Some(presence);
            }
            let text = self.next_frame(wait).await?;
            match serde_json::from_str::<Value>(&text) {
                Ok(message) if message["type"] == "presence" => return Some(message),
                _ => self.others.push_back(text),
            }
        }
    }

    /// The next text frame as it came, presence included (the soak's reader, which keeps them).
    pub async fn next_frame(&mut self, wait: std::time::Duration) -> Option<String> {
        match self.receive(wait).await {
            Received::Text(text) => Some(text),
            Received::Quiet | Received::Closed => None,
        }
    }

    /// The next text frame, or whether the socket stayed quiet for `wait` or closed: a reader
    /// that connects again after a cut (the soak's) must tell the two apart.
    pub async fn receive(&mut self, wait: std::time::Duration) -> Received {
        use futures_util::StreamExt;
        use tokio_tungstenite::tungstenite::Message;
        loop {
            match tokio::time::timeout(wait, self.stream.next()).await {
                Ok(Some(Ok(Message::Text(text)))) => {
                    return Received::Text(text.as_str().to_owned());
                }
                Ok(Some(Ok(Message::Close(_)))) | Ok(None) | Ok(Some(Err(_))) => {
                    return Received::Closed;
                }
                Err(_) => return Received::Quiet,
                Ok(Some(Ok(_))) => continue,
            }
        }
    }

    /// Sends `message` and returns the answer.
    pub async fn ask(&mut self, message: Value) -> Value {
        self.send(&message.to_string()).await;
        self.next_json(std::time::Duration::from_secs(5))
            .await
            .unwrap_or(Value::Null)
    }
}

/// A connection id as one segment of an `@connections` path: its `=`, `/` and `+` escaped, as
/// the SDK sends them.
pub fn encode_path_segment(id: &str) -> String {
    id.replace('=', "%3D")
        .replace('/', "%2F")
        .replace('+', "%2B")
}

/// What a socket's reader got: a text frame, nothing for a while, or the end of the socket.
#[derive(Debug)]
pub enum Received {
    /// A text frame.
    Text(String),
    /// Nothing within the wait; the socket is still open.
    Quiet,
    /// The socket closed (a close frame, or the connection ended).
    Closed,
}

/// Waits up to a second for `condition` to hold, checking every 10 ms: for effects that happen
/// after a response (a `$disconnect`, a 410 cleanup). Returns whether it held.
pub async fn eventually<F, Fut>(condition: F) -> bool
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    within(std::time::Duration::from_secs(1), condition).await
}

/// Waits up to `limit` for `condition` to hold, checking every 10 ms: for effects that cross a
/// real server (a Kafka round trip to a consumer), which a loaded machine can slow to seconds.
pub async fn within<F, Fut>(limit: std::time::Duration, mut condition: F) -> bool
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + limit;
    while tokio::time::Instant::now() < deadline {
        if condition().await {
            return true;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    condition().await
}
