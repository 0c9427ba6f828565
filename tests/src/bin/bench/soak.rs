//! `bench soak`: the product's promises under load. Many users on many shared carts add,
//! remove, modify, share, unshare, join by invite link, lock, unlock, check out and read at
//! once, at a person's pace (under the per-user rate limit, which stays on), while every user
//! listens on a WebSocket. At the end it
//! checks, for every cart:
//!
//! - every acknowledged change is in the store: the acknowledged versions are 1, 2, ... up to
//!   the stored version, each acknowledged once (no lost update, no change nobody was told of),
//!   and the stored cart is the one the last acknowledgement showed;
//! - every member got every version of every cart it belonged to: a `change` (or `removed`)
//!   message for each version whose cart listed it, in version order (two writers publish in
//!   the order they finish; `sync-push` puts their versions back in order);
//! - presence converges: every user's socket keeps switching between the carts it belongs to
//!   (and now and then views none), as people open carts; once they settle, the last presence
//!   message each viewer heard names exactly the users whose sockets view that cart.
//!
//! It prints ops/s, answers by code, and push latency (request sent to message received), and
//! exits 1 when a promise was broken. Loopback only, bounded by `--seconds`. With `--faults`
//! it runs on real servers and cuts and restores the broker, the outbox and the registry during
//! the run (`faults`), and the promises are the same.
//!
//! With `--cuts` the server also closes users' WebSockets during the run, as API Gateway does at
//! its maximum duration and in a deploy (through the `@connections` API, one every
//! [`CUT_EVERY`]). Each socket connects again as the page does (a random wait below a ceiling
//! that doubles), subscribes again and re-reads its carts. A push sent while its member was cut
//! off cannot arrive, so it is not counted missing; instead every member must end knowing each
//! of its carts at the stored version (from what it heard and what it re-read).

use serde_json::{Value, json};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tests::{Client, Socket, TestStack};
use tokio_tungstenite::tungstenite::Message;

/// What a user does, and how often (out of 100).
const MIX: [(Action, u32); 10] = [
    (Action::Add, 40),
    (Action::Remove, 10),
    (Action::Modify, 10),
    (Action::Read, 14),
    (Action::Share, 6),
    (Action::Unshare, 5),
    (Action::Checkout, 5),
    (Action::Join, 4),
    (Action::Lock, 3),
    (Action::Unlock, 3),
];

/// How long a user waits between requests: a person's pace, well under the rate limit.
const THINK: (u64, u64) = (40, 120);

/// How long the sockets get to hear the last pushes before the counting starts.
const DRAIN: Duration = Duration::from_secs(3);

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum Action {
    Add,
    Remove,
    Modify,
    Read,
    Share,
    Unshare,
    Checkout,
    /// A user who is not a member accepts the cart's invite link.
    Join,
    /// The owner locks the cart for checkout (edits then answer 409 `CART_LOCKED`).
    Lock,
    Unlock,
}

/// The soak's shape.
pub struct Shape {
    pub seconds: u64,
    pub users: usize,
    pub carts: usize,
    /// On real servers, cutting and restoring the broker, the outbox and the registry.
    pub faults: bool,
    /// Closing users' WebSockets from the server side during the run.
    pub cuts: bool,
}

/// How often the server closes one user's WebSockets, with `--cuts`.
const CUT_EVERY: Duration = Duration::from_millis(400);

/// A socket's first wait before it connects again after a cut, and the most it waits: the
/// page's (`web/app.js`).
const RECONNECT_FIRST: Duration = Duration::from_millis(500);
const RECONNECT_MOST: Duration = Duration::from_secs(30);

/// How long after a change was asked for its push may still be on its way: a member cut off
/// at some moment between the request and this long after it may not have been there to hear
/// it. Pushes take tens of milliseconds here (p99); with `--faults` an outage holds them back
/// for many seconds, so there the window is the outage's and the check that every member ends
/// knowing its carts carries more of the weight.
const PUSH_IN_FLIGHT: Duration = Duration::from_secs(2);
const PUSH_IN_FLIGHT_WITH_FAULTS: Duration = Duration::from_secs(30);

/// A cart as the users believe it to be (it may be stale: their requests find out).
#[derive(Clone)]
struct Known {
    owner: usize,
    members: Vec<usize>,
    active: bool,
    /// The token of its invite link (two uses).
    invite: Option<String>,
}

/// A change the API acknowledged: which cart and version, when it was asked for, and the
/// cart it answered with.
struct Ack {
    /// What was asked ("add", "checkout", ...).
    label: &'static str,
    cart: String,
    version: u64,
    sent: Instant,
    members: Vec<String>,
    items: Value,
    /// For an unshare, the member it removed (told with a `removed` message).
    removed: Option<String>,
}

/// A message a user's socket received.
struct Heard {
    cart: String,
    version: u64,
    at: Instant,
}

/// What one user's socket heard, and where it ended up.
#[derive(Default)]
struct Listened {
    heard: Vec<Heard>,
    /// Versions learned otherwise: a snapshot answering a subscribe, a re-read after a cut.
    synced: Vec<Heard>,
    /// When the socket was cut off, and when it was open again.
    gaps: Vec<(Instant, Instant)>,
    /// The cart the socket views at the end, if any.
    viewing: Option<String>,
    /// The viewers the last presence message named, by cart.
    presence: HashMap<String, Vec<String>>,
    /// Presence messages heard.
    presence_messages: usize,
}

/// How often a user's socket opens another cart (or none): a person moving between carts.
const SWITCH_MS: (u64, u64) = (500, 2500);

/// How long presence gets to settle once everyone stopped switching: its window, several times.
const PRESENCE_SETTLE: Duration = Duration::from_secs(3);

#[derive(Default)]
struct Tally {
    acks: Vec<Ack>,
    answers: BTreeMap<String, usize>,
    ops: usize,
}

struct World {
    stack: Arc<TestStack>,
    tokens: Vec<String>,
    known: Mutex<HashMap<String, Known>>,
    tally: Mutex<Tally>,
}

fn user(index: usize) -> String {
    format!("soak-user-{index}")
}

/// Runs the soak and prints its table; false when a promise was broken.
pub async fn run(shape: Shape) -> bool {
    // As `cargo run` starts it: the per-user rate limit on.
    let (faulty, stack) = if shape.faults {
        let (links, stack) = crate::faults::FaultyStack::start().await;
        (Some(Arc::new(links)), Arc::new(stack))
    } else {
        (None, Arc::new(tests::spawn_stack().await))
    };
    restock(&stack).await;
    let mut tokens = Vec::with_capacity(shape.users);
    for index in 0..shape.users {
        tokens.push(stack.token(&user(index), &[]).await);
    }
    let world = Arc::new(World {
        stack: stack.clone(),
        tokens,
        known: Mutex::new(HashMap::new()),
        tally: Mutex::new(Tally::default()),
    });

    // Everyone listens from the start.
    let stop = Arc::new(AtomicBool::new(false));
    let settle = Arc::new(AtomicBool::new(false));
    let heard_so_far = Arc::new(AtomicUsize::new(0));
    let mut listeners = Vec::new();
    for index in 0..shape.users {
        let socket = Socket::connect(stack.addr(), &world.tokens[index])
            .await
            .unwrap_or_else(|e| panic!("socket for {}: {e}", user(index)));
        let listener = Listener {
            me: index,
            world: world.clone(),
            settle: settle.clone(),
            stop: stop.clone(),
            count: heard_so_far.clone(),
        };
        listeners.push(tokio::spawn(listener.listen(socket)));
    }
    for cart in 0..shape.carts {
        let mut client = stack.client().await;
        new_shared_cart(&world, &mut client, cart % shape.users, shape.users).await;
    }

    let started = Instant::now();
    let deadline = started + Duration::from_secs(shape.seconds);
    let schedule = faulty.clone().map(|links| {
        let length = Duration::from_secs(shape.seconds);
        tokio::spawn(async move { links.run_schedule(started, length).await })
    });
    let cutter = shape.cuts.then(|| {
        let world = world.clone();
        tokio::spawn(async move { cut(&world, deadline).await })
    });
    let workers: Vec<_> = (0..shape.users)
        .map(|index| {
            let world = world.clone();
            tokio::spawn(async move { work(world, index, shape.users, deadline).await })
        })
        .collect();
    for worker in workers {
        let _ = worker.await;
    }
    let elapsed = started.elapsed();
    let cuts = match cutter {
        Some(cutter) => cutter.await.unwrap_or_default(),
        None => 0,
    };
    let faults_done = match schedule {
        Some(schedule) => schedule.await.unwrap_or_default(),
        None => Vec::new(),
    };
    if shape.faults || shape.cuts {
        crate::faults::drain(&heard_so_far).await;
    } else {
        tokio::time::sleep(DRAIN).await;
    }
    settle.store(true, Ordering::SeqCst);
    tokio::time::sleep(PRESENCE_SETTLE).await;
    stop.store(true, Ordering::SeqCst);
    let mut heard: HashMap<String, Vec<Heard>> = HashMap::new();
    let mut listened: HashMap<String, Listened> = HashMap::new();
    for (index, listener) in listeners.into_iter().enumerate() {
        let mut result = listener.await.unwrap_or_default();
        heard.insert(user(index), std::mem::take(&mut result.heard));
        listened.insert(user(index), result);
    }
    let tally = std::mem::take(&mut *world.tally.lock().unwrap_or_else(|p| p.into_inner()));
    let stored = stored_carts(&world).await;
    if shape.cuts {
        let reopened: usize = listened.values().map(|l| l.gaps.len()).sum();
        println!("cuts: the server closed {cuts} sockets; they connected again {reopened} times\n");
    }
    if !faults_done.is_empty() {
        println!("faults:");
        for line in &faults_done {
            println!("  {line}");
        }
        println!();
    }
    let kept = report(&shape, elapsed, &tally, &heard, &listened, &stored);
    report_presence(&listened) && kept
}

/// Until `deadline`, closes every socket of a random user through the `@connections` API, one
/// user every [`CUT_EVERY`]; how many sockets it closed.
async fn cut(world: &World, deadline: Instant) -> usize {
    let mut closed = 0;
    let mut client = world.stack.client().await;
    let registry = world.stack.registry();
    while Instant::now() + CUT_EVERY < deadline {
        tokio::time::sleep(CUT_EVERY).await;
        let who = user(fastrand::usize(..world.tokens.len()));
        let Ok(who) = domain::UserId::parse(&who) else {
            continue;
        };
        // With `--faults` the registry may be cut off too: then nobody is cut this time.
        for connection in registry.connections_of(&who).await.unwrap_or_default() {
            let id = connection.connection_id.as_str();
            let path = format!("/@connections/{}", tests::encode_path_segment(id));
            if client.send("DELETE", &path, None, None).await.status == 204 {
                closed += 1;
            }
        }
    }
    closed
}

/// Every demo item in stock for the whole run: stock is not what the soak is about.
async fn restock(stack: &TestStack) {
    let admin = stack.token("soak-admin", &["admin"]).await;
    let mut client = stack.client().await;
    for item in crate::ITEMS {
        let reply = client
            .send(
                "PUT",
                &format!("/items/{item}/stock"),
                Some(&admin),
                Some(json!({"stock": 1_000_000})),
            )
            .await;
        assert_eq!(reply.status, 200, "restock {item}: {}", reply.body);
    }
}

/// A new cart owned by `owner`, shared with three others (two editors, a viewer).
async fn new_shared_cart(world: &World, client: &mut Client, owner: usize, users: usize) {
    let token = &world.tokens[owner];
    let sent = Instant::now();
    let created = client.send("POST", "/carts", Some(token), None).await;
    record(world, "create", sent, &created, None);
    let Some(cart) = created.body["cartId"].as_str().map(str::to_owned) else {
        return;
    };
    let others: Vec<usize> = (1..=3)
        .map(|k| (owner + k * 7) % users)
        .filter(|u| *u != owner)
        .collect();
    let mut members = vec![owner];
    for (k, other) in others.iter().enumerate() {
        let role = if k == 2 { "viewer" } else { "editor" };
        let sent = Instant::now();
        let shared = client
            .send(
                "POST",
                &format!("/carts/{cart}/members"),
                Some(token),
                Some(json!({"userIds": [user(*other)], "role": role})),
            )
            .await;
        record(world, "share", sent, &shared, None);
        if shared.status == 200 {
            members.push(*other);
        }
    }
    // Nobody else knows the cart yet, so its members at the invite's version are these.
    let sent = Instant::now();
    let invited = client
        .send(
            "POST",
            &format!("/carts/{cart}/invites"),
            Some(token),
            Some(json!({"maxUses": 2})),
        )
        .await;
    count(world, "invite", invited.status, invited.code());
    let invite = invited.body["token"].as_str().map(str::to_owned);
    if let Some(version) = invited.body["cartVersion"].as_u64() {
        lock(&world.tally).acks.push(Ack {
            label: "invite",
            cart: cart.clone(),
            version,
            sent,
            members: members.iter().map(|m| user(*m)).collect(),
            // The cart was created empty and nobody has added to it yet.
            items: json!([]),
            removed: None,
        });
    }
    lock(&world.known).insert(
        cart,
        Known {
            owner,
            members,
            active: true,
            invite,
        },
    );
}

/// One user's requests until `deadline`.
async fn work(world: Arc<World>, me: usize, users: usize, deadline: Instant) {
    let mut client = world.stack.client().await;
    let token = world.tokens[me].clone();
    while Instant::now() < deadline {
        let think = THINK.0 + fastrand::u64(..THINK.1 - THINK.0);
        tokio::time::sleep(Duration::from_millis(think)).await;
        let action = pick();
        let mine: Vec<(String, Known)> = lock(&world.known)
            .iter()
            .filter(|(_, k)| k.active && k.members.contains(&me))
            .map(|(c, k)| (c.clone(), k.clone()))
            .collect();
        let owned: Vec<&(String, Known)> = mine.iter().filter(|(_, k)| k.owner == me).collect();
        let others: Vec<(String, Known)> = lock(&world.known)
            .iter()
            .filter(|(_, k)| k.active && k.invite.is_some() && !k.members.contains(&me))
            .map(|(c, k)| (c.clone(), k.clone()))
            .collect();
        let Some((cart, known)) = (match action {
            Action::Share | Action::Unshare | Action::Lock | Action::Unlock => owned
                .get(fastrand::usize(..owned.len().max(1)))
                .map(|c| (*c).clone()),
            Action::Join => others.get(fastrand::usize(..others.len().max(1))).cloned(),
            _ => mine.get(fastrand::usize(..mine.len().max(1))).cloned(),
        }) else {
            if owned.is_empty() && fastrand::u32(..10) == 0 {
                new_shared_cart(&world, &mut client, me, users).await;
            }
            continue;
        };
        let item = crate::ITEMS[fastrand::usize(..crate::ITEMS.len())];
        let (method, path, body, label) = match action {
            Action::Add => (
                "POST",
                format!("/carts/{cart}/items"),
                Some(json!({"itemId": item, "quantity": 1 + fastrand::u32(..3)})),
                "add",
            ),
            Action::Remove => (
                "DELETE",
                format!("/carts/{cart}/items/{item}"),
                None,
                "remove",
            ),
            Action::Modify => (
                "PATCH",
                format!("/carts/{cart}"),
                Some(json!({"changes": [{"itemId": item, "quantity": fastrand::u32(..4)}]})),
                "modify",
            ),
            Action::Read => ("GET", format!("/carts/{cart}"), None, "read"),
            Action::Checkout => ("POST", format!("/carts/{cart}/checkout"), None, "checkout"),
            Action::Share => {
                let other = fastrand::usize(..users);
                (
                    "POST",
                    format!("/carts/{cart}/members"),
                    Some(json!({"userIds": [user(other)], "role": "editor"})),
                    "share",
                )
            }
            Action::Join => (
                "POST",
                format!(
                    "/invites/{}/accept",
                    known.invite.clone().unwrap_or_default()
                ),
                None,
                "join",
            ),
            Action::Lock => ("POST", format!("/carts/{cart}/lock"), None, "lock"),
            Action::Unlock => ("DELETE", format!("/carts/{cart}/lock"), None, "unlock"),
            Action::Unshare => {
                let Some(other) = known.members.iter().copied().find(|m| *m != me) else {
                    continue;
                };
                (
                    "DELETE",
                    format!("/carts/{cart}/members/{}", user(other)),
                    None,
                    "unshare",
                )
            }
        };
        let sent = Instant::now();
        let reply = client.send(method, &path, Some(&token), body).await;
        let removed = match action {
            Action::Unshare => path.rsplit('/').next().map(str::to_owned),
            _ => None,
        };
        if action != Action::Read {
            record(&world, label, sent, &reply, removed);
        } else {
            count(&world, label, reply.status, reply.code());
        }
        learn(&world, &cart, action, &reply);
    }
}

fn pick() -> Action {
    let mut roll = fastrand::u32(..100);
    for (action, weight) in MIX {
        if roll < weight {
            return action;
        }
        roll -= weight;
    }
    Action::Read
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|p| p.into_inner())
}

fn count(world: &World, label: &str, status: u16, code: &str) {
    let key = if code.is_empty() {
        format!("{label} {status}")
    } else {
        format!("{label} {status} {code}")
    };
    let mut tally = lock(&world.tally);
    tally.ops += 1;
    *tally.answers.entry(key).or_default() += 1;
}

/// Counts an answer, and keeps it when it acknowledged a change.
fn record(
    world: &World,
    label: &'static str,
    sent: Instant,
    reply: &tests::Reply,
    removed: Option<String>,
) {
    count(world, label, reply.status, reply.code());
    let (Some(cart), Some(version)) = (
        reply.body["cartId"].as_str(),
        reply.body["version"].as_u64(),
    ) else {
        return;
    };
    if !(200..300).contains(&reply.status) {
        return;
    }
    let members = reply.body["members"]
        .as_array()
        .map(|m| {
            m.iter()
                .filter_map(|m| m["userId"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    lock(&world.tally).acks.push(Ack {
        label,
        cart: cart.to_owned(),
        version,
        sent,
        members,
        items: reply.body["items"].clone(),
        removed,
    });
}

/// What the users learn from an answer about the cart they acted on.
fn learn(world: &World, cart: &str, action: Action, reply: &tests::Reply) {
    let mut known = lock(&world.known);
    let Some(entry) = known.get_mut(cart) else {
        return;
    };
    if reply.body["status"] == "CHECKED_OUT" || reply.code() == "CART_CHECKED_OUT" {
        entry.active = false;
    }
    if matches!(action, Action::Share | Action::Unshare | Action::Join) && reply.status == 200 {
        entry.members = reply.body["members"]
            .as_array()
            .map(|m| {
                m.iter()
                    .filter_map(|m| {
                        m["userId"]
                            .as_str()?
                            .strip_prefix("soak-user-")?
                            .parse()
                            .ok()
                    })
                    .collect()
            })
            .unwrap_or_default();
    }
}

/// One user's socket: it hears every push, and opens carts as a person would.
struct Listener {
    me: usize,
    world: Arc<World>,
    /// Set once the run is over: stop switching, refresh the cart viewed, and keep listening.
    settle: Arc<AtomicBool>,
    stop: Arc<AtomicBool>,
    count: Arc<AtomicUsize>,
}

impl Listener {
    /// Every message the socket hears until `stop`, switching carts every few seconds until
    /// `settle`, then subscribing once more to the cart it ends on (a page's refresh).
    async fn listen(self, mut socket: Socket) -> Listened {
        let mut listened = Listened::default();
        let mut next_switch = Instant::now();
        let mut settled = false;
        while !self.stop.load(Ordering::SeqCst) {
            if !settled && self.settle.load(Ordering::SeqCst) {
                settled = true;
                if let Some(cart) = &listened.viewing {
                    socket
                        .send(&json!({"action": "subscribe", "cartId": cart}).to_string())
                        .await;
                }
            } else if !settled && Instant::now() >= next_switch {
                self.switch(&mut socket, &mut listened).await;
                next_switch =
                    Instant::now() + Duration::from_millis(fastrand::u64(SWITCH_MS.0..SWITCH_MS.1));
            }
            let text = match socket.receive(Duration::from_millis(100)).await {
                tests::Received::Text(text) => text,
                tests::Received::Quiet => continue,
                tests::Received::Closed => {
                    let cut_at = Instant::now();
                    socket = self.reconnect().await;
                    self.resync(&mut socket, &mut listened, cut_at).await;
                    continue;
                }
            };
            let at = Instant::now();
            let Ok(message) = serde_json::from_str::<Value>(&text) else {
                continue;
            };
            let cart = message["cartId"].as_str().map(str::to_owned);
            match (message["type"].as_str(), cart) {
                (Some(kind @ ("change" | "removed")), Some(cart)) => {
                    let Some(version) = message["version"].as_u64() else {
                        continue;
                    };
                    if kind == "removed" && listened.viewing.as_ref() == Some(&cart) {
                        // As the page does: sync-push ends a removed member's presence in the
                        // cart, unless the removal raced a subscribe it did not see.
                        listened.viewing = None;
                        let unsubscribe = json!({"action": "unsubscribe", "cartId": cart});
                        socket.send(&unsubscribe.to_string()).await;
                    }
                    self.count.fetch_add(1, Ordering::SeqCst);
                    listened.heard.push(Heard { cart, version, at });
                }
                (Some("snapshot"), Some(cart)) => {
                    if let Some(version) = message["version"].as_u64() {
                        listened.synced.push(Heard { cart, version, at });
                    }
                }
                (Some("presence"), Some(cart)) => {
                    listened.presence_messages += 1;
                    let viewers = message["viewers"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .filter_map(|v| v.as_str().map(str::to_owned))
                        .collect();
                    listened.presence.insert(cart, viewers);
                }
                // A subscribe refused (no longer a member): the socket views nothing.
                (Some("error"), _) if message["code"] == "CART_NOT_FOUND" => {
                    listened.viewing = None;
                }
                _ => {}
            }
        }
        listened
    }

    /// A new socket for this user after a cut, as the page opens one: after a random wait
    /// below a ceiling that doubles with each failed try.
    async fn reconnect(&self) -> Socket {
        let token = &self.world.tokens[self.me];
        let mut ceiling = RECONNECT_FIRST;
        loop {
            tokio::time::sleep(ceiling.mul_f64(fastrand::f64())).await;
            if let Ok(socket) = Socket::connect(self.world.stack.addr(), token).await {
                return socket;
            }
            ceiling = (ceiling * 2).min(RECONNECT_MOST);
        }
    }

    /// What the page does once connected again: subscribes to the cart it shows and re-reads
    /// the list of its carts, whose versions it then knows.
    async fn resync(&self, socket: &mut Socket, listened: &mut Listened, since: Instant) {
        if let Some(cart) = &listened.viewing {
            // Closed again already: the next read sees it, and this runs once more.
            let subscribe = json!({"action": "subscribe", "cartId": cart}).to_string();
            socket.send_frame(Message::text(subscribe)).await;
        }
        let token = &self.world.tokens[self.me];
        let mut client = self.world.stack.client().await;
        let mine = client.send("GET", "/me/carts", Some(token), None).await;
        let at = Instant::now();
        for cart in mine.body["carts"].as_array().into_iter().flatten() {
            if let (Some(id), Some(version)) = (cart["cartId"].as_str(), cart["version"].as_u64()) {
                listened.synced.push(Heard {
                    cart: id.to_owned(),
                    version,
                    at,
                });
            }
        }
        listened.gaps.push((since, at));
    }

    /// Opens another of the user's carts, or, one time in six, none.
    async fn switch(&self, socket: &mut Socket, listened: &mut Listened) {
        let mine: Vec<String> = lock(&self.world.known)
            .iter()
            .filter(|(_, k)| k.members.contains(&self.me))
            .map(|(cart, _)| cart.clone())
            .collect();
        if mine.is_empty() || fastrand::u32(..6) == 0 {
            if let Some(cart) = listened.viewing.take() {
                socket
                    .send(&json!({"action": "unsubscribe", "cartId": cart}).to_string())
                    .await;
            }
            return;
        }
        let cart = mine[fastrand::usize(..mine.len())].clone();
        socket
            .send(&json!({"action": "subscribe", "cartId": cart}).to_string())
            .await;
        listened.viewing = Some(cart);
    }
}

/// Prints how presence settled; false when a viewer's last presence message does not name
/// exactly the users whose sockets view its cart.
fn report_presence(listened: &HashMap<String, Listened>) -> bool {
    let mut viewers: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for (who, result) in listened {
        if let Some(cart) = &result.viewing {
            viewers.entry(cart).or_default().push(who);
        }
    }
    let mut wrong = Vec::new();
    for (cart, expected) in &mut viewers {
        expected.sort_unstable();
        for who in expected.iter() {
            let last = listened[*who].presence.get(*cart);
            if last.map(|l| l.iter().map(String::as_str).collect::<Vec<_>>())
                != Some(expected.clone())
            {
                wrong.push(format!(
                    "{who}, viewing cart {cart} with {expected:?}, last heard {last:?}"
                ));
            }
        }
    }
    let messages: usize = listened.values().map(|l| l.presence_messages).sum();
    println!(
        "\n| presence messages | carts viewed at the end | viewers | viewers with the wrong presence |"
    );
    println!("|---:|---:|---:|---:|");
    println!(
        "| {messages} | {} | {} | {} |",
        viewers.len(),
        viewers.values().map(Vec::len).sum::<usize>(),
        wrong.len()
    );
    if wrong.is_empty() {
        println!("presence settled: every viewer's last presence names exactly who views its cart");
    }
    for line in wrong.iter().take(10) {
        println!("  PRESENCE WRONG: {line}");
    }
    wrong.is_empty()
}

/// Each cart as the store holds it at the end, read by its owner.
async fn stored_carts(world: &World) -> HashMap<String, Value> {
    let carts: Vec<(String, usize)> = lock(&world.known)
        .iter()
        .map(|(cart, known)| (cart.clone(), known.owner))
        .collect();
    let mut client = world.stack.client().await;
    let mut stored = HashMap::new();
    for (cart, owner) in carts {
        let reply = client
            .send(
                "GET",
                &format!("/carts/{cart}"),
                Some(&world.tokens[owner]),
                None,
            )
            .await;
        stored.insert(cart, reply.body);
    }
    stored
}

/// Prints the table and the verdict; false when a promise was broken.
fn report(
    shape: &Shape,
    elapsed: Duration,
    tally: &Tally,
    heard: &HashMap<String, Vec<Heard>>,
    listened: &HashMap<String, Listened>,
    stored: &HashMap<String, Value>,
) -> bool {
    let mut broken: Vec<String> = Vec::new();
    // Versions heard after a newer one (or twice, which only a redelivered push batch may do).
    let mut late: Vec<String> = Vec::new();
    let mut repeats = 0usize;

    // Every acknowledged change is in the store, each version acknowledged once.
    // A checkout asked again answers the checked-out cart again, at its version: the same
    // change, acknowledged twice by design. Any other repeat is two writers told one version.
    let mut by_cart: HashMap<&str, Vec<&Ack>> = HashMap::new();
    let mut changes: Vec<&Ack> = Vec::new();
    let mut seen: HashMap<(&str, u64), &'static str> = HashMap::new();
    for ack in &tally.acks {
        match seen.insert((&ack.cart, ack.version), ack.label) {
            Some("checkout") if ack.label == "checkout" => continue,
            Some(earlier) => broken.push(format!(
                "cart {}: version {} acknowledged to a {earlier} and to a {}",
                ack.cart, ack.version, ack.label
            )),
            None => {}
        }
        by_cart.entry(&ack.cart).or_default().push(ack);
        changes.push(ack);
    }
    for (cart, body) in stored {
        let acks = by_cart.get(cart.as_str()).cloned().unwrap_or_default();
        let mut versions: Vec<u64> = acks.iter().map(|a| a.version).collect();
        versions.sort_unstable();
        let stored_version = body["version"].as_u64().unwrap_or_default();
        if versions != (1..=stored_version).collect::<Vec<_>>() {
            broken.push(format!(
                "cart {cart}: stored at version {stored_version}, acknowledged {versions:?}"
            ));
        }
        if let Some(last) = acks.iter().find(|a| a.version == stored_version)
            && last.items != body["items"]
        {
            broken.push(format!(
                "cart {cart}: the store differs from its last acknowledgement"
            ));
        }
    }

    // Every member heard every version it was a member at, in order.
    let mut expected = 0usize;
    let mut latencies_us: Vec<u64> = Vec::new();
    let mut index: HashMap<(&str, &str, u64), Instant> = HashMap::new();
    for (member, messages) in heard {
        let mut last: HashMap<&str, u64> = HashMap::new();
        for message in messages {
            let previous = last.insert(&message.cart, message.version);
            if shape.faults && previous == Some(message.version) {
                // A push batch that failed halfway (the registry cut) is delivered again; the
                // members it had reached hear the version twice and drop the repeat.
                repeats += 1;
                continue;
            }
            if let Some(previous) = previous
                && previous >= message.version
            {
                late.push(format!(
                    "{member} heard cart {} version {} after {previous}",
                    message.cart, message.version
                ));
            }
            index.insert((member, &message.cart, message.version), message.at);
        }
    }
    let mut missing = 0usize;
    let mut while_cut = 0usize;
    let mut missed: Vec<String> = Vec::new();
    // Cut off at some moment between the request and when its push could still come.
    let in_flight = if shape.faults {
        PUSH_IN_FLIGHT_WITH_FAULTS
    } else {
        PUSH_IN_FLIGHT
    };
    let was_cut = |member: &str, sent: Instant| {
        listened.get(member).is_some_and(|l| {
            l.gaps
                .iter()
                .any(|(cut, back)| *back >= sent && *cut <= sent + in_flight)
        })
    };
    for ack in &changes {
        let recipients: HashSet<&str> = ack
            .members
            .iter()
            .map(String::as_str)
            .chain(ack.removed.as_deref())
            .collect();
        for member in recipients {
            expected += 1;
            match index.get(&(member, ack.cart.as_str(), ack.version)) {
                Some(at) => {
                    latencies_us.push(at.saturating_duration_since(ack.sent).as_micros() as u64)
                }
                None if was_cut(member, ack.sent) => while_cut += 1,
                None => {
                    missing += 1;
                    if missed.len() < 10 {
                        missed.push(format!(
                            "{member} never heard cart {} version {} (a {})",
                            ack.cart, ack.version, ack.label
                        ));
                    }
                }
            }
        }
    }
    if missing > 0 {
        broken.push(format!("{missing} of {expected} pushes never arrived"));
        broken.extend(missed);
    }
    broken.extend(late.iter().take(10).cloned());
    broken.extend(behind(heard, listened, stored).into_iter().take(10));
    latencies_us.sort_unstable();
    let percentile = |p: f64| crate::percentile_ms(&latencies_us, p);

    println!(
        "| seconds | users | carts | requests | ops/s | changes acknowledged | pushes expected | missing | sent while cut off | out of order | repeated | push p50 ms | p99 ms | max ms |"
    );
    println!("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    println!(
        "| {:.1} | {} | {} | {} | {:.0} | {} | {} | {} | {} | {} | {} | {:.1} | {:.1} | {:.1} |",
        elapsed.as_secs_f64(),
        shape.users,
        stored.len(),
        tally.ops,
        tally.ops as f64 / elapsed.as_secs_f64(),
        changes.len(),
        expected,
        missing,
        while_cut,
        late.len(),
        repeats,
        percentile(50.0),
        percentile(99.0),
        percentile(100.0),
    );
    println!("\nanswers by operation and code:");
    for (answer, n) in &tally.answers {
        println!("  {answer}: {n}");
    }
    if broken.is_empty() {
        println!(
            "\npromises kept: every acknowledged change is stored, every member heard every version (but those sent while it was cut off), in order, and ends knowing each of its carts as stored"
        );
        true
    } else {
        println!("\nPROMISES BROKEN ({}):", broken.len());
        for line in broken.iter().take(20) {
            println!("  {line}");
        }
        false
    }
}

/// The members who end not knowing one of their carts as stored: the newest version each heard
/// pushed or learned by a snapshot or a re-read is older than the store's.
fn behind(
    heard: &HashMap<String, Vec<Heard>>,
    listened: &HashMap<String, Listened>,
    stored: &HashMap<String, Value>,
) -> Vec<String> {
    let mut behind = Vec::new();
    for (cart, body) in stored {
        let version = body["version"].as_u64().unwrap_or_default();
        let members = body["members"].as_array().into_iter().flatten();
        for member in members.filter_map(|m| m["userId"].as_str()) {
            let known = heard
                .get(member)
                .into_iter()
                .flatten()
                .chain(listened.get(member).into_iter().flat_map(|l| &l.synced))
                .filter(|h| &h.cart == cart)
                .map(|h| h.version)
                .max();
            if known.unwrap_or_default() < version {
                behind.push(format!(
                    "{member} ends knowing cart {cart} at version {known:?}, stored at {version}"
                ));
            }
        }
    }
    behind
}
