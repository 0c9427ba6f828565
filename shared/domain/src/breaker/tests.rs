//! Every state change of a breaker, driven through the catalog and publisher it guards.

use super::*;
use crate::memory::{MemoryCatalog, RecordingPublisher};
use crate::outbox::PublishWithOutbox;
use crate::testing::created_event;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

const QUICK: BreakerSettings = BreakerSettings {
    failures: 3,
    open_for: Duration::from_millis(100),
    call_timeout: Duration::from_millis(100),
};

/// A catalog that fails, answers slowly or answers, as the test says, counting the calls that
/// reach it.
#[derive(Default)]
struct Flaky {
    down: AtomicBool,
    slow: AtomicBool,
    calls: AtomicUsize,
    answers: MemoryCatalog,
}

impl Flaky {
    fn calls(&self) -> usize {
        self.calls.load(Ordering::SeqCst)
    }
}

#[async_trait]
impl Catalog for Flaky {
    async fn item(&self, id: &ItemId) -> Result<Option<Item>, StoreError> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        if self.slow.load(Ordering::SeqCst) {
            tokio::time::sleep(Duration::from_secs(3600)).await;
        }
        if self.down.load(Ordering::SeqCst) {
            return Err(StoreError::unavailable("connection refused"));
        }
        self.answers.item(id).await
    }

    async fn list(&self, after: Option<&ItemId>, limit: usize) -> Result<Vec<Item>, StoreError> {
        self.answers.list(after, limit).await
    }

    async fn set_stock(&self, id: &ItemId, stock: u32) -> Result<Option<Item>, StoreError> {
        self.answers.set_stock(id, stock).await
    }

    async fn put(&self, item: &Item) -> Result<(), StoreError> {
        self.answers.put(item).await
    }
}

fn guarded() -> (Arc<Flaky>, GuardedCatalog) {
    let flaky = Arc::new(Flaky::default());
    let guarded = GuardedCatalog::new(flaky.clone(), QUICK);
    (flaky, guarded)
}

fn apple() -> ItemId {
    ItemId::parse("apple").unwrap_or_else(|e| panic!("{e}"))
}

/// Fails the catalog until its breaker opens, then waits out the pause: the next call probes.
async fn half_open(flaky: &Flaky, catalog: &GuardedCatalog) {
    flaky.down.store(true, Ordering::SeqCst);
    for _ in 0..QUICK.failures {
        let _ = catalog.item(&apple()).await;
    }
    tokio::time::sleep(QUICK.open_for).await;
}

fn state(catalog: &GuardedCatalog) -> BreakerState {
    catalog.breaker().state(Instant::now())
}

#[tokio::test]
async fn failures_in_a_row_open_the_breaker_and_then_calls_fail_fast_without_reaching_it() {
    let (flaky, catalog) = guarded();
    flaky.down.store(true, Ordering::SeqCst);
    for _ in 0..QUICK.failures - 1 {
        assert!(matches!(
            catalog.item(&apple()).await,
            Err(StoreError::Unavailable(_))
        ));
        assert_eq!(state(&catalog), BreakerState::Closed);
    }
    assert!(catalog.item(&apple()).await.is_err());
    assert_eq!(state(&catalog), BreakerState::Open);

    let reached = flaky.calls();
    let started = Instant::now();
    let refused = catalog.item(&apple()).await;
    assert!(started.elapsed() < Duration::from_millis(10), "fast");
    assert!(
        matches!(refused, Err(StoreError::CircuitOpen { dependency: "the item catalog", retry_after })
            if retry_after <= QUICK.open_for),
        "{refused:?}"
    );
    assert_eq!(flaky.calls(), reached, "the catalog was not called");
}

#[tokio::test]
async fn a_success_resets_the_count_of_failures() {
    let (flaky, catalog) = guarded();
    for _ in 0..5 {
        flaky.down.store(true, Ordering::SeqCst);
        for _ in 0..QUICK.failures - 1 {
            let _ = catalog.item(&apple()).await;
        }
        flaky.down.store(false, Ordering::SeqCst);
        assert!(catalog.item(&apple()).await.is_ok());
    }
    assert_eq!(state(&catalog), BreakerState::Closed);
}

#[tokio::test]
async fn after_its_pause_one_probe_goes_through_and_its_success_closes_the_breaker() {
    let (flaky, catalog) = guarded();
    flaky.down.store(true, Ordering::SeqCst);
    for _ in 0..QUICK.failures {
        let _ = catalog.item(&apple()).await;
    }
    flaky.down.store(false, Ordering::SeqCst);
    tokio::time::sleep(QUICK.open_for).await;
    assert_eq!(state(&catalog), BreakerState::HalfOpen);
    assert_eq!(
        catalog.item(&apple()).await.ok(),
        Some(None),
        "not found is an answer"
    );
    assert_eq!(state(&catalog), BreakerState::Closed);
}

#[tokio::test]
async fn a_failed_probe_opens_the_breaker_again() {
    let (flaky, catalog) = guarded();
    half_open(&flaky, &catalog).await;
    let reached = flaky.calls();
    assert!(matches!(
        catalog.item(&apple()).await,
        Err(StoreError::Unavailable(_))
    ));
    assert_eq!(flaky.calls(), reached + 1, "the probe reached the catalog");
    assert_eq!(state(&catalog), BreakerState::Open);
}

#[tokio::test]
async fn while_the_probe_is_out_other_calls_fail_fast() {
    let (flaky, catalog) = guarded();
    half_open(&flaky, &catalog).await;
    flaky.slow.store(true, Ordering::SeqCst);
    let item = apple();
    let probe = catalog.item(&item);
    let other = async {
        tokio::time::sleep(Duration::from_millis(10)).await;
        catalog.item(&apple()).await
    };
    let (probe, other) = tokio::join!(probe, other);
    assert!(
        matches!(other, Err(StoreError::CircuitOpen { .. })),
        "{other:?}"
    );
    assert!(
        matches!(probe, Err(StoreError::Unavailable(_))),
        "the probe timed out"
    );
    assert_eq!(state(&catalog), BreakerState::Open);
}

#[tokio::test]
async fn a_slow_catalog_is_cut_off_at_the_call_timeout_and_counts_as_failing() {
    let (flaky, catalog) = guarded();
    flaky.slow.store(true, Ordering::SeqCst);
    let started = Instant::now();
    for _ in 0..QUICK.failures {
        assert!(matches!(
            catalog.item(&apple()).await,
            Err(StoreError::Unavailable(_))
        ));
    }
    let waited = started.elapsed();
    assert!(
        waited < QUICK.call_timeout * (QUICK.failures + 1),
        "each call waited about the timeout: {waited:?}"
    );
    assert_eq!(state(&catalog), BreakerState::Open);
}

#[tokio::test]
async fn an_abandoned_probe_counts_as_a_failure_rather_than_holding_the_breaker_half_open() {
    let (flaky, catalog) = guarded();
    half_open(&flaky, &catalog).await;
    flaky.slow.store(true, Ordering::SeqCst);
    let abandoned = tokio::time::timeout(Duration::from_millis(10), catalog.item(&apple())).await;
    assert!(abandoned.is_err());
    assert_eq!(state(&catalog), BreakerState::Open);
}

/// A broker that is down, counting the calls that reach it.
#[derive(Default)]
struct DownBroker {
    calls: AtomicUsize,
}

#[async_trait]
impl EventPublisher for DownBroker {
    async fn publish(&self, _: &CartEvent) -> Result<(), PublishError> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        Err(PublishError("connection refused".into()))
    }
}

#[tokio::test]
async fn an_open_breaker_on_the_broker_sends_events_straight_to_the_outbox() {
    let broker = Arc::new(DownBroker::default());
    let guarded = Arc::new(GuardedPublisher::new(broker.clone(), QUICK));
    let outbox = Arc::new(RecordingPublisher::default());
    let publisher = PublishWithOutbox::new(guarded.clone(), outbox.clone());
    let event = created_event();
    for _ in 0..QUICK.failures {
        assert!(
            publisher.publish(&event).await.is_ok(),
            "the outbox took it"
        );
    }
    assert_eq!(guarded.breaker().state(Instant::now()), BreakerState::Open);
    for _ in 0..10 {
        assert!(publisher.publish(&event).await.is_ok());
    }
    assert_eq!(
        broker.calls.load(Ordering::SeqCst),
        QUICK.failures as usize,
        "no call reached the broker while the breaker was open"
    );
    assert_eq!(
        outbox.events().len(),
        QUICK.failures as usize + 10,
        "every event"
    );
}
