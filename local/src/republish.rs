//! The local stand-in for the scheduled `republish` function: every second, the transactional
//! outbox's relay publishes the events that operations saved with their changes and did not
//! publish themselves (they died, or the broker and the SQS outbox were both down).

use domain::unpublished::Relay;
use std::time::Duration;

/// How long an event is left to the operation that saved it before the relay sends it.
pub const GRACE: Duration = Duration::from_secs(2);

/// How often the relay looks.
const EVERY: Duration = Duration::from_secs(1);

/// Runs `relay` every second until the future is dropped.
pub async fn run(relay: Relay) {
    let mut ticks = tokio::time::interval(EVERY);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        if let Err(e) = relay.run_once().await {
            tracing::warn!(error = %e, "the relay cannot list carts with unpublished events; it tries again");
        }
    }
}
