//! A Kafka-protocol broker of a test's own: tansu (`$TANSU_BIN`, installed by
//! `tests/services.sh`), in memory, listening at one address and advertising another, so that
//! every client connection goes through whatever stands at the advertised one (a link the test
//! cuts, a TLS front).

use std::net::SocketAddr;
use std::time::{Duration, Instant};

/// A free port on 127.0.0.1 to listen on.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .unwrap_or_else(|e| panic!("a free port: {e}"))
        .port()
}

/// Starts tansu listening at `listen` and advertising `advertised` (`host:port`), and waits until
/// it accepts connections. It stops when the child is dropped.
pub async fn tansu(listen: SocketAddr, advertised: &str) -> tokio::process::Child {
    let tansu = crate::service_setting("TANSU_BIN");
    let child = tokio::process::Command::new(tansu)
        .args([
            "broker",
            "--listener-url",
            &format!("tcp://{listen}"),
            "--advertised-listener-url",
            &format!("tcp://{advertised}"),
            "--storage-engine",
            "memory://tansu/",
        ])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap_or_else(|e| panic!("tansu starts: {e}"));
    wait_until_listening(listen, "the broker", Duration::from_secs(20)).await;
    child
}

/// A broker of the caller's own behind a link: tansu at a free port, advertising the link's
/// address, so every client connection crosses the link (which the caller may cut or slow).
pub async fn tansu_behind_link() -> (crate::CuttableLink, tokio::process::Child) {
    let front = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .unwrap_or_else(|e| panic!("a free port: {e}"));
    let advertised = front
        .local_addr()
        .unwrap_or_else(|e| panic!("its address: {e}"));
    let listen = ([127, 0, 0, 1], free_port()).into();
    let broker = tansu(listen, &advertised.to_string()).await;
    (crate::CuttableLink::on(front, listen), broker)
}

/// Waits until something accepts connections at `addr`, failing the caller after `patience`.
pub async fn wait_until_listening(addr: SocketAddr, what: &str, patience: Duration) {
    let started = Instant::now();
    while tokio::net::TcpStream::connect(addr).await.is_err() {
        assert!(
            started.elapsed() < patience,
            "{what} did not listen at {addr}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
