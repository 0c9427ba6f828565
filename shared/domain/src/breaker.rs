//! Circuit breakers around the dependencies a request waits on (the item catalog, the event
//! publisher): after repeated failures the breaker opens and calls fail at once, without
//! waiting out a dead server's timeouts; after a pause it lets one call through (half-open) to
//! see whether the dependency is back. Each warm instance keeps its own state: instances learn
//! separately, and none waits on another.
//!
//! ```text
//! closed --(`failures` in a row, timeouts included)--> open --(`open_for` passes)--> half-open
//! half-open --(the probe succeeds)--> closed;  half-open --(the probe fails)--> open
//! ```

use crate::event::CartEvent;
use crate::ids::ItemId;
use crate::item::Item;
use crate::metrics::{self, Metric};
use crate::ports::{Catalog, EventPublisher, PublishError, StoreError};
use async_trait::async_trait;
use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// When a breaker opens, how long it stays open, and how long one call may take.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BreakerSettings {
    /// Failures in a row that open the breaker.
    pub failures: u32,
    /// How long it stays open before letting a probe through.
    pub open_for: Duration,
    /// A call taking longer counts as a failure and is abandoned.
    pub call_timeout: Duration,
}

/// The item catalog: a healthy one answers in milliseconds, so a second is already a failure.
pub const CATALOG: BreakerSettings = BreakerSettings {
    failures: 5,
    open_for: Duration::from_secs(10),
    call_timeout: Duration::from_secs(1),
};

/// The event publisher (Kafka): its calls are already bounded at three seconds; three such
/// failures send every event straight to the outbox for the next ten seconds.
pub const EVENTS: BreakerSettings = BreakerSettings {
    failures: 3,
    open_for: Duration::from_secs(10),
    call_timeout: Duration::from_secs(3),
};

/// Where a breaker is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BreakerState {
    /// Calls go through; `0..failures` of them failed in a row.
    Closed,
    /// Calls fail at once.
    Open,
    /// One probe is through; the others fail at once until it answers.
    HalfOpen,
}

#[derive(Clone, Copy, Debug)]
enum State {
    Closed { failures: u32 },
    Open { until: Instant },
    HalfOpen,
}

/// One dependency's breaker.
pub struct CircuitBreaker {
    dependency: &'static str,
    settings: BreakerSettings,
    state: Mutex<State>,
}

/// A call the breaker let through, and whether it was the half-open probe.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Admitted {
    Normally,
    AsProbe,
}

impl CircuitBreaker {
    /// A closed breaker for `dependency` (named in errors and logs).
    pub fn new(dependency: &'static str, settings: BreakerSettings) -> Self {
        Self {
            dependency,
            settings,
            state: Mutex::new(State::Closed { failures: 0 }),
        }
    }

    /// Where the breaker is at `now` (an open breaker whose pause is over reads half-open: the
    /// next call is its probe).
    pub fn state(&self, now: Instant) -> BreakerState {
        match *self.lock() {
            State::Closed { .. } => BreakerState::Closed,
            State::Open { until } if now < until => BreakerState::Open,
            State::Open { .. } | State::HalfOpen => BreakerState::HalfOpen,
        }
    }

    /// Runs `call` unless the breaker is open, bounded by the call timeout, and learns from its
    /// outcome. `is_failure` says which errors are the dependency's fault. An open breaker
    /// answers [`StoreError::CircuitOpen`] at once.
    pub async fn call<T, E>(
        &self,
        call: impl Future<Output = Result<T, E>>,
        is_failure: impl Fn(&E) -> bool,
        timed_out: impl FnOnce(Duration) -> E,
    ) -> Result<T, CallError<E>> {
        let admitted = self
            .admit(Instant::now())
            .map_err(|retry_after| CallError::Open(self.open_error(retry_after)))?;
        // A call abandoned halfway (its request cancelled) counts as a failure, so a probe that
        // never answers cannot leave the breaker half-open for ever.
        let mut outcome = Outcome {
            breaker: self,
            admitted,
            succeeded: false,
        };
        let result = match tokio::time::timeout(self.settings.call_timeout, call).await {
            Ok(result) => result,
            Err(_) => Err(timed_out(self.settings.call_timeout)),
        };
        outcome.succeeded = match &result {
            Ok(_) => true,
            Err(e) => !is_failure(e),
        };
        drop(outcome);
        result.map_err(CallError::Failed)
    }

    fn open_error(&self, retry_after: Duration) -> StoreError {
        StoreError::CircuitOpen {
            dependency: self.dependency,
            retry_after,
        }
    }

    /// Lets a call through at `now`, or says how long the breaker stays open.
    fn admit(&self, now: Instant) -> Result<Admitted, Duration> {
        let mut state = self.lock();
        match *state {
            State::Closed { .. } => Ok(Admitted::Normally),
            State::Open { until } if now < until => Err(until - now),
            State::Open { .. } => {
                *state = State::HalfOpen;
                tracing::info!(dependency = self.dependency, "circuit half-open: probing");
                Ok(Admitted::AsProbe)
            }
            // The probe is still out: everyone else waits for its answer.
            State::HalfOpen => Err(Duration::from_secs(1)),
        }
    }

    /// Learns from a call's outcome at `now`.
    fn record(&self, admitted: Admitted, succeeded: bool, now: Instant) {
        let mut state = self.lock();
        let open = State::Open {
            until: now + self.settings.open_for,
        };
        *state = match (*state, succeeded) {
            (State::HalfOpen, true) if admitted == Admitted::AsProbe => {
                metrics::count_for(Metric::BreakerClosed, Some(self.dependency), 1);
                tracing::info!(
                    dependency = self.dependency,
                    "circuit closed: the probe answered"
                );
                State::Closed { failures: 0 }
            }
            (State::HalfOpen, false) if admitted == Admitted::AsProbe => {
                metrics::count_for(Metric::BreakerOpened, Some(self.dependency), 1);
                tracing::warn!(
                    dependency = self.dependency,
                    "circuit open again: the probe failed"
                );
                open
            }
            (State::Closed { .. }, true) => State::Closed { failures: 0 },
            (State::Closed { failures }, false) if failures + 1 >= self.settings.failures => {
                metrics::count_for(Metric::BreakerOpened, Some(self.dependency), 1);
                tracing::warn!(
                    dependency = self.dependency,
                    failures = failures + 1,
                    "circuit open: calls fail fast for {:?}",
                    self.settings.open_for
                );
                open
            }
            (State::Closed { failures }, false) => State::Closed {
                failures: failures + 1,
            },
            // A call let through before the breaker opened, answering late: the breaker has
            // already decided.
            (other, _) => other,
        };
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// Why a call through a breaker failed.
#[derive(Debug)]
pub enum CallError<E> {
    /// The breaker is open; the call was not made.
    Open(StoreError),
    /// The call was made and failed (or timed out).
    Failed(E),
}

/// Records a call's outcome when dropped, whether the call finished or was abandoned.
struct Outcome<'b> {
    breaker: &'b CircuitBreaker,
    admitted: Admitted,
    succeeded: bool,
}

impl Drop for Outcome<'_> {
    fn drop(&mut self) {
        self.breaker
            .record(self.admitted, self.succeeded, Instant::now());
    }
}

/// The item catalog behind a breaker: store failures and slow answers count; an item that is
/// not there is an answer.
pub struct GuardedCatalog {
    inner: Arc<dyn Catalog>,
    breaker: CircuitBreaker,
}

impl GuardedCatalog {
    /// `inner`, guarded with `settings`.
    pub fn new(inner: Arc<dyn Catalog>, settings: BreakerSettings) -> Self {
        Self {
            inner,
            breaker: CircuitBreaker::new("the item catalog", settings),
        }
    }

    /// The breaker, to see its state.
    pub fn breaker(&self) -> &CircuitBreaker {
        &self.breaker
    }

    async fn guarded<T>(
        &self,
        call: impl Future<Output = Result<T, StoreError>>,
    ) -> Result<T, StoreError> {
        self.breaker
            .call(
                call,
                |e| !e.is_conflict(),
                |after| StoreError::unavailable(format!("the item catalog took over {after:?}")),
            )
            .await
            .map_err(|e| match e {
                CallError::Open(open) | CallError::Failed(open) => open,
            })
    }
}

#[async_trait]
impl Catalog for GuardedCatalog {
    async fn item(&self, id: &ItemId) -> Result<Option<Item>, StoreError> {
        self.guarded(self.inner.item(id)).await
    }

    async fn items(&self, ids: &[ItemId]) -> Result<HashMap<ItemId, Item>, StoreError> {
        self.guarded(self.inner.items(ids)).await
    }

    async fn list(&self, after: Option<&ItemId>, limit: usize) -> Result<Vec<Item>, StoreError> {
        self.guarded(self.inner.list(after, limit)).await
    }

    async fn set_stock(&self, id: &ItemId, stock: u32) -> Result<Option<Item>, StoreError> {
        self.guarded(self.inner.set_stock(id, stock)).await
    }

    async fn put(&self, item: &Item) -> Result<(), StoreError> {
        self.guarded(self.inner.put(item)).await
    }
}

/// The event publisher behind a breaker: while it is open, publishing fails at once, so the
/// outbox in front of it takes the event without waiting out the broker's timeouts.
pub struct GuardedPublisher {
    inner: Arc<dyn EventPublisher>,
    breaker: CircuitBreaker,
}

impl GuardedPublisher {
    /// `inner`, guarded with `settings`.
    pub fn new(inner: Arc<dyn EventPublisher>, settings: BreakerSettings) -> Self {
        Self {
            inner,
            breaker: CircuitBreaker::new("the event broker", settings),
        }
    }

    /// The breaker, to see its state.
    pub fn breaker(&self) -> &CircuitBreaker {
        &self.breaker
    }
}

#[async_trait]
impl EventPublisher for GuardedPublisher {
    async fn publish(&self, event: &CartEvent) -> Result<(), PublishError> {
        self.breaker
            .call(
                self.inner.publish(event),
                |_| true,
                |after| PublishError(format!("the broker took over {after:?}").into()),
            )
            .await
            .map_err(|e| match e {
                CallError::Open(open) => PublishError(open.into()),
                CallError::Failed(failed) => failed,
            })
    }
}

#[cfg(test)]
mod tests;
