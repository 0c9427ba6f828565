//! The local stack: the whole product in one process. One HTTP server on 127.0.0.1 plays API
//! Gateway: it runs the same authorizer the Lambda runs, turns each request into the same REST
//! proxy event, and hands it to the same handler function the operation's Lambda runs, on the
//! embedded store and the in-process event bus, or on real servers named in the environment
//! (see `Backends`).

mod backends;
mod config;
mod connections_api;
mod dev;
mod dispatch;
mod gateway;
mod presence;
mod push;
mod relay;
mod republish;
mod server;
mod sockets;
mod web;
mod websocket;

pub use backends::{BackendError, Backends};
pub use config::{Config, ConfigError};
pub use server::{LocalStack, StartError};
pub use websocket::WebSocketQuotas;
