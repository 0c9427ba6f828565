//! The open WebSockets of the local stack, by connection id: what the `@connections` API posts
//! to, and what the WebSocket emulation registers and removes.

use domain::ConnectionId;
use std::collections::HashMap;
use std::sync::Mutex;
use tokio::sync::mpsc;

/// Something to do on a socket from outside its task.
#[derive(Debug)]
pub enum Outbound {
    /// Send these bytes as posted: a text frame when they are UTF-8 (every message the product
    /// sends), a binary frame otherwise, as API Gateway does.
    Data(bytes::Bytes),
    /// Close the socket (`DELETE @connections/{id}`).
    Close,
}

/// What the `@connections` API reports about a socket.
#[derive(Clone, Debug)]
pub struct SocketInfo {
    /// When it opened.
    pub connected_at: chrono::DateTime<chrono::Utc>,
    /// Where from.
    pub source_ip: String,
}

struct Socket {
    sender: mpsc::UnboundedSender<Outbound>,
    info: SocketInfo,
}

/// Every open socket.
#[derive(Default)]
pub struct Sockets {
    open: Mutex<HashMap<ConnectionId, Socket>>,
}

impl Sockets {
    fn open(&self) -> std::sync::MutexGuard<'_, HashMap<ConnectionId, Socket>> {
        // Each critical section is one map operation: a poisoned map is still consistent.
        self.open
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Adds a socket; what is sent to `sender` goes out on it.
    pub fn insert(
        &self,
        id: ConnectionId,
        sender: mpsc::UnboundedSender<Outbound>,
        info: SocketInfo,
    ) {
        self.open().insert(id, Socket { sender, info });
    }

    /// Removes a socket.
    pub fn remove(&self, id: &ConnectionId) {
        self.open().remove(id);
    }

    /// Queues `outbound` on the socket; false when there is no such socket (API Gateway's 410).
    pub fn send(&self, id: &ConnectionId, outbound: Outbound) -> bool {
        self.open()
            .get(id)
            .is_some_and(|socket| socket.sender.send(outbound).is_ok())
    }

    /// The socket's details, if it is open.
    pub fn info(&self, id: &ConnectionId) -> Option<SocketInfo> {
        self.open().get(id).map(|socket| socket.info.clone())
    }

    /// Asks every open socket to close.
    pub fn close_all(&self) {
        for socket in self.open().values() {
            let _ = socket.sender.send(Outbound::Close);
        }
    }

    /// How many sockets are open.
    pub fn len(&self) -> usize {
        self.open().len()
    }
}
