//! A TCP link to a real server that a test can cut and restore, to make a dependency fail on
//! purpose: while cut, live connections are closed and new ones are accepted and dropped at
//! once, as a server that went away looks to a client. It can also slow a dependency down:
//! with a delay set, everything a client sends waits that long before it goes on.

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
    delay_ms: Arc<AtomicU64>,
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
        let delay_ms = Arc::new(AtomicU64::new(0));
        let (cuts, _) = watch::channel(0u64);
        let task = tokio::spawn(accept(
            listener,
            upstream,
            open.clone(),
            delay_ms.clone(),
            cuts.clone(),
        ));
        Self {
            addr,
            open,
            delay_ms,
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
        self.delay_ms
            .store(delay.as_millis() as u64, Ordering::SeqCst);
    }
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
    delay_ms: Arc<AtomicU64>,
    cuts: watch::Sender<u64>,
) {
    while let Ok((client, _)) = listener.accept().await {
        if !open.load(Ordering::SeqCst) {
            drop(client);
            continue;
        }
        tokio::spawn(pump(client, upstream, delay_ms.clone(), cuts.subscribe()));
    }
}

async fn pump(
    client: TcpStream,
    upstream: SocketAddr,
    delay_ms: Arc<AtomicU64>,
    mut cuts: watch::Receiver<u64>,
) {
    let Ok(server) = TcpStream::connect(upstream).await else {
        return;
    };
    let _ = client.set_nodelay(true);
    let _ = server.set_nodelay(true);
    let (mut from_client, mut to_client) = client.into_split();
    let (mut from_server, mut to_server) = server.into_split();
    // Each chunk is held for the delay from when it arrived, not from when the one before it
    // went on: a slow server, not a queue that grows.
    let (chunks, mut held) =
        tokio::sync::mpsc::unbounded_channel::<(tokio::time::Instant, Vec<u8>)>();
    let reader = async move {
        let mut buffer = vec![0u8; 16 * 1024];
        while let Ok(read @ 1..) = from_client.read(&mut buffer).await {
            let delay = Duration::from_millis(delay_ms.load(Ordering::SeqCst));
            let due = tokio::time::Instant::now() + delay;
            if chunks.send((due, buffer[..read].to_vec())).is_err() {
                break;
            }
        }
    };
    let writer = async move {
        while let Some((due, chunk)) = held.recv().await {
            tokio::time::sleep_until(due).await;
            if to_server.write_all(&chunk).await.is_err() {
                break;
            }
        }
    };
    let requests = async {
        tokio::join!(reader, writer);
    };
    let answers = tokio::io::copy(&mut from_server, &mut to_client);
    tokio::select! {
        _ = requests => {}
        _ = answers => {}
        _ = cuts.changed() => {}
    }
}
