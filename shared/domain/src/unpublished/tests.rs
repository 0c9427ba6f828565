//! The outbox in the cart's record, on the in-memory store.

use super::*;
use crate::memory::{MemoryCartStore, RecordingPublisher};
use crate::ports::{Delivery, EventPublisher};
use crate::testing::{created_event, unpublished_events_contract};

#[tokio::test]
async fn the_in_memory_store_keeps_the_unpublished_events_contract() {
    unpublished_events_contract(Arc::new(MemoryCartStore::default())).await;
}

#[test]
fn a_record_refuses_events_past_its_budget() {
    let mut unpublished = Unpublished::default();
    let event = created_event();
    let size = serde_json::to_string(&event).unwrap().len();
    for _ in 0..MAX_UNPUBLISHED_BYTES / size {
        unpublished.push(&event, Utc::now()).unwrap();
    }
    assert!(unpublished.push(&event, Utc::now()).is_err());
}

#[tokio::test]
async fn the_relay_leaves_an_event_to_its_publisher_for_the_grace_period() {
    let store = Arc::new(MemoryCartStore::default());
    let events = Arc::new(RecordingPublisher::default());
    let event = created_event();
    let mut cart = Cart::new(
        event.cart_id,
        event.actor.clone(),
        crate::Currency::DEFAULT,
        Utc::now(),
    );
    cart.unpublished.push(&event, Utc::now()).unwrap();
    store.save(None, &cart).await.unwrap();
    let relay = Relay::new(store.clone(), events.clone(), Duration::from_secs(60));
    assert_eq!(relay.run_once().await.unwrap().published, 0);
    let relay = Relay::new(store.clone(), events.clone(), Duration::ZERO);
    assert_eq!(relay.run_once().await.unwrap().published, 1);
    assert_eq!(events.events().len(), 1);
}

#[tokio::test]
async fn a_change_to_a_record_full_of_events_publishes_them_first_rather_than_refuse() {
    use crate::memory::MemoryCatalog;
    use crate::testing::{sample_items, user};
    let store = Arc::new(MemoryCartStore::default());
    let events = Arc::new(RecordingPublisher::default());
    let alice = user("alice");
    let mut cart = Cart::new(
        crate::CartId::new(),
        alice.clone(),
        crate::Currency::DEFAULT,
        Utc::now(),
    );
    // Events another process published and whose settles were undone: the record is full.
    let mut carried = 0;
    let mut earlier = CartEvent::new(crate::EventType::CartCreated, &cart, &alice, &[]);
    let small = earlier.members.clone();
    earlier.members = (0..500).map(|i| user(&format!("member-{i}"))).collect();
    // Big events until one no longer fits, then small ones until not even those do.
    for members in [earlier.members.clone(), small] {
        earlier.members = members;
        while cart.unpublished.push(&earlier, Utc::now()).is_ok() {
            carried += 1;
            earlier.version += 1;
            earlier.event_id = uuid::Uuid::new_v4();
        }
    }
    cart.version = earlier.version;
    store.save(None, &cart).await.unwrap();
    let service = crate::CartService::new(
        store.clone(),
        Arc::new(MemoryCatalog::with(sample_items())),
        events.clone(),
    );
    let one = crate::Quantity::try_from(1u32).unwrap();
    let saved = service
        .add_item(&alice, cart.cart_id, &sample_items()[0].item_id, one)
        .await
        .unwrap();
    let stored = store.load(cart.cart_id).await.unwrap().unwrap();
    assert!(
        stored.unpublished.len() <= 1,
        "only the change's own event is carried, until it settles"
    );
    let published: Vec<u64> = events.events().iter().map(|e| e.version).collect();
    let mut expected: Vec<u64> = (1..=carried).collect();
    expected.push(saved.version);
    assert_eq!(
        published, expected,
        "the carried ones first, in order, then its own"
    );
}

/// Sends its first `outboxed` events to an outbox, the rest to the topic, recording the order.
struct OutboxFirst {
    outboxed: std::sync::atomic::AtomicUsize,
    topic: RecordingPublisher,
}

#[async_trait::async_trait]
impl EventPublisher for OutboxFirst {
    async fn publish(&self, event: &CartEvent) -> Result<(), crate::ports::PublishError> {
        self.deliver(event).await.map(|_| ())
    }

    async fn deliver(&self, event: &CartEvent) -> Result<Delivery, crate::ports::PublishError> {
        use std::sync::atomic::Ordering;
        if self
            .outboxed
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .is_ok()
        {
            return Ok(Delivery::Outbox);
        }
        self.topic.publish(event).await.map(|()| Delivery::Topic)
    }
}

#[tokio::test]
async fn an_event_the_outbox_took_stays_and_goes_to_the_topic_before_the_next_change() {
    use crate::testing::{sample_items, user};
    let store = Arc::new(MemoryCartStore::default());
    let events = Arc::new(OutboxFirst {
        outboxed: 1.into(),
        topic: RecordingPublisher::default(),
    });
    let service = crate::CartService::new(
        store.clone(),
        Arc::new(crate::memory::MemoryCatalog::with(sample_items())),
        events.clone(),
    );
    let alice = user("alice");
    let created = service
        .create(&alice, crate::Currency::DEFAULT, &[])
        .await
        .unwrap();
    let kept = store.load(created.cart_id).await.unwrap().unwrap();
    assert!(kept.unpublished.holds(1), "the outbox does not settle it");
    let one = crate::Quantity::try_from(1u32).unwrap();
    service
        .add_item(&alice, created.cart_id, &sample_items()[0].item_id, one)
        .await
        .unwrap();
    let on_topic: Vec<u64> = events.topic.events().iter().map(|e| e.version).collect();
    assert_eq!(on_topic, [1, 2], "the first before the second");
}

#[test]
fn published_here_gives_a_carts_versions_and_forgets_the_oldest_first() {
    let published = PublishedHere::default();
    let (first, second) = (CartId::new(), CartId::new());
    published.note(first, 1);
    published.note(second, 1);
    published.note(first, 2);
    // A resent event is noted twice, and remembered until its second note is forgotten.
    published.note(first, 1);
    assert_eq!(published.of(first), vec![1, 2, 1]);
    assert_eq!(published.of(second), vec![1]);
    assert_eq!(published.of(CartId::new()), Vec::<u64>::new());

    // Filling it up forgets the first cart's first 1, then the second cart's 1, then the
    // first cart's 2; its second 1 stays.
    for version in 0..REMEMBERED as u64 - 2 {
        published.note(CartId::new(), version);
    }
    assert_eq!(published.of(first), vec![2, 1]);
    assert_eq!(published.of(second), Vec::<u64>::new());
    published.note(CartId::new(), 0);
    assert_eq!(published.of(first), vec![1]);
    let seen = published.0.lock().unwrap();
    let by_cart: usize = seen.by_cart.values().map(|versions| versions.len()).sum();
    assert_eq!(by_cart, seen.oldest_first.len());
}
