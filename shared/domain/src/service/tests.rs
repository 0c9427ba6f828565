//! The service against the in-memory ports: retries land, preconditions conflict, events flow.

use super::*;
use crate::memory::{MemoryCartStore, MemoryCatalog, RecordingPublisher};

fn user(id: &str) -> UserId {
    UserId::parse(id).unwrap()
}

fn apple() -> Item {
    Item {
        item_id: ItemId::parse("apple").unwrap(),
        name: "Apple".into(),
        price: 120,
        currency: Currency::DEFAULT,
        stock: 100_000,
    }
}

fn service() -> (CartService, Arc<RecordingPublisher>, Arc<MemoryCatalog>) {
    let events = Arc::new(RecordingPublisher::default());
    let catalog = Arc::new(MemoryCatalog::with([apple()]));
    let service = CartService::new(
        Arc::new(MemoryCartStore::default()),
        catalog.clone(),
        events.clone(),
    );
    (service, events, catalog)
}

fn one() -> Quantity {
    Quantity::try_from(1u32).unwrap()
}

#[tokio::test]
async fn concurrent_adds_all_land() {
    let (service, events, _) = service();
    let cart = service
        .create(&user("alice"), Currency::DEFAULT, &[])
        .await
        .unwrap();
    let tasks: Vec<_> = (0..200)
        .map(|_| {
            let service = service.clone();
            tokio::spawn(async move {
                service
                    .add_item(&user("alice"), cart.cart_id, &apple().item_id, one())
                    .await
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap().unwrap();
    }
    let cart = service.get(&user("alice"), cart.cart_id).await.unwrap();
    assert_eq!(cart.items[0].quantity.get(), 200);
    assert_eq!(cart.version, 201);
    assert_eq!(
        events.events().len(),
        201,
        "one event per change, creation included"
    );
}

#[tokio::test]
async fn a_stale_expected_version_is_a_conflict_naming_the_current_one() {
    let (service, _, _) = service();
    let cart = service
        .create(
            &user("alice"),
            Currency::DEFAULT,
            &[(apple().item_id, one())],
        )
        .await
        .unwrap();
    service
        .add_item(&user("alice"), cart.cart_id, &apple().item_id, one())
        .await
        .unwrap();
    let changes = LineChange::parse_batch(&[("apple".into(), 5)]).unwrap();
    let err = service
        .modify(&user("alice"), cart.cart_id, Some(1), &changes)
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            CartError::VersionConflict {
                expected: 1,
                current: 2
            }
        ),
        "{err:?}"
    );
    assert_eq!(err.current_version(), Some(2));
}

#[tokio::test]
async fn strangers_cannot_tell_a_cart_exists() {
    let (service, _, _) = service();
    let cart = service
        .create(&user("alice"), Currency::DEFAULT, &[])
        .await
        .unwrap();
    let err = service.get(&user("eve"), cart.cart_id).await.unwrap_err();
    assert!(matches!(err, CartError::CartNotFound(_)));
    let err = service
        .modify(
            &user("eve"),
            cart.cart_id,
            Some(1),
            &LineChange::parse_batch(&[("apple".into(), 1)]).unwrap(),
        )
        .await;
    assert!(
        matches!(err, Err(CartError::CartNotFound(_))),
        "no version is leaked through a precondition"
    );
}

#[tokio::test]
async fn unshared_members_are_notified_once_and_lose_access() {
    let (service, events, _) = service();
    let cart = service
        .create(&user("alice"), Currency::DEFAULT, &[])
        .await
        .unwrap();
    service
        .share(&user("alice"), cart.cart_id, &[user("bob")], Role::Editor)
        .await
        .unwrap();
    assert_eq!(service.carts_of(&user("bob")).await.unwrap().len(), 1);
    service
        .unshare(&user("alice"), cart.cart_id, &user("bob"))
        .await
        .unwrap();
    let last = events.events().pop().unwrap();
    assert_eq!(last.event_type, EventType::CartUnshared);
    assert!(last.members.contains(&user("bob")));
    assert!(service.carts_of(&user("bob")).await.unwrap().is_empty());
    assert!(matches!(
        service.get(&user("bob"), cart.cart_id).await,
        Err(CartError::CartNotFound(_))
    ));
}

#[tokio::test]
async fn checkout_after_a_price_rise_saves_the_new_prices_then_succeeds() {
    let (service, _, catalog) = service();
    let cart = service
        .create(
            &user("alice"),
            Currency::DEFAULT,
            &[(apple().item_id, one())],
        )
        .await
        .unwrap();
    catalog
        .put(&Item {
            price: 150,
            ..apple()
        })
        .await
        .unwrap();
    let err = service
        .checkout(&user("alice"), cart.cart_id)
        .await
        .unwrap_err();
    assert!(
        matches!(err, CartError::PriceChanged { current: 2, .. }),
        "{err:?}"
    );
    let done = service
        .checkout(&user("alice"), cart.cart_id)
        .await
        .unwrap();
    assert_eq!(done.status, crate::cart::Status::CheckedOut);
    assert_eq!(done.total(), 150);
    let err = service
        .add_item(&user("alice"), cart.cart_id, &apple().item_id, one())
        .await
        .unwrap_err();
    assert!(matches!(err, CartError::CheckedOut));
}

#[tokio::test]
async fn adding_an_unknown_item_is_item_not_found() {
    let (service, _, _) = service();
    let cart = service
        .create(&user("alice"), Currency::DEFAULT, &[])
        .await
        .unwrap();
    let err = service
        .add_item(
            &user("alice"),
            cart.cart_id,
            &ItemId::parse("ghost").unwrap(),
            one(),
        )
        .await
        .unwrap_err();
    assert_eq!(err.code(), "ITEM_NOT_FOUND");
}

/// An order queue that refuses while `down` is set, then records like the in-memory one.
#[derive(Default)]
struct FlakyOrders {
    down: std::sync::atomic::AtomicBool,
    recorded: crate::memory::RecordingOrders,
}

#[async_trait::async_trait]
impl OrderQueue for FlakyOrders {
    async fn submit(&self, order: &OrderRequest) -> Result<(), crate::ports::PublishError> {
        if self.down.load(std::sync::atomic::Ordering::SeqCst) {
            return Err(crate::ports::PublishError("the queue is down".into()));
        }
        self.recorded.submit(order).await
    }
}

async fn cart_with_two_apples(service: &CartService) -> Cart {
    let cart = service
        .create(&user("alice"), Currency::DEFAULT, &[])
        .await
        .unwrap();
    let two = Quantity::try_from(2u32).unwrap();
    service
        .add_item(&user("alice"), cart.cart_id, &apple().item_id, two)
        .await
        .unwrap()
}

#[tokio::test]
async fn checkout_hands_the_order_over_with_buyer_lines_and_total() {
    let (service, _, _) = service();
    let orders = Arc::new(FlakyOrders::default());
    let service = service.with_orders(orders.clone());
    let cart = cart_with_two_apples(&service).await;
    let done = service
        .checkout(&user("alice"), cart.cart_id)
        .await
        .unwrap();
    let handed = orders.recorded.orders();
    assert_eq!(handed.len(), 1);
    let order = &handed[0];
    assert_eq!(order.order_id, cart.cart_id);
    assert_eq!(order.buyer, user("alice"));
    assert_eq!(order.cart_version, done.version);
    assert_eq!(
        (order.lines[0].quantity, order.lines[0].line_total),
        (2, 240)
    );
    assert_eq!(order.total, 240);
}

#[tokio::test]
async fn a_failed_hand_off_is_503_and_checking_out_again_completes_it() {
    let (service, _, _) = service();
    let orders = Arc::new(FlakyOrders::default());
    let service = service.with_orders(orders.clone());
    let cart = cart_with_two_apples(&service).await;
    orders.down.store(true, std::sync::atomic::Ordering::SeqCst);
    let err = service
        .checkout(&user("alice"), cart.cart_id)
        .await
        .unwrap_err();
    assert_eq!(err.code(), "UNAVAILABLE");
    assert!(orders.recorded.orders().is_empty());

    orders
        .down
        .store(false, std::sync::atomic::Ordering::SeqCst);
    let retried = service
        .checkout(&user("alice"), cart.cart_id)
        .await
        .unwrap();
    assert_eq!(retried.status, crate::cart::Status::CheckedOut);
    assert_eq!(
        retried.version,
        cart.version + 1,
        "the retry changes nothing"
    );
    let handed = orders.recorded.orders();
    assert_eq!(handed.len(), 1);
    assert_eq!(handed[0].order_id, cart.cart_id);
}

#[tokio::test]
async fn no_add_lands_after_a_lock_that_races_it() {
    let (service, events, _) = service();
    let owner = user("alice");
    let cart = service
        .create(&owner, Currency::DEFAULT, &[(apple().item_id, one())])
        .await
        .unwrap();
    let adds: Vec<_> = (0..60)
        .map(|_| {
            let (service, owner) = (service.clone(), owner.clone());
            tokio::spawn(async move {
                service
                    .add_item(&owner, cart.cart_id, &apple().item_id, one())
                    .await
            })
        })
        .collect();
    tokio::task::yield_now().await;
    let locked = service.lock(&owner, cart.cart_id).await.unwrap();
    let mut landed = 0;
    for add in adds {
        match add.await.unwrap() {
            Ok(_) => landed += 1,
            Err(CartError::Locked(lock)) => assert_eq!(lock.locked_by, owner),
            Err(other) => panic!("an add failed otherwise: {other}"),
        }
    }
    let now = service.get(&owner, cart.cart_id).await.unwrap();
    assert_eq!(now.status, Status::Locked);
    assert_eq!(
        now.version, locked.version,
        "nothing changed after the lock"
    );
    assert_eq!(now.items[0].quantity.get(), 1 + landed);
    let kinds: Vec<EventType> = events.events().iter().map(|e| e.event_type).collect();
    assert_eq!(kinds.last(), Some(&EventType::CartLocked), "{kinds:?}");
}

#[tokio::test]
async fn a_lock_nobody_releases_lapses_and_the_cart_is_editable_again() {
    let (service, _, _) = service();
    let service = service.with_lock_lasting(chrono::Duration::milliseconds(30));
    let owner = user("alice");
    let cart = service
        .create(&owner, Currency::DEFAULT, &[(apple().item_id, one())])
        .await
        .unwrap();
    service.lock(&owner, cart.cart_id).await.unwrap();
    assert!(matches!(
        service
            .add_item(&owner, cart.cart_id, &apple().item_id, one())
            .await,
        Err(CartError::Locked(_))
    ));
    tokio::time::sleep(std::time::Duration::from_millis(40)).await;
    let lapsed = service.get(&owner, cart.cart_id).await.unwrap();
    assert_eq!((lapsed.status, lapsed.lock), (Status::Active, None));
    let added = service
        .add_item(&owner, cart.cart_id, &apple().item_id, one())
        .await
        .unwrap();
    assert_eq!(
        (added.status, added.items[0].quantity.get()),
        (Status::Active, 2)
    );
    assert!(matches!(
        service.unlock(&owner, cart.cart_id).await,
        Err(CartError::NotLocked)
    ));
}

#[tokio::test]
async fn twenty_people_racing_for_a_link_of_three_uses_let_exactly_three_in() {
    let (service, _, _) = service();
    let owner = user("alice");
    let cart = service
        .create(&owner, Currency::DEFAULT, &[])
        .await
        .unwrap();
    let terms = crate::invite::InviteTerms {
        max_uses: Some(3),
        ..Default::default()
    };
    let (_, token, _) = service
        .create_invite(&owner, cart.cart_id, terms)
        .await
        .unwrap();
    let joins: Vec<_> = (0..20)
        .map(|n| {
            let (service, token) = (service.clone(), token.clone());
            tokio::spawn(async move {
                service
                    .accept_invite(&user(&format!("guest{n}")), &token)
                    .await
            })
        })
        .collect();
    let mut joined = 0;
    for join in joins {
        match join.await.unwrap() {
            Ok(_) => joined += 1,
            Err(CartError::InviteUsedUp) => {}
            Err(other) => panic!("a join failed otherwise: {other}"),
        }
    }
    assert_eq!(joined, 3);
    let now = service.get(&owner, cart.cart_id).await.unwrap();
    assert_eq!(now.members.len(), 4);
    let invites = service.invites(&owner, cart.cart_id).await.unwrap();
    assert_eq!(invites[0].uses, 3);
}

#[tokio::test]
async fn a_members_first_change_brings_their_name_and_says_so_once() {
    let (service, events, _) = service();
    let cart = service
        .acting_as(Some("Alice"))
        .create(&user("alice"), Currency::DEFAULT, &[])
        .await
        .unwrap();
    service
        .share(&user("alice"), cart.cart_id, &[user("bob")], Role::Editor)
        .await
        .unwrap();
    let bob = service.acting_as(Some(" Bob\u{200B} "));
    for _ in 0..2 {
        bob.add_item(&user("bob"), cart.cart_id, &apple().item_id, one())
            .await
            .unwrap();
    }
    let now = service.get(&user("alice"), cart.cart_id).await.unwrap();
    assert_eq!(now.name_of(&user("bob")), Some("Bob"));
    assert_eq!(now.name_of(&user("alice")), Some("Alice"));
    let flags: Vec<bool> = events.events().iter().map(|e| e.names_changed).collect();
    assert_eq!(
        flags,
        [false, false, true, false],
        "create, share, bob's first add, his second"
    );
}
