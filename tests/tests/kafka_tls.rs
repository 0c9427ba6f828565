//! The Kafka adapter's TLS path against a real broker: tansu (from `tests/services.sh`), which
//! has no TLS listener of its own, behind a TLS front with a certificate from a CA made in the
//! test, and advertising the front by a host name as MSK advertises its brokers. A function
//! configured with `KAFKA_AUTH=tls` and the CA in `KAFKA_TLS_CA_FILE` creates its topic,
//! publishes an event and reads it back; one that does not trust the CA, or speaks plaintext,
//! gets nowhere. The IAM signature on top of TLS (`KAFKA_AUTH=iam`) is checked by no local
//! broker: `kafka::msk_iam` tests the token it signs.

use domain::ports::EventPublisher;
use std::net::SocketAddr;
use std::time::Duration;

/// The name the broker's certificate carries and the broker advertises.
const BROKER_NAME: &str = "localhost";

/// A broker of the test's own behind a TLS front; the process, the front's port and the CA file.
async fn broker_behind_tls() -> (tokio::process::Child, u16, std::path::PathBuf) {
    let ca = testca::TestCa::new().expect("a CA");
    let dir = std::env::temp_dir().join(format!("kafka-tls-{}", uuid::Uuid::new_v4()));
    let ca_file = ca.write_pem(&dir).expect("the CA file");
    let broker: SocketAddr = ([127, 0, 0, 1], tests::broker::free_port()).into();
    let certificate = ca.server_config(&[BROKER_NAME]).expect("a certificate");
    let front = testca::tls_front(broker, certificate)
        .await
        .expect("the TLS front");
    let child = tests::broker::tansu(broker, &format!("{BROKER_NAME}:{}", front.port())).await;
    (child, front.port(), ca_file)
}

fn config(pairs: &[(&str, String)]) -> wiring::Config {
    wiring::Config::from_settings(&|name| {
        pairs
            .iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.clone())
    })
    .expect("a config")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_function_on_kafka_over_tls_trusting_the_ca_publishes_and_others_cannot_connect() {
    let (_broker, port, ca_file) = broker_behind_tls().await;
    let brokers = format!("{BROKER_NAME}:{port}");
    let topic = format!("cart-events-{}", uuid::Uuid::new_v4());
    let tls = config(&[
        ("KAFKA_BROKERS", brokers.clone()),
        ("KAFKA_AUTH", "tls".into()),
        ("KAFKA_TLS_CA_FILE", ca_file.to_string_lossy().into_owned()),
        ("EVENTS_TOPIC", topic.clone()),
    ]);
    let client = wiring::kafka_client(&tls)
        .await
        .expect("a TLS connection")
        .expect("brokers are configured");
    let created = kafka::topics::ensure(&client, &topic, 3, 1)
        .await
        .expect("the topic");
    assert_eq!(created, kafka::topics::Ensured::Created);
    // The poller reads what comes after it connects (as a trigger at LATEST does).
    let poller = kafka::Poller::connect(&client, &topic)
        .await
        .expect("a poller");
    let (batches, mut received) = tokio::sync::mpsc::unbounded_channel();
    let polling = tokio::spawn(poller.run(move |batch| {
        let _ = batches.send(batch);
        std::future::ready(())
    }));
    let publisher = wiring::kafka_publisher(&tls)
        .await
        .expect("a publisher")
        .expect("brokers are configured");
    let event = domain::testing::created_event();
    publisher.publish(&event).await.expect("published over TLS");

    let batch = tokio::time::timeout(Duration::from_secs(15), received.recv())
        .await
        .expect("the event comes back")
        .expect("the poller runs");
    polling.abort();
    let records: Vec<_> = batch.records.into_values().flatten().collect();
    let read = cart_id_of(&records[0]);
    assert_eq!(read, event.cart_id.to_string());

    for (what, settings) in [
        (
            "the system's roots, which do not hold the test CA",
            vec![("KAFKA_AUTH", "tls".to_owned())],
        ),
        (
            "plaintext to a TLS listener",
            vec![("KAFKA_AUTH", "none".to_owned())],
        ),
    ] {
        let mut pairs = vec![("KAFKA_BROKERS", brokers.clone())];
        pairs.extend(settings);
        let refused = wiring::kafka_client(&config(&pairs)).await;
        assert!(refused.is_err(), "{what} connected");
    }
    let _ = std::fs::remove_file(ca_file);
}

/// The cart id of a record's JSON value (base64, as MSK hands records to a function).
fn cart_id_of(record: &aws_lambda_events::event::kafka::KafkaRecord) -> String {
    use base64::Engine;
    let value = record.value.as_deref().expect("a value");
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(value)
        .expect("base64");
    let json: serde_json::Value = serde_json::from_slice(&bytes).expect("JSON");
    json["cartId"].as_str().expect("a cart id").to_owned()
}
