//! The publisher and the poller against a real Kafka-protocol broker (tansu, started by
//! `tests/services.sh`), each test on a topic of its own.

use aws_lambda_events::event::kafka::KafkaEvent;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use domain::ports::EventPublisher;
use domain::testing::{sample_items, user};
use domain::{Cart, CartEvent, CartId, Currency, EventType, Quantity};
use kafka::{KafkaPublisher, Poller};
use std::time::{Duration, Instant};

fn brokers() -> Vec<String> {
    let brokers = std::env::var("KAFKA_BROKERS").unwrap_or_else(|_| {
        panic!(
            "KAFKA_BROKERS is not set: run the tests through tests/services.sh (tests/run.sh does)"
        )
    });
    brokers.split(',').map(str::to_owned).collect()
}

async fn fresh_topic(client: &rskafka::client::Client) -> String {
    let topic = format!("cart-events-{}", uuid::Uuid::new_v4());
    client
        .controller_client()
        .unwrap_or_else(|e| panic!("{e}"))
        .create_topic(&topic, 3, 1, 5_000)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    topic
}

/// `count` successive events of one new cart: created, then an add per version.
fn events_of_one_cart(count: usize) -> Vec<CartEvent> {
    let alice = user("alice");
    let mut cart = Cart::new(
        CartId::new(),
        alice.clone(),
        Currency::DEFAULT,
        chrono::Utc::now(),
    );
    let mut events = vec![CartEvent::new(EventType::CartCreated, &cart, &alice, &[])];
    while events.len() < count {
        let one = Quantity::try_from(1u32).unwrap_or_else(|e| panic!("{e}"));
        cart =
            domain::commands::add_item(&cart, &alice, &sample_items()[0], one, chrono::Utc::now())
                .unwrap_or_else(|e| panic!("{e}"));
        events.push(CartEvent::new(EventType::CartItemAdded, &cart, &alice, &[]));
    }
    events
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn published_events_reach_the_poller_keyed_and_in_order_per_cart() {
    let client = kafka::connect(brokers()).await.unwrap();
    let topic = fresh_topic(&client).await;
    let publisher = KafkaPublisher::connect(&client, &topic).await.unwrap();
    let poller = Poller::connect(&client, &topic).await.unwrap();
    let (batches, mut received) = tokio::sync::mpsc::unbounded_channel::<KafkaEvent>();
    let polling = tokio::spawn(poller.run(move |batch| {
        let _ = batches.send(batch);
        std::future::ready(())
    }));

    let (first, second) = (events_of_one_cart(5), events_of_one_cart(5));
    for (a, b) in first.iter().zip(&second) {
        publisher.publish(a).await.unwrap();
        publisher.publish(b).await.unwrap();
    }

    let mut seen: Vec<(String, CartEvent)> = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(15);
    while seen.len() < 10 && Instant::now() < deadline {
        let Ok(Some(batch)) = tokio::time::timeout(Duration::from_secs(1), received.recv()).await
        else {
            continue;
        };
        for records in batch.records.into_values() {
            for record in records {
                let key = STANDARD.decode(record.key.unwrap()).unwrap();
                let value = STANDARD.decode(record.value.unwrap()).unwrap();
                seen.push((
                    String::from_utf8(key).unwrap(),
                    serde_json::from_slice(&value).unwrap(),
                ));
            }
        }
    }
    polling.abort();
    assert_eq!(seen.len(), 10, "every event arrives once");
    for cart in [&first, &second] {
        let id = cart[0].cart_id;
        let versions: Vec<u64> = seen
            .iter()
            .filter(|(_, e)| e.cart_id == id)
            .map(|(key, e)| {
                assert_eq!(key, &id.to_string(), "the key is the cart id");
                e.version
            })
            .collect();
        assert_eq!(versions, [1, 2, 3, 4, 5], "a cart's events stay in order");
    }
}

#[tokio::test]
async fn an_unreachable_broker_fails_in_bounded_time() {
    let nothing_listens = {
        let socket = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        socket.local_addr().unwrap().to_string()
    };
    let started = Instant::now();
    let connected = kafka::connect(vec![nothing_listens]).await;
    assert!(connected.is_err());
    assert!(
        started.elapsed() < kafka::CALL_DEADLINE * 3,
        "took {:?}",
        started.elapsed()
    );
}
