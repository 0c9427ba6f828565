//! A TCP link to a real server that a test can cut and restore, to make a dependency fail on
//! purpose: while cut, live connections are closed and new ones are accepted and dropped at
//! once, as a server that went away looks to a client. It can also slow a dependency down:
//! with a delay set, everything a client sends waits that long before it goes on (and with
//! [`CuttableLink::delay_each_way`], every answer too: a network's round trip). It counts the
//! connections it carried and the round trips on them: each time a client sends after hearing
//! from the server (or first), one more.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

/// A link from `addr()` to an upstream server.
pub struct CuttableLink {
    addr: SocketAddr,
    open: Arc<AtomicBool>,
    delay_us: Arc<AtomicU64>,
    counts: Arc<Counts>,
    cuts: watch::Sender<u64>,
    task: tokio::task::JoinHandle<()>,
}

impl CuttableLink {
    /// A link on a free port of 127.0.0.1 to `upstream`.
    pub async fn start(upstream: SocketAddr) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .unwrap_or_else(|e| panic!("bind: {e}"));
        Self::on(listener, upstream)
    }

    /// A link in front of the server at `endpoint` (`http://host:port`, as the backends name
    /// it), with `endpoint` moved onto the link.
    pub async fn in_front_of(endpoint: &mut Option<String>) -> Self {
        let upstream: SocketAddr = endpoint
            .as_deref()
            .and_then(|url| url.strip_prefix("http://"))
            .and_then(|host| host.trim_end_matches('/').parse().ok())
            .unwrap_or_else(|| panic!("{endpoint:?} is not http://host:port"));
        let link = Self::start(upstream).await;
        *endpoint = Some(format!("http://{}", link.addr()));
        link
    }

    /// A link accepting on `listener` (bound by the caller, who needed its address first).
    pub fn on(listener: TcpListener, upstream: SocketAddr) -> Self {
        let addr = listener
            .local_addr()
            .unwrap_or_else(|e| panic!("addr: {e}"));
        let open = Arc::new(AtomicBool::new(true));
        let delay_us = Arc::new(AtomicU64::new(0));
        let counts = Arc::new(Counts::default());
        let (cuts, _) = watch::channel(0u64);
        let task = tokio::spawn(accept(
            listener,
            upstream,
            open.clone(),
            delay_us.clone(),
            counts.clone(),
            cuts.clone(),
        ));
        Self {
            addr,
            open,
            delay_us,
            counts,
            cuts,
            task,
        }
    }

    /// Where clients connect.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Closes every live connection and refuses new ones until `restore`.
    pub fn cut(&self) {
        self.open.store(false, Ordering::SeqCst);
        self.cuts.send_modify(|n| *n += 1);
    }

    /// Lets connections through again.
    pub fn restore(&self) {
        self.open.store(true, Ordering::SeqCst);
    }

    /// Holds back everything clients send by `delay` (zero: none), on live connections too: a
    /// slow server, as its clients see one.
    pub fn slow_down(&self, delay: Duration) {
        self.delay_us
            .store(delay.as_micros() as u64, Ordering::SeqCst);
    }

    /// Holds back what clients send and what the server answers by `delay` each: a network
    /// with a round trip of twice `delay`.
    pub fn delay_each_way(&self, delay: Duration) {
        self.slow_down(delay);
        self.counts
            .answer_delay_us
            .store(delay.as_micros() as u64, Ordering::SeqCst);
    }

    /// Connections carried so far.
    pub fn connections(&self) -> u64 {
        self.counts.connections.load(Ordering::SeqCst)
    }

    /// Round trips so far, on every connection: sends that follow an answer (or open one).
    pub fn round_trips(&self) -> u64 {
        self.counts.round_trips.load(Ordering::SeqCst)
    }
}

/// What a link counts, and the delay of its answers.
#[derive(Default)]
struct Counts {
    connections: AtomicU64,
    round_trips: AtomicU64,
    answer_delay_us: AtomicU64,
}

impl Drop for CuttableLink {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn accept(
    listener: TcpListener,
    upstream: SocketAddr,
    open: Arc<AtomicBool>,
    delay_us: Arc<AtomicU64>,
    counts: Arc<Counts>,
    cuts: watch::Sender<u64>,
) {
    while let Ok((client, _)) = listener.accept().await {
        if !open.load(Ordering::SeqCst) {
            drop(client);
            continue;
        }
        counts.connections.fetch_add(1, Ordering::SeqCst);
        tokio::spawn(pump(
            client,
            upstream,
            delay_us.clone(),
            counts.clone(),
            cuts.subscribe(),
        ));
    }
}

async fn pump(
    client: TcpStream,
    upstream: SocketAddr,
    delay_us: Arc<AtomicU64>,
    counts: Arc<Counts>,
    mut cuts: watch::Receiver<u64>,
) {
    let Ok(server) = TcpStream::connect(upstream).await else {
        return;
    };
    let _ = client.set_nodelay(true);
    let _ = server.set_nodelay(true);
    let (from_client, to_client) = client.into_split();
    let (from_server, to_server) = server.into_split();
    // Whether the server spoke last on this connection: the client's next send is a new round
    // trip.
    let answered = Arc::new(AtomicBool::new(true));
    let request_delay = move || delay_us.load(Ordering::SeqCst);
    let answer_delay = {
        let counts = counts.clone();
        move || counts.answer_delay_us.load(Ordering::SeqCst)
    };
    let requests = held_for(from_client, to_server, request_delay, {
        let (answered, counts) = (answered.clone(), counts.clone());
        move || {
            if answered.swap(false, Ordering::SeqCst) {
                counts.round_trips.fetch_add(1, Ordering::SeqCst);
            }
        }
    });
    let answers = held_for(from_server, to_client, answer_delay, move || {
        answered.store(true, Ordering::SeqCst);
    });
    tokio::select! {
        _ = requests => {}
        _ = answers => {}
        _ = cuts.changed() => {}
    }
}

/// Copies `from` to `to`, each chunk held for the delay from when it arrived, not from when the
/// one before it went on (a slow network, not a queue that grows); `heard` runs on each chunk.
async fn held_for(
    mut from: tokio::net::tcp::OwnedReadHalf,
    mut to: tokio::net::tcp::OwnedWriteHalf,
    delay_us: impl Fn() -> u64,
    heard: impl Fn(),
) {
    let (chunks, mut held) =
        tokio::sync::mpsc::unbounded_channel::<(tokio::time::Instant, Vec<u8>)>();
    let reader = async move {
        let mut buffer = vec![0u8; 16 * 1024];
        while let Ok(read @ 1..) = from.read(&mut buffer).await {
            heard();
            let delay = Duration::from_micros(delay_us());
            let due = tokio::time::Instant::now() + delay;
            if chunks.send((due, buffer[..read].to_vec())).is_err() {
                break;
            }
        }
    };
    let writer = async move {
        while let Some((due, chunk)) = held.recv().await {
            hold_until(due).await;
            if to.write_all(&chunk).await.is_err() {
                break;
            }
        }
    };
    tokio::join!(reader, writer);
}

/// Waits until `due`, to within a tenth of a millisecond. Tokio's timer rounds a deadline up to
/// its next millisecond tick, which would turn a link's 1 ms into 1 to 2 and a zero delay into
/// up to one: the last stretch is slept on a blocking thread instead, whose sleep is exact.
async fn hold_until(due: tokio::time::Instant) {
    const TIMER_TICK: Duration = Duration::from_millis(2);
    let now = tokio::time::Instant::now();
    if due <= now {
        return;
    }
    if due - now > TIMER_TICK {
        tokio::time::sleep_until(due - TIMER_TICK).await;
    }
    let rest = due.saturating_duration_since(tokio::time::Instant::now());
    let _ = tokio::task::spawn_blocking(move || std::thread::sleep(rest)).await;
}
