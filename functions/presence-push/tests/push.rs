//! presence-push against the in-memory registry and a recording poster.

use domain::memory::{MemoryConnectionRegistry, RecordingPoster};
use domain::testing::user;
use domain::{CartId, Connection, ConnectionId, ConnectionRegistry};
use presence_push::{Presence, Report, push};
use std::sync::Arc;

async fn viewing(registry: &MemoryConnectionRegistry, id: &str, who: &str, cart: CartId, ago: i64) {
    let id = ConnectionId::parse(id).expect("an id");
    let now = chrono::Utc::now();
    // Opened a minute ago: past the moment a new connection may answer 410.
    let opened = now - chrono::Duration::minutes(1);
    registry
        .register(&Connection::opened(id.clone(), user(who), opened))
        .await
        .expect("the memory registry never fails");
    registry
        .view(&id, Some(cart), now - chrono::Duration::seconds(ago))
        .await
        .expect("the memory registry never fails");
}

fn messages(poster: &RecordingPoster) -> Vec<(String, serde_json::Value)> {
    poster
        .posts()
        .into_iter()
        .map(|(id, body)| (id.to_string(), serde_json::from_str(&body).expect("JSON")))
        .collect()
}

#[tokio::test]
async fn each_viewer_gets_one_message_per_batch_however_many_notices_name_the_cart() {
    let (registry, poster) = (
        Arc::new(MemoryConnectionRegistry::default()),
        Arc::new(RecordingPoster::default()),
    );
    let (cart, elsewhere) = (CartId::new(), CartId::new());
    viewing(&registry, "dana=", "dana", cart, 0).await;
    viewing(&registry, "erin=", "erin", cart, 0).await;
    viewing(
        &registry,
        "ghost=",
        "finn",
        cart,
        domain::connection::PRESENCE_TTL_SECS + 5,
    )
    .await;
    viewing(&registry, "gwen=", "gwen", elsewhere, 0).await;
    let presence = Presence::new(registry.clone(), poster.clone());

    let report = push(&presence, [cart, cart, cart]).await.expect("pushed");
    assert_eq!(
        report,
        Report {
            carts: 1,
            posted: 2,
            ..Report::default()
        }
    );
    let mut sent = messages(&poster);
    sent.sort_by(|a, b| a.0.cmp(&b.0));
    let expected =
        serde_json::json!({"type": "presence", "cartId": cart, "viewers": ["dana", "erin"]});
    assert_eq!(
        sent,
        [
            ("dana=".to_owned(), expected.clone()),
            ("erin=".to_owned(), expected)
        ],
        "the viewer not seen within the TTL is neither listed nor posted to, nor is another cart's"
    );

    let again = push(&presence, [cart]).await.expect("pushed");
    assert_eq!(again.posted, 2, "each batch computes presence afresh");
}

#[tokio::test]
async fn a_departure_reaches_who_stays_and_a_gone_connection_is_forgotten() {
    let (registry, poster) = (
        Arc::new(MemoryConnectionRegistry::default()),
        Arc::new(RecordingPoster::default()),
    );
    let cart = CartId::new();
    viewing(&registry, "dana=", "dana", cart, 0).await;
    viewing(&registry, "erin=", "erin", cart, 0).await;
    let presence = Presence::new(registry.clone(), poster.clone());
    push(&presence, [cart]).await.expect("pushed");

    let erin = ConnectionId::parse("erin=").expect("an id");
    registry
        .view(&erin, None, chrono::Utc::now())
        .await
        .expect("the memory registry never fails");
    let dana = ConnectionId::parse("dana=").expect("an id");
    viewing(&registry, "dana2=", "dana", cart, 0).await;
    poster.close(&dana);
    let report = push(&presence, [cart]).await.expect("pushed");
    assert_eq!((report.posted, report.unreached), (1, 1));
    let (to, message) = messages(&poster).pop().expect("a message");
    assert_eq!(to, "dana2=");
    assert_eq!(message["viewers"], serde_json::json!(["dana"]));
    assert_eq!(
        registry.connection(&dana).await.ok().flatten(),
        None,
        "forgotten"
    );
}

#[test]
fn notices_that_name_no_cart_are_skipped() {
    let cart = CartId::new();
    let batch: aws_lambda_events::event::sqs::SqsEvent =
        serde_json::from_value(serde_json::json!({
            "Records": [{"body": cart.to_string()}, {"body": "not a cart"}]
        }))
        .expect("an SQS event");
    assert_eq!(presence_push::carts_of(&batch), [cart]);
}
