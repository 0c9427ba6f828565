//! `republish`: run every minute by an EventBridge schedule, it publishes the events that cart
//! operations saved with their changes and did not publish themselves (the function died between
//! the save and the publish, or the broker and the SQS outbox were both down). See
//! `domain::unpublished` for the transactional outbox it completes.
//!
//! A pass that cannot list the carts fails the invocation, so the function's `Errors` metric
//! and its alarm show it; a cart it cannot read or an event the broker refuses stays for the
//! next pass.

use domain::unpublished::Relay;
use serde::Serialize;

/// What the invocation answers (and logs): how much it relayed.
#[derive(Debug, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct Report {
    /// Carts whose record was read.
    pub carts: usize,
    /// Events published.
    pub published: usize,
    /// Events the publisher refused (or sent to the SQS outbox, not the topic).
    pub failed: usize,
    /// Events that no longer decode, dropped with an error in the log.
    pub undecodable: usize,
}

/// One pass of `relay`.
pub async fn handle(relay: &Relay) -> Result<Report, domain::ports::StoreError> {
    let relayed = relay.run_once().await?;
    Ok(Report {
        carts: relayed.carts,
        published: relayed.published,
        failed: relayed.failed,
        undecodable: relayed.undecodable,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use domain::memory::{MemoryCartStore, RecordingPublisher};
    use domain::ports::CartStore;
    use domain::testing::created_event;
    use std::sync::Arc;

    #[tokio::test]
    async fn a_pass_publishes_what_a_crashed_operation_left_and_reports_it() {
        let store = Arc::new(MemoryCartStore::default());
        let events = Arc::new(RecordingPublisher::default());
        let event = created_event();
        let mut cart = domain::Cart::new(
            event.cart_id,
            event.actor.clone(),
            domain::Currency::DEFAULT,
            domain::service::now(),
        );
        cart.unpublished
            .push(&event, domain::service::now())
            .unwrap();
        store.save(None, &cart).await.unwrap();
        let relay = Relay::new(store, events.clone(), std::time::Duration::ZERO);
        let report = handle(&relay).await.unwrap();
        assert_eq!(
            report,
            Report {
                carts: 1,
                published: 1,
                failed: 0,
                undecodable: 0
            }
        );
        assert_eq!(events.events()[0].event_id, event.event_id);
    }
}
