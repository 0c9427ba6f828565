//! notify's handler, fed its sample MSK batch (alice shares her cart with carol, a poison
//! record, alice locks the cart): who is told, who is mailed, and what a redelivery, a mail
//! service outage, a refusal and a busy hour change.

use aws_lambda_events::event::kafka::KafkaEvent;
use chrono::Utc;
use domain::directory::{Directory, Email, Profile};
use domain::memory::{
    MemoryConnectionRegistry, MemoryDirectory, MemoryMailer, MemoryNotifications,
};
use domain::notification::{Mailing, NotificationStore, Topic};
use domain::testing::user;
use domain::{Connection, ConnectionId, ConnectionRegistry};
use notify::{Notify, Report};
use std::sync::Arc;
use std::sync::atomic::Ordering;

fn sample_batch() -> KafkaEvent {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../events/notify.json");
    serde_json::from_str(&std::fs::read_to_string(path).expect("the sample event"))
        .expect("an MSK event")
}

struct World {
    notify: Notify,
    store: Arc<MemoryNotifications>,
    mailer: Arc<MemoryMailer>,
    registry: Arc<MemoryConnectionRegistry>,
}

/// bob and carol signed in with verified emails; nobody is connected.
async fn world() -> World {
    let (store, mailer) = (
        Arc::new(MemoryNotifications::default()),
        Arc::new(MemoryMailer::default()),
    );
    let registry = Arc::new(MemoryConnectionRegistry::default());
    let directory = Arc::new(MemoryDirectory::default());
    for who in ["bob", "carol"] {
        let profile = Profile {
            user_id: user(who),
            name: None,
            email: Some(Email::parse("email", &format!("{who}@example.com")).expect("an email")),
            user_name: None,
        };
        directory.remember(&profile).await.expect("remembered");
    }
    World {
        notify: Notify {
            store: store.clone(),
            registry: registry.clone(),
            directory,
            mailer: Some(mailer.clone()),
            mails_per_hour: 6,
            page: Some("https://carts.example/".into()),
        },
        store,
        mailer,
        registry,
    }
}

fn mailed(world: &World) -> Vec<(String, String)> {
    world
        .mailer
        .sent
        .lock()
        .expect("the mails")
        .iter()
        .map(|m| (m.to.as_str().to_owned(), m.subject.clone()))
        .collect()
}

#[tokio::test]
async fn members_who_are_away_are_mailed_once_past_a_poison_record() {
    let world = world().await;
    let report = notify::handle(&world.notify, sample_batch()).await.unwrap();
    assert_eq!(
        report,
        Report {
            records: 3,
            undecodable: 1,
            recorded: 3,
            mailed: 3,
            refused: 0
        }
    );
    assert_eq!(
        mailed(&world),
        [
            (
                "carol@example.com".to_owned(),
                "Alice Ames added you to Alice Ames's shared cart".to_owned()
            ),
            (
                "bob@example.com".to_owned(),
                "Alice Ames locked Alice Ames's shared cart for checkout".to_owned()
            ),
            (
                "carol@example.com".to_owned(),
                "Alice Ames locked Alice Ames's shared cart for checkout".to_owned()
            ),
        ]
    );
    let carol = world.store.list(&user("carol"), 10).await.unwrap();
    let listed: Vec<_> = carol.iter().map(|n| (n.notice.topic, n.mailing)).collect();
    assert_eq!(
        listed,
        [
            (Topic::Locked, Mailing::Sent),
            (Topic::Added, Mailing::Sent)
        ]
    );
    assert!(
        world
            .store
            .list(&user("alice"), 10)
            .await
            .unwrap()
            .is_empty(),
        "nobody is told of what they did"
    );

    let again = notify::handle(&world.notify, sample_batch()).await.unwrap();
    assert_eq!(
        (again.recorded, again.mailed),
        (0, 0),
        "a redelivery mails nobody again"
    );
    assert_eq!(mailed(&world).len(), 3);
}

#[tokio::test]
async fn a_connected_member_an_opted_out_one_and_one_without_email_are_listed_not_mailed() {
    let world = world().await;
    let now = Utc::now();
    let bob_socket = Connection::opened(ConnectionId::parse("bob1").unwrap(), user("bob"), now);
    world.registry.register(&bob_socket).await.unwrap();
    world
        .store
        .set_mails_off(&user("carol"), true)
        .await
        .unwrap();
    let report = notify::handle(&world.notify, sample_batch()).await.unwrap();
    assert_eq!((report.recorded, report.mailed), (3, 0));
    let mailing = |who: &'static str| {
        let store = world.store.clone();
        async move { store.list(&user(who), 10).await.unwrap()[0].mailing }
    };
    assert_eq!(mailing("bob").await, Mailing::Connected);
    assert_eq!(mailing("carol").await, Mailing::OptedOut);
}

#[tokio::test]
async fn a_mail_service_outage_fails_the_batch_and_its_redelivery_mails_what_was_pending() {
    let world = world().await;
    world.mailer.down.store(true, Ordering::SeqCst);
    assert!(notify::handle(&world.notify, sample_batch()).await.is_err());
    assert!(mailed(&world).is_empty());

    world.mailer.down.store(false, Ordering::SeqCst);
    let report = notify::handle(&world.notify, sample_batch()).await.unwrap();
    assert_eq!(
        report.mailed, 3,
        "the pending mail and the two the outage stopped"
    );
    assert_eq!(mailed(&world).len(), 3);
}

#[tokio::test]
async fn a_refused_address_is_recorded_and_the_batch_goes_on() {
    let world = world().await;
    world
        .mailer
        .refused
        .lock()
        .unwrap()
        .insert("carol@example.com".into());
    let report = notify::handle(&world.notify, sample_batch()).await.unwrap();
    assert_eq!((report.mailed, report.refused), (1, 2));
    let carol = world.store.list(&user("carol"), 10).await.unwrap();
    assert!(carol.iter().all(|n| n.mailing == Mailing::Rejected));
}

#[tokio::test]
async fn a_busy_hour_lists_what_is_past_the_allowance() {
    let mut world = world().await;
    world.notify.mails_per_hour = 1;
    notify::handle(&world.notify, sample_batch()).await.unwrap();
    let carol = world.store.list(&user("carol"), 10).await.unwrap();
    let listed: Vec<_> = carol.iter().map(|n| (n.notice.topic, n.mailing)).collect();
    assert_eq!(
        listed,
        [
            (Topic::Locked, Mailing::RateLimited),
            (Topic::Added, Mailing::Sent)
        ]
    );
}

#[tokio::test]
async fn without_a_mail_service_notices_are_listed_and_say_so() {
    let mut world = world().await;
    world.notify.mailer = None;
    let report = notify::handle(&world.notify, sample_batch()).await.unwrap();
    assert_eq!((report.recorded, report.mailed), (3, 0));
    let carol = world.store.list(&user("carol"), 10).await.unwrap();
    assert!(carol.iter().all(|n| n.mailing == Mailing::NoMailService));
    assert!(mailed(&world).is_empty());
}
