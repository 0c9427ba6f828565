//! The WebSocket protocol, shared by the functions that speak it (`ws-message`, `sync-push`)
//! and the local stack: client actions in, server messages out, each within API Gateway's
//! 128 KB message limit. The JSON Schema is `infra/websocket-messages.schema.json`.

mod client;
mod server;

pub use client::{ClientMessage, MAX_CLIENT_MESSAGE_BYTES, ProtocolError};
pub use server::{MAX_MESSAGE_BYTES, PushMessages, ServerMessage, push_message_for};
