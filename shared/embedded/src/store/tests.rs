//! The embedded store against the cart-store contract, and what only it promises: data survives
//! a reopen, and concurrent compare-and-swaps in one batch do not lose each other.

use super::*;
use domain::{Currency, Member, Role};

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("embedded-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

fn cart(owner: &str) -> Cart {
    Cart::new(
        CartId::new(),
        UserId::parse(owner).unwrap(),
        Currency::DEFAULT,
        chrono::Utc::now(),
    )
}

#[tokio::test]
async fn a_saved_cart_survives_a_reopen() {
    let dir = temp_dir("reopen");
    let original = cart("alice");
    {
        let store = EmbeddedStore::open(&dir).unwrap();
        store.save(None, &original).await.unwrap();
    }
    let store = EmbeddedStore::open(&dir).unwrap();
    assert_eq!(
        store.load(original.cart_id).await.unwrap(),
        Some(original.clone())
    );
    assert_eq!(
        store
            .carts_of(&UserId::parse("alice").unwrap())
            .await
            .unwrap(),
        [original.cart_id]
    );
}

#[tokio::test]
async fn a_save_against_a_stale_version_is_a_conflict() {
    let store = EmbeddedStore::open(&temp_dir("stale")).unwrap();
    let v1 = cart("alice");
    store.save(None, &v1).await.unwrap();
    let mut v2 = v1.clone();
    v2.version = 2;
    store.save(Some(&v1), &v2).await.unwrap();
    let err = store.save(Some(&v1), &v2).await.unwrap_err();
    assert!(
        matches!(err, StoreError::Conflict { current: Some(2) }),
        "{err:?}"
    );
    assert!(
        store.save(None, &v1).await.unwrap_err().is_conflict(),
        "creating an existing cart conflicts"
    );
}

#[tokio::test]
async fn concurrent_swaps_from_one_version_let_exactly_one_win() {
    let store = EmbeddedStore::open(&temp_dir("race")).unwrap();
    let v1 = cart("alice");
    store.save(None, &v1).await.unwrap();
    let tasks: Vec<_> = (0..32)
        .map(|_| {
            let (store, v1) = (store.clone(), v1.clone());
            tokio::spawn(async move {
                let mut v2 = v1.clone();
                v2.version = 2;
                store.save(Some(&v1), &v2).await.is_ok()
            })
        })
        .collect();
    let mut wins = 0;
    for task in tasks {
        wins += usize::from(task.await.unwrap());
    }
    assert_eq!(wins, 1);
}

#[tokio::test]
async fn the_membership_index_follows_sharing_and_unsharing() {
    let store = EmbeddedStore::open(&temp_dir("index")).unwrap();
    let bob = UserId::parse("bob").unwrap();
    let v1 = cart("alice");
    store.save(None, &v1).await.unwrap();
    let mut v2 = v1.clone();
    v2.version = 2;
    v2.members.push(Member {
        user_id: bob.clone(),
        role: Role::Viewer,
    });
    store.save(Some(&v1), &v2).await.unwrap();
    assert_eq!(store.carts_of(&bob).await.unwrap(), [v1.cart_id]);
    let mut v3 = v2.clone();
    v3.version = 3;
    v3.members.pop();
    store.save(Some(&v2), &v3).await.unwrap();
    assert!(store.carts_of(&bob).await.unwrap().is_empty());
}

#[tokio::test]
async fn the_catalog_pages_in_id_order_and_updates_stock() {
    let store = EmbeddedStore::open(&temp_dir("catalog")).unwrap();
    assert!(store.catalog_is_empty().unwrap());
    for id in ["c", "a", "b"] {
        let item = Item {
            item_id: ItemId::parse(id).unwrap(),
            name: id.into(),
            price: 1,
            currency: Currency::DEFAULT,
            stock: 1,
        };
        store.put(&item).await.unwrap();
    }
    let first = store.list(None, 2).await.unwrap();
    assert_eq!(
        first.iter().map(|i| i.item_id.as_str()).collect::<Vec<_>>(),
        ["a", "b"]
    );
    let rest = store.list(Some(&first[1].item_id), 2).await.unwrap();
    assert_eq!(
        rest.iter().map(|i| i.item_id.as_str()).collect::<Vec<_>>(),
        ["c"]
    );
    let updated = store
        .set_stock(&ItemId::parse("a").unwrap(), 7)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(updated.stock, 7);
    assert_eq!(
        store
            .set_stock(&ItemId::parse("zzz").unwrap(), 7)
            .await
            .unwrap(),
        None
    );
}

#[tokio::test]
async fn the_embedded_registry_keeps_the_registry_contract() {
    let store = EmbeddedStore::open(&temp_dir("connections")).unwrap();
    domain::testing::connection_registry_contract(&store).await;
}

#[tokio::test]
async fn the_embedded_store_keeps_the_directory_contract() {
    let store = EmbeddedStore::open(&temp_dir("directory")).unwrap();
    domain::testing::directory_contract(&store).await;
}

#[tokio::test]
async fn the_embedded_store_keeps_the_analytics_contract() {
    let store = EmbeddedStore::open(&temp_dir("analytics")).unwrap();
    domain::testing::analytics_store_contract(&store).await;
}

#[tokio::test]
async fn the_embedded_store_keeps_the_notification_contract() {
    let store = EmbeddedStore::open(&temp_dir("notifications")).unwrap();
    domain::testing::notification_store_contract(&store).await;
}

#[tokio::test]
async fn connections_do_not_survive_a_restart() {
    use domain::{Connection, ConnectionId, ConnectionRegistry};
    let dir = temp_dir("connections-restart");
    let alice = UserId::parse("alice").unwrap();
    {
        let store = EmbeddedStore::open(&dir).unwrap();
        store
            .register(&Connection::opened(
                ConnectionId::parse("X1=").unwrap(),
                alice.clone(),
                chrono::Utc::now(),
            ))
            .await
            .unwrap();
    }
    let store = EmbeddedStore::open(&dir).unwrap();
    assert!(store.connections_of(&alice).await.unwrap().is_empty());
}

#[tokio::test]
async fn the_embedded_store_keeps_the_cart_store_contract() {
    let store = EmbeddedStore::open(&temp_dir("cart-contract")).unwrap();
    domain::testing::cart_store_contract(&store).await;
}

#[tokio::test]
async fn an_operation_ended_after_its_save_still_has_its_event_published_by_the_relay() {
    let store = EmbeddedStore::open(&temp_dir("unpublished-contract")).unwrap();
    domain::testing::unpublished_events_contract(std::sync::Arc::new(store)).await;
}

#[tokio::test]
async fn the_embedded_catalog_keeps_the_catalog_contract() {
    let store = EmbeddedStore::open(&temp_dir("catalog-contract")).unwrap();
    domain::testing::catalog_contract(&store).await;
}

#[tokio::test]
async fn the_embedded_ledger_keeps_the_stock_ledger_contract() {
    let store = EmbeddedStore::open(&temp_dir("ledger-contract")).unwrap();
    domain::testing::stock_ledger_contract(&store, &store).await;
}

#[tokio::test]
async fn stock_taken_by_a_checkout_stays_taken_across_a_restart() {
    use domain::inventory::{StockLedger, Take};
    let dir = temp_dir("ledger-restart");
    let pear = domain::testing::sample_items()[1].clone();
    let cart = domain::CartId::new();
    {
        let store = EmbeddedStore::open(&dir).unwrap();
        domain::ports::Catalog::put(&store, &pear).await.unwrap();
        assert_eq!(
            store.take(cart, &pear.item_id, 2).await.unwrap(),
            Take::Taken { remaining: 3 }
        );
    }
    let store = EmbeddedStore::open(&dir).unwrap();
    assert_eq!(
        store.take(cart, &pear.item_id, 2).await.unwrap(),
        Take::AlreadyTaken
    );
}

#[tokio::test]
async fn the_embedded_records_keep_the_idempotency_contract() {
    let store = EmbeddedStore::open(&temp_dir("idempotency-contract")).unwrap();
    domain::testing::idempotency_contract(&store).await;
}

#[tokio::test]
async fn an_answered_key_survives_a_reopen_and_an_open_claim_keeps_its_lease() {
    use domain::idempotency::{Claim, IdempotencyStore, RecordKey, StoredResponse};
    let dir = temp_dir("idempotency-reopen");
    let alice = UserId::parse("alice").unwrap();
    let (answered, abandoned) = (
        RecordKey::new(&alice, "answered").unwrap(),
        RecordKey::new(&alice, "abandoned").unwrap(),
    );
    let answer = StoredResponse {
        status: 201,
        headers: vec![("etag".into(), "\"1\"".into())],
        body: "{}".into(),
    };
    let now = chrono::Utc::now();
    {
        let store = EmbeddedStore::open(&dir).unwrap();
        assert_eq!(
            store.claim(&answered, "POST /carts", now).await.unwrap(),
            Claim::Claimed
        );
        store.complete(&answered, &answer).await.unwrap();
        assert_eq!(
            store.claim(&abandoned, "POST /carts", now).await.unwrap(),
            Claim::Claimed
        );
    }
    let store = EmbeddedStore::open(&dir).unwrap();
    assert_eq!(
        store.claim(&answered, "POST /carts", now).await.unwrap(),
        Claim::Done(answer)
    );
    // The process that claimed it is gone, but the store cannot tell a restart from a slow
    // request: the key is free once its lease runs out, as on DynamoDB.
    assert_eq!(
        store.claim(&abandoned, "POST /carts", now).await.unwrap(),
        Claim::InFlight,
        "a claim younger than its lease is still held after a reopen"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn back_to_back_changes_carry_no_event_already_published() {
    use domain::ports::CartStore;
    use domain::{CartService, Role};
    let store = std::sync::Arc::new(EmbeddedStore::open(&temp_dir("back-to-back")).unwrap());
    let events = std::sync::Arc::new(domain::memory::RecordingPublisher::default());
    let service = CartService::new(store.clone(), store.clone(), events.clone());
    let alice = domain::testing::user("alice");
    let cart = service
        .create(&alice, domain::Currency::DEFAULT, &[])
        .await
        .unwrap();
    // Big events, one right after another: the settle of each races the next change's write.
    for round in 0..19 {
        let users: Vec<_> = (0..50)
            .map(|i| domain::testing::user(&format!("member-{round}-{i}")))
            .collect();
        service
            .share(&alice, cart.cart_id, &users, Role::Viewer)
            .await
            .unwrap();
        let stored = store.load(cart.cart_id).await.unwrap().unwrap();
        assert!(
            stored.unpublished.len() <= 1,
            "round {round}: {} events carried",
            stored.unpublished.len()
        );
    }
    assert_eq!(events.events().len(), 20, "each event published once");
}
