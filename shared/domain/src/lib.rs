//! The shared-cart domain: what a cart is, who may do what to it, the commands that change it and
//! the events those changes emit. It knows no cloud and no driver: storage, the item catalog and
//! the event transport are ports (`ports`), injected as `Arc<dyn Port>`, with in-memory
//! implementations in `memory` for tests.

pub mod access;
pub mod analytics;
pub mod breaker;
pub mod cart;
pub mod commands;
pub mod connection;
pub mod demo;
pub mod directory;
pub mod error;
pub mod event;
pub mod idempotency;
pub mod ids;
pub mod inventory;
pub mod invite;
pub mod item;
pub mod limits;
pub mod memory;
pub mod metrics;
pub mod money;
pub mod notification;
pub mod order;
pub mod outbox;
pub mod ports;
pub mod quantity;
pub mod service;
#[cfg(any(test, feature = "testing"))]
pub mod testing;
pub mod unpublished;

pub use cart::{Cart, CartView, CheckoutLock, Line, Member, Role, Status, WhoMayLock};
pub use connection::{
    Connection, ConnectionId, ConnectionPoster, ConnectionRegistry, PostError, PresenceNotices,
    present_users,
};
pub use error::{CartError, Shortage, ValidationError};
pub use event::{CartEvent, EventType};
pub use ids::{CartId, ItemId, UserId};
pub use item::Item;
pub use money::{Currency, Money};
pub use order::OrderRequest;
pub use quantity::Quantity;
pub use service::{CartService, ItemService};
