//! The smoke test: the README's walk-through, over HTTPS or HTTP, against a deployed stack or the
//! local one, plus one WebSocket member hearing another's add. `infra/smoke.sh` finds the URLs
//! and makes the three users; this binary is what it runs:
//!
//! ```sh
//! ALICE_ID=.. ALICE_TOKEN=.. BOB_ID=.. BOB_TOKEN=.. CAROL_ID=.. CAROL_TOKEN=.. \
//!   smoke --api https://abc.execute-api.eu-west-1.amazonaws.com/prod \
//!         --ws wss://def.execute-api.eu-west-1.amazonaws.com/prod
//! ```
//!
//! It prints one line per check and exits 1 at the first that fails, saying what it expected.
//! Only versions, statuses and codes are checked: prices come from whatever catalog the stack has.

use bytes::Bytes;
use futures_util::StreamExt;
use http_body_util::{BodyExt, Full};
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use serde_json::{Value, json};
use std::process::ExitCode;
use std::time::{Duration, Instant};
use tokio_tungstenite::tungstenite::Message;

/// How long a push may take to arrive: on AWS it crosses Kafka and the MSK trigger.
const PUSH_DEADLINE: Duration = Duration::from_secs(30);

/// How long one HTTP request may take.
const REQUEST_DEADLINE: Duration = Duration::from_secs(30);

type Failure = String;

/// One of the three people of the walk-through.
#[derive(Clone)]
struct Person {
    name: &'static str,
    id: String,
    token: String,
}

impl Person {
    fn from_env(name: &'static str) -> Result<Self, Failure> {
        let var = |suffix: &str| {
            let key = format!("{}_{suffix}", name.to_uppercase());
            std::env::var(&key).map_err(|_| format!("{key} is not set"))
        };
        Ok(Self {
            name,
            id: var("ID")?,
            token: var("TOKEN")?,
        })
    }
}

/// The REST API at one base URL.
struct Api {
    base: String,
    client: Client<HttpsConnector<HttpConnector>, Full<Bytes>>,
}

/// An answer: status and JSON body (`Null` when empty or not JSON).
struct Answer {
    status: u16,
    body: Value,
}

impl Api {
    fn new(base: &str) -> Result<Self, Failure> {
        let connector = tls::https_connector().map_err(|e| format!("TLS settings: {e}"))?;
        Ok(Self {
            base: base.trim_end_matches('/').to_owned(),
            client: Client::builder(TokioExecutor::new()).build(connector),
        })
    }

    async fn call(
        &self,
        as_who: &Person,
        method: &str,
        path: &str,
        body: Option<Value>,
        headers: &[(&str, &str)],
    ) -> Result<Answer, Failure> {
        let url = format!("{}{path}", self.base);
        let mut request = http::Request::builder()
            .method(method)
            .uri(&url)
            .header("authorization", format!("Bearer {}", as_who.token))
            .header("content-type", "application/json");
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let body = body.map(|b| b.to_string()).unwrap_or_default();
        let request = request
            .body(Full::new(Bytes::from(body)))
            .map_err(|e| format!("{method} {url}: {e}"))?;
        let response = tokio::time::timeout(REQUEST_DEADLINE, self.client.request(request))
            .await
            .map_err(|_| format!("{method} {url}: no answer in {REQUEST_DEADLINE:?}"))?
            .map_err(|e| format!("{method} {url}: {e}"))?;
        let status = response.status().as_u16();
        let bytes = response
            .into_body()
            .collect()
            .await
            .map_err(|e| format!("{method} {url}: {e}"))?
            .to_bytes();
        Ok(Answer {
            status,
            body: serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        })
    }
}

/// A WebSocket as one person, over TLS when the URL is `wss://`.
struct Listener {
    messages: futures_util::stream::BoxStream<'static, Result<Message, String>>,
}

impl Listener {
    async fn connect(base: &str, person: &Person) -> Result<Self, Failure> {
        let url = format!("{base}?token={}", person.token);
        let uri: http::Uri = url.parse().map_err(|e| format!("{base}: {e}"))?;
        let host = uri.host().ok_or(format!("{base} has no host"))?.to_owned();
        let secure = uri.scheme_str() == Some("wss");
        let port = uri.port_u16().unwrap_or(if secure { 443 } else { 80 });
        let tcp = tokio::net::TcpStream::connect((host.as_str(), port))
            .await
            .map_err(|e| format!("{base}: {e}"))?;
        let messages = if secure {
            let tls = tls::system_roots().map_err(|e| format!("TLS settings: {e}"))?;
            let name = rustls::pki_types::ServerName::try_from(host.clone())
                .map_err(|e| format!("{host}: {e}"))?;
            let stream = tokio_rustls::TlsConnector::from(tls)
                .connect(name, tcp)
                .await
                .map_err(|e| format!("TLS to {host}: {e}"))?;
            Self::handshake(url, stream).await?
        } else {
            Self::handshake(url, tcp).await?
        };
        Ok(Self { messages })
    }

    /// The WebSocket handshake for `url` over `stream`, and the messages that follow it.
    async fn handshake<S>(
        url: String,
        stream: S,
    ) -> Result<futures_util::stream::BoxStream<'static, Result<Message, String>>, Failure>
    where
        S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
    {
        let (socket, _) = tokio_tungstenite::client_async(url.as_str(), stream)
            .await
            // Not the URL: it carries the token.
            .map_err(|e| format!("the WebSocket handshake: {e}"))?;
        Ok(socket.map(|m| m.map_err(|e| e.to_string())).boxed())
    }

    /// Waits for the change of `cart` at `version`, skipping anything else.
    async fn hear(&mut self, cart: &str, version: u64) -> Result<Value, Failure> {
        let deadline = Instant::now() + PUSH_DEADLINE;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let next = tokio::time::timeout(left, self.messages.next())
                .await
                .map_err(|_| format!("no push of version {version} in {PUSH_DEADLINE:?}"))?;
            let Some(message) = next else {
                return Err("the WebSocket closed".into());
            };
            if let Message::Text(text) = message? {
                let message: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
                if message["cartId"] == cart && message["version"] == version {
                    return Ok(message);
                }
            }
        }
    }
}

/// Fails with what was expected unless `holds`.
fn check(holds: bool, expected: &str, answer: &Answer) -> Result<(), Failure> {
    if holds {
        Ok(())
    } else {
        Err(format!(
            "expected {expected}, got {} {}",
            answer.status, answer.body
        ))
    }
}

async fn walk_through(api: &Api, ws: &str, checks: &mut u32) -> Result<(), Failure> {
    let (alice, bob, carol) = (
        Person::from_env("alice")?,
        Person::from_env("bob")?,
        Person::from_env("carol")?,
    );
    let mut ok = |what: String| {
        *checks += 1;
        println!("ok  {what}");
    };

    let created = api
        .call(
            &alice,
            "POST",
            "/carts",
            Some(json!({"items": [{"itemId": "apple", "quantity": 2}]})),
            &[],
        )
        .await?;
    check(created.status == 201, "201 and a cart", &created)?;
    let cart = created.body["cartId"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    ok(format!("{} creates a cart with two apples", alice.name));

    let shared = api
        .call(
            &alice,
            "POST",
            &format!("/carts/{cart}/members"),
            Some(json!({"userIds": [bob.id], "role": "editor"})),
            &[],
        )
        .await?;
    check(
        shared.status == 200 && shared.body["version"] == 2,
        "200 at version 2",
        &shared,
    )?;
    ok(format!(
        "{} shares it with {} as an editor",
        alice.name, bob.name
    ));

    let mine = api.call(&bob, "GET", "/me/carts", None, &[]).await?;
    let listed = mine.body["carts"].as_array().is_some_and(|carts| {
        carts
            .iter()
            .any(|c| c["cartId"] == cart.as_str() && c["role"] == "editor")
    });
    check(
        mine.status == 200 && listed,
        "the cart among his, as an editor",
        &mine,
    )?;
    ok(format!("{} finds it among his carts", bob.name));

    let mut listening = Listener::connect(ws, &alice).await?;
    ok(format!("{} listens on the WebSocket", alice.name));

    let sent = Instant::now();
    let added = api
        .call(
            &bob,
            "POST",
            &format!("/carts/{cart}/items"),
            Some(json!({"itemId": "coffee", "quantity": 1})),
            &[],
        )
        .await?;
    check(
        added.status == 200 && added.body["version"] == 3,
        "200 at version 3",
        &added,
    )?;
    ok(format!("{} adds coffee (version 3)", bob.name));

    let heard = listening.hear(&cart, 3).await?;
    if heard["actor"] != bob.id.as_str() {
        return Err(format!(
            "the push names {} as the actor: {heard}",
            heard["actor"]
        ));
    }
    ok(format!(
        "{} hears {}'s add (version 3) after {} ms",
        alice.name,
        bob.name,
        sent.elapsed().as_millis()
    ));

    let changes = json!({"changes": [{"itemId": "apple", "quantity": 5}]});
    let stale = api
        .call(
            &alice,
            "PATCH",
            &format!("/carts/{cart}"),
            Some(changes.clone()),
            &[("if-match", "\"2\"")],
        )
        .await?;
    check(
        stale.status == 409
            && stale.body["code"] == "VERSION_CONFLICT"
            && stale.body["currentVersion"] == 3,
        "409 VERSION_CONFLICT at version 3",
        &stale,
    )?;
    ok(format!(
        "{}'s edit against version 2 is refused: 409, current version 3",
        alice.name
    ));
    let edited = api
        .call(
            &alice,
            "PATCH",
            &format!("/carts/{cart}"),
            Some(changes),
            &[("if-match", "\"3\"")],
        )
        .await?;
    check(
        edited.status == 200 && edited.body["version"] == 4,
        "200 at version 4",
        &edited,
    )?;
    ok(format!(
        "{}'s edit against version 3 lands (version 4)",
        alice.name
    ));

    let hidden = api
        .call(&carol, "GET", &format!("/carts/{cart}"), None, &[])
        .await?;
    check(
        hidden.status == 404 && hidden.body["code"] == "CART_NOT_FOUND",
        "404 CART_NOT_FOUND",
        &hidden,
    )?;
    ok(format!(
        "to {}, who is not a member, the cart does not exist",
        carol.name
    ));

    let checked_out = api
        .call(&bob, "POST", &format!("/carts/{cart}/checkout"), None, &[])
        .await?;
    check(
        checked_out.status == 200 && checked_out.body["status"] == "CHECKED_OUT",
        "200 and CHECKED_OUT",
        &checked_out,
    )?;
    ok(format!(
        "{} checks out (version {})",
        bob.name, checked_out.body["version"]
    ));

    let late = api
        .call(
            &alice,
            "POST",
            &format!("/carts/{cart}/items"),
            Some(json!({"itemId": "milk", "quantity": 1})),
            &[],
        )
        .await?;
    check(
        late.status == 409 && late.body["code"] == "CART_CHECKED_OUT",
        "409 CART_CHECKED_OUT",
        &late,
    )?;
    ok("the checked-out cart takes no more: 409 CART_CHECKED_OUT".to_owned());
    Ok(())
}

#[tokio::main]
async fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let (mut api, mut ws) = (None, None);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--api" => api = args.next(),
            "--ws" => ws = args.next(),
            other => {
                eprintln!("usage: smoke --api URL --ws URL (unknown argument {other:?})");
                return ExitCode::from(2);
            }
        }
    }
    let (Some(api), Some(ws)) = (api, ws) else {
        eprintln!(
            "usage: smoke --api URL --ws URL, with ALICE_ID, ALICE_TOKEN, BOB_.. and CAROL_.. set"
        );
        return ExitCode::from(2);
    };
    println!("smoke: {api} and {ws}");
    let mut checks = 0;
    let outcome = match Api::new(&api) {
        Ok(client) => walk_through(&client, &ws, &mut checks).await,
        Err(e) => Err(e),
    };
    match outcome {
        Ok(()) => {
            println!("smoke passed: {checks} checks");
            ExitCode::SUCCESS
        }
        Err(failure) => {
            println!("FAIL after {checks} checks: {failure}");
            ExitCode::FAILURE
        }
    }
}
