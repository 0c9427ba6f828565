//! sync-push's handler, fed its sample MSK batch (two cart events around a poison record).

use aws_lambda_events::event::kafka::KafkaEvent;
use domain::memory::{MemoryConnectionRegistry, RecordingPoster};
use domain::testing::user;
use domain::{Connection, ConnectionId, ConnectionRegistry};
use std::sync::Arc;
use sync_push::{Push, Report};

fn sample_batch() -> KafkaEvent {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../events/sync-push.json");
    serde_json::from_str(&std::fs::read_to_string(path).expect("the sample event"))
        .expect("an MSK event")
}

/// A batch of the sample cart's first event at each of `versions`, in that order.
fn batch_of(versions: &[u64]) -> KafkaEvent {
    use base64::Engine;
    let code = base64::engine::general_purpose::STANDARD;
    let mut batch = sample_batch();
    let records = batch.records.values_mut().next().expect("one partition");
    let template = records[0].clone();
    let value = template
        .value
        .as_deref()
        .expect("the sample's first record has a value");
    let json = code.decode(value).expect("base64");
    let event: serde_json::Value = serde_json::from_slice(&json).expect("a cart event");
    *records = versions
        .iter()
        .zip(1..)
        .map(|(&version, offset)| {
            let mut event = event.clone();
            event["version"] = version.into();
            let mut record = template.clone();
            record.offset = offset;
            record.value = Some(code.encode(event.to_string()));
            record
        })
        .collect();
    batch
}

/// The versions `poster` delivered, in delivery order.
fn posted_versions(poster: &RecordingPoster) -> Vec<u64> {
    poster
        .posts()
        .iter()
        .map(|(_, m)| {
            serde_json::from_str::<serde_json::Value>(m).expect("a push is JSON")["version"]
                .as_u64()
                .expect("a push names its version")
        })
        .collect()
}

/// The connections the registry still has for bob.
async fn bobs_connections(registry: &MemoryConnectionRegistry) -> Vec<ConnectionId> {
    registry
        .connections_of(&user("bob"))
        .await
        .expect("the memory registry answers")
        .into_iter()
        .map(|c| c.connection_id)
        .collect()
}

fn id(raw: &str) -> ConnectionId {
    ConnectionId::parse(raw).expect("a connection id")
}

async fn push_with(
    connections: &[(&str, &str)],
) -> (Push, Arc<MemoryConnectionRegistry>, Arc<RecordingPoster>) {
    let registry = Arc::new(MemoryConnectionRegistry::default());
    // Opened a minute ago: past the moment a new connection may answer 410.
    let opened = chrono::Utc::now() - chrono::Duration::minutes(1);
    for (connection, owner) in connections {
        let connection = Connection::opened(id(connection), user(owner), opened);
        registry
            .register(&connection)
            .await
            .expect("the memory registry never fails");
    }
    let poster = Arc::new(RecordingPoster::default());
    (
        Push::new(registry.clone(), poster.clone()),
        registry,
        poster,
    )
}

#[tokio::test]
async fn every_connection_of_every_member_gets_both_changes_in_order_past_a_poison_record() {
    let (push, _, poster) = push_with(&[
        ("AlicePhone=", "alice"),
        ("AliceLaptop=", "alice"),
        ("Bob=", "bob"),
        ("Eve=", "eve"),
    ])
    .await;
    let report = sync_push::handle(&push, sample_batch()).await.unwrap();
    assert_eq!(
        report,
        Report {
            records: 3,
            undecodable: 1,
            repeated: 0,
            waited: 0,
            posted: 6,
            gone: 0,
            retried: 0,
            failed: 0
        }
    );
    for connection in ["AlicePhone=", "AliceLaptop=", "Bob="] {
        let versions: Vec<u64> = poster
            .posts()
            .iter()
            .filter(|(c, _)| c == &id(connection))
            .map(|(_, m)| {
                serde_json::from_str::<serde_json::Value>(m).unwrap()["version"]
                    .as_u64()
                    .unwrap()
            })
            .collect();
        assert_eq!(
            versions,
            [4, 5],
            "{connection} sees each version once, in order"
        );
    }
    assert!(
        poster.posts().iter().all(|(c, _)| c != &id("Eve=")),
        "non-members get nothing"
    );
}

#[tokio::test]
async fn a_gone_connection_is_forgotten_and_the_rest_still_receive() {
    let (push, registry, poster) = push_with(&[("Stale=", "bob"), ("Fresh=", "bob")]).await;
    poster.close(&id("Stale="));
    let report = sync_push::handle(&push, sample_batch()).await.unwrap();
    assert_eq!(
        (report.posted, report.gone),
        (2, 1),
        "the second event finds the stale connection already forgotten"
    );
    assert_eq!(bobs_connections(&registry).await, [id("Fresh=")]);
}

#[tokio::test]
async fn a_connection_that_answers_410_while_its_handshake_may_still_be_finishing_is_kept() {
    let (push, registry, poster) = push_with(&[]).await;
    let opening = Connection::opened(id("Opening="), user("bob"), chrono::Utc::now());
    registry
        .register(&opening)
        .await
        .expect("the memory registry never fails");
    poster.close(&id("Opening="));
    let report = sync_push::handle(&push, sample_batch()).await.unwrap();
    assert_eq!(report.gone, 2, "both events found it not yet open");
    assert_eq!(bobs_connections(&registry).await, [id("Opening=")]);
}

#[tokio::test]
async fn an_empty_or_garbage_batch_is_answered_not_fatal() {
    let (push, _, _) = push_with(&[]).await;
    assert_eq!(
        sync_push::handle(&push, KafkaEvent::default())
            .await
            .unwrap(),
        Report::default()
    );
    let mut batch = sample_batch();
    for records in batch.records.values_mut() {
        for record in records.iter_mut() {
            record.value = None;
        }
    }
    assert_eq!(
        sync_push::handle(&push, batch).await.unwrap().undecodable,
        3
    );
}

#[tokio::test]
async fn a_redelivered_batch_pushes_nothing_twice() {
    let (push, _, poster) = push_with(&[("AlicePhone=", "alice")]).await;
    let first = sync_push::handle(&push, sample_batch()).await.unwrap();
    let again = sync_push::handle(&push, sample_batch()).await.unwrap();
    assert_eq!((first.posted, first.repeated), (2, 0));
    assert_eq!((again.posted, again.repeated), (0, 2));
    assert_eq!(poster.posts().len(), 2);
}

#[tokio::test]
async fn a_cart_s_versions_published_out_of_order_in_one_batch_are_pushed_in_order() {
    let (push, _, poster) = push_with(&[("Bob=", "bob")]).await;
    // Two writers finished in the other order: version 5's record came first.
    let mut batch = sample_batch();
    for records in batch.records.values_mut() {
        records.reverse();
    }
    sync_push::handle(&push, batch).await.unwrap();
    assert_eq!(posted_versions(&poster), [4, 5]);
}

#[tokio::test]
async fn a_version_published_after_a_newer_one_in_a_later_batch_is_still_pushed_first() {
    let (push, _, poster) = push_with(&[("Bob=", "bob")]).await;
    sync_push::handle_and_hold(&push, batch_of(&[4]))
        .await
        .unwrap();
    let skipping = sync_push::handle_and_hold(&push, batch_of(&[6]))
        .await
        .unwrap();
    assert_eq!((skipping.waited, skipping.posted), (1, 0));
    assert!(push.next_release().is_some(), "version 6 waits for 5");
    let filling = sync_push::handle_and_hold(&push, batch_of(&[5]))
        .await
        .unwrap();
    assert_eq!(filling.posted, 2);
    assert_eq!(posted_versions(&poster), [4, 5, 6]);
    assert_eq!(push.next_release(), None);
}

#[tokio::test]
async fn past_its_wait_a_version_goes_out_without_the_missing_one() {
    let (push, _, poster) = push_with(&[("Bob=", "bob")]).await;
    let push = push.holding_for(std::time::Duration::from_millis(20));
    sync_push::handle_and_hold(&push, batch_of(&[4, 6]))
        .await
        .unwrap();
    assert_eq!(
        sync_push::release_due(&push).await.unwrap().posted,
        0,
        "not yet"
    );
    tokio::time::sleep(std::time::Duration::from_millis(30)).await;
    assert_eq!(sync_push::release_due(&push).await.unwrap().posted, 1);
    sync_push::handle_and_hold(&push, batch_of(&[5]))
        .await
        .unwrap();
    assert_eq!(
        posted_versions(&poster),
        [4, 6, 5],
        "the missing version, late, is still pushed; clients drop it"
    );
}

#[tokio::test]
async fn the_lambda_handler_leaves_nothing_waiting_when_it_returns() {
    let (push, _, poster) = push_with(&[("Bob=", "bob")]).await;
    sync_push::handle(&push, batch_of(&[4])).await.unwrap();
    let report = sync_push::handle(&push, batch_of(&[6])).await.unwrap();
    assert_eq!((report.waited, report.posted), (1, 1));
    assert_eq!(posted_versions(&poster), [4, 6]);
    assert_eq!(push.next_release(), None);
}

#[tokio::test]
async fn a_post_that_fails_for_a_moment_is_tried_again_and_arrives() {
    let (push, _, poster) = push_with(&[("Bob=", "bob")]).await;
    poster.fail(&id("Bob="), sync_push::POST_ATTEMPTS - 1);
    let report = sync_push::handle(&push, sample_batch()).await.unwrap();
    assert_eq!(
        (report.posted, report.retried, report.failed),
        (2, (sync_push::POST_ATTEMPTS - 1) as usize, 0)
    );
    assert_eq!(posted_versions(&poster), [4, 5]);
}

#[tokio::test]
async fn a_connection_that_takes_no_post_is_forgotten_not_tried_forever() {
    let (push, registry, poster) = push_with(&[("Broken=", "bob"), ("Fine=", "bob")]).await;
    poster.fail(&id("Broken="), u32::MAX);
    let report = sync_push::handle(&push, batch_of(&[4, 5, 6, 7]))
        .await
        .unwrap();
    assert_eq!(
        (report.posted, report.failed),
        (4, sync_push::BROKEN_AFTER as usize),
        "after a few events in a row, the broken connection is no longer tried"
    );
    assert_eq!(bobs_connections(&registry).await, [id("Fine=")]);
}

#[tokio::test]
async fn a_registry_outage_fails_the_batch_and_its_redelivery_pushes_every_event() {
    let (push, registry, poster) = push_with(&[("Bob=", "bob")]).await;
    registry.set_down(true);
    assert!(
        sync_push::handle(&push, sample_batch()).await.is_err(),
        "without the audience, the batch fails so the trigger hands it over again"
    );
    registry.set_down(false);
    let again = sync_push::handle(&push, sample_batch()).await.unwrap();
    assert_eq!(again.posted, 2, "{again:?}");
    assert_eq!(posted_versions(&poster), [4, 5]);
}
