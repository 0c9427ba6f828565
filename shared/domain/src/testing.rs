//! Fixtures for handler tests: the sample cart that every file in `events/` refers to, its
//! members, and a small catalog, all on the in-memory ports.

use crate::cart::{Cart, Member, Role};
use crate::ids::{CartId, ItemId, UserId};
use crate::item::Item;
use crate::memory::{MemoryCartStore, MemoryCatalog, RecordingPublisher};
use crate::money::Currency;
use crate::ports::CartStore;
use crate::service::{CartService, ItemService};
use std::sync::Arc;

/// The cart id the sample events use.
pub const SAMPLE_CART_ID: &str = "3f2b8c1e-0d4a-4c6e-9a51-2b7d0e8f9c10";

/// The token of the sample cart's open invite (editor, a week), which the invite events use.
pub const SAMPLE_INVITE_TOKEN: &str =
    "3f2b8c1e-0d4a-4c6e-9a51-2b7d0e8f9c10.c2FtcGxlLWludml0ZS1zZWNyZXQtZm9yLXRlc3RzISE";

/// A user id, known valid.
pub fn user(id: &str) -> UserId {
    UserId::parse(id).unwrap_or_else(|e| panic!("fixture user {id}: {e}"))
}

/// The sample catalog: `apple` (120, stock 50), `pear` (80, stock 5) and `fig` (300, stock 0).
pub fn sample_items() -> Vec<Item> {
    [
        ("apple", "Apple", 120, 50),
        ("pear", "Pear", 80, 5),
        ("fig", "Fig", 300, 0),
    ]
    .into_iter()
    .map(|(id, name, price, stock)| Item {
        item_id: ItemId::parse(id).unwrap_or_else(|e| panic!("fixture item {id}: {e}")),
        name: name.into(),
        price,
        currency: Currency::DEFAULT,
        stock,
    })
    .collect()
}

/// Ports and services holding the sample cart (owner `alice`, editor `bob`, viewer `carol`,
/// one apple and one pear in it, version 3) and the sample catalog.
pub struct Sample {
    /// The cart service.
    pub carts: CartService,
    /// The item service over the same catalog.
    pub items: ItemService,
    /// Every event published.
    pub events: Arc<RecordingPublisher>,
    /// The sample cart as stored.
    pub cart: Cart,
}

impl Sample {
    /// Builds the sample.
    pub async fn new() -> Sample {
        let store = Arc::new(MemoryCartStore::default());
        let catalog = Arc::new(MemoryCatalog::with(sample_items()));
        let events = Arc::new(RecordingPublisher::default());
        let id = CartId::parse(SAMPLE_CART_ID).unwrap_or_else(|e| panic!("{e}"));
        let mut cart = Cart::new(id, user("alice"), Currency::DEFAULT, chrono::Utc::now());
        cart.members.push(Member {
            user_id: user("bob"),
            role: Role::Editor,
        });
        cart.members.push(Member {
            user_id: user("carol"),
            role: Role::Viewer,
        });
        cart.version = 3;
        let items = sample_items();
        for item in &items[..2] {
            cart.items.push(crate::cart::Line {
                item_id: item.item_id.clone(),
                name: item.name.clone(),
                quantity: crate::Quantity::try_from(1u32).unwrap_or_else(|e| panic!("{e}")),
                unit_price: item.price,
                added_by: user("alice"),
            });
        }
        let token = crate::invite::InviteToken::parse(SAMPLE_INVITE_TOKEN)
            .unwrap_or_else(|e| panic!("{e}"));
        let hash = token.secret_hash();
        cart.invites.push(crate::invite::Invite {
            invite_id: hash[..16].to_owned(),
            secret_hash: hash,
            role: Role::Editor,
            created_by: user("alice"),
            created_at: cart.updated_at,
            expires_at: cart.updated_at + crate::invite::DEFAULT_LIFETIME,
            max_uses: None,
            uses: 0,
            revoked: false,
        });
        store
            .save(None, &cart)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        Sample {
            carts: CartService::new(store, catalog.clone(), events.clone()),
            items: ItemService::new(catalog),
            events,
            cart,
        }
    }
}

/// The contract every connection registry keeps, run against each implementation's tests.
pub async fn connection_registry_contract(registry: &dyn crate::ConnectionRegistry) {
    use crate::{Connection, ConnectionId};
    let now = chrono::Utc::now();
    let id = |raw: &str| ConnectionId::parse(raw).unwrap_or_else(|e| panic!("{e}"));
    let (alice_phone, alice_laptop, bob) = (id("A1phone="), id("A2laptop="), id("B1desk="));
    for (connection, owner) in [
        (&alice_phone, "alice"),
        (&alice_laptop, "alice"),
        (&bob, "bob"),
    ] {
        registry
            .register(&Connection::opened(connection.clone(), user(owner), now))
            .await
            .unwrap_or_else(|e| panic!("{e}"));
    }
    let mut of_alice: Vec<ConnectionId> = registry
        .connections_of(&user("alice"))
        .await
        .unwrap_or_else(|e| panic!("{e}"))
        .into_iter()
        .map(|c| c.connection_id)
        .collect();
    of_alice.sort();
    assert_eq!(
        of_alice,
        [alice_phone.clone(), alice_laptop.clone()],
        "every connection of a user"
    );
    assert_eq!(
        registry
            .connection(&bob)
            .await
            .ok()
            .flatten()
            .map(|c| c.user_id),
        Some(user("bob"))
    );

    let removed = registry
        .remove(&alice_phone)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(removed.map(|c| c.connection_id), Some(alice_phone.clone()));
    assert_eq!(
        registry.remove(&alice_phone).await.ok().flatten(),
        None,
        "removing twice is harmless"
    );
    assert_eq!(
        registry
            .connections_of(&user("alice"))
            .await
            .map(|c| c.len())
            .ok(),
        Some(1)
    );

    connection_registry_keep_open(registry, &alice_phone, &alice_laptop).await;

    let mut stale = Connection::opened(id("Old="), user("carol"), now - chrono::Duration::hours(3));
    stale.expires_at = now - chrono::Duration::hours(1);
    registry
        .register(&stale)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        registry
            .connection(&stale.connection_id)
            .await
            .ok()
            .flatten(),
        None,
        "expired connections are gone"
    );
    assert!(
        registry
            .connections_of(&user("carol"))
            .await
            .map(|c| c.is_empty())
            .unwrap_or(false)
    );
    connection_registry_presence(registry, &alice_laptop, &bob).await;
}

/// A message moves a known connection's expiry; one whose expiry has passed (its client went
/// quiet, and its `$disconnect` never came) is no longer one of its user's; a removed one is
/// never brought back.
async fn connection_registry_keep_open(
    registry: &dyn crate::ConnectionRegistry,
    removed: &crate::ConnectionId,
    open: &crate::ConnectionId,
) {
    let now = chrono::Utc::now();
    let kept = |at: chrono::DateTime<chrono::Utc>| async move {
        registry
            .keep_open(open, at)
            .await
            .unwrap_or_else(|e| panic!("{e}"))
    };
    let later = now + chrono::Duration::minutes(7);
    assert!(kept(later).await, "a registered connection is kept open");
    let expiry = registry
        .connection(open)
        .await
        .ok()
        .flatten()
        .map(|c| c.expires_at.timestamp());
    assert_eq!(expiry, Some(later.timestamp()), "the expiry moved");
    assert!(
        !registry
            .keep_open(removed, later)
            .await
            .unwrap_or_else(|e| panic!("{e}")),
        "a removed connection is not kept"
    );
    assert_eq!(
        registry.connection(removed).await.ok().flatten(),
        None,
        "nor brought back"
    );
    assert!(kept(now - chrono::Duration::seconds(1)).await);
    assert_eq!(
        registry
            .connections_of(&user("alice"))
            .await
            .map(|c| c.len())
            .ok(),
        Some(0),
        "a connection past its expiry is not its user's any more"
    );
    assert!(kept(later).await, "until its client speaks again");
}

/// Presence on the registry: who views a cart, refreshed by `view`, gone with the connection.
async fn connection_registry_presence(
    registry: &dyn crate::ConnectionRegistry,
    alice: &crate::ConnectionId,
    bob: &crate::ConnectionId,
) {
    let (cart, other) = (CartId::new(), CartId::new());
    let now = chrono::Utc::now();
    let viewing = |cart: CartId| async move {
        let viewers = registry
            .viewers_of(cart)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        crate::present_users(&viewers, cart, chrono::Utc::now())
    };
    let before = registry
        .view(alice, Some(cart), now)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        before.map(|c| c.viewing),
        Some(None),
        "view answers the connection as it was"
    );
    registry
        .view(bob, Some(cart), now)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(viewing(cart).await, [user("alice"), user("bob")]);
    assert_eq!(
        viewing(other).await,
        Vec::<UserId>::new(),
        "viewers of one cart only"
    );

    registry
        .view(bob, Some(other), now)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        viewing(cart).await,
        [user("alice")],
        "a connection views one cart"
    );
    assert!(
        !registry
            .leave(bob, cart)
            .await
            .unwrap_or_else(|e| panic!("{e}")),
        "leaving a cart it no longer views changes nothing"
    );
    assert_eq!(
        viewing(other).await,
        [user("bob")],
        "it still views the other"
    );
    assert!(
        registry
            .leave(bob, other)
            .await
            .unwrap_or_else(|e| panic!("{e}")),
        "leaving the cart it views"
    );
    assert_eq!(viewing(other).await, Vec::<UserId>::new(), "left");
    registry
        .view(bob, None, now)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(viewing(other).await, Vec::<UserId>::new(), "unsubscribed");

    let long_ago = now - chrono::Duration::seconds(crate::connection::PRESENCE_TTL_SECS + 1);
    registry
        .view(alice, Some(cart), long_ago)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        viewing(cart).await,
        Vec::<UserId>::new(),
        "a viewer not seen within the presence TTL is not present"
    );
    registry
        .view(alice, Some(cart), now)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    registry
        .remove(alice)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(viewing(cart).await, Vec::<UserId>::new(), "gone with it");
    assert_eq!(
        registry
            .view(alice, Some(cart), now)
            .await
            .unwrap_or_else(|e| panic!("{e}")),
        None,
        "a removed connection stays removed"
    );
    assert_eq!(
        registry.connection(alice).await.ok().flatten(),
        None,
        "and is not brought back"
    );
}

/// The `CartCreated` event of a new, empty cart of alice's.
pub fn created_event() -> crate::CartEvent {
    let cart = Cart::new(
        CartId::new(),
        user("alice"),
        Currency::DEFAULT,
        chrono::Utc::now(),
    );
    crate::CartEvent::new(crate::EventType::CartCreated, &cart, &user("alice"), &[])
}

/// What every `CartStore` must do, run against each implementation with a fresh store (or fresh
/// tables): [`cart_store_round_trips`], and conditional writes on the version.
pub async fn cart_store_contract(store: &dyn CartStore) {
    cart_store_round_trips(store).await;
    cart_store_conflicts(store).await;
}

/// What a store must do for one writer at a time: carts round-trip exactly and the membership
/// index follows every share and unshare. A store whose server cannot check conditions (the CQL
/// test server) passes this half.
pub async fn cart_store_round_trips(store: &dyn CartStore) {
    use crate::commands::{add_item, share, unshare};
    use crate::quantity::Quantity;
    let fail = |e: crate::ports::StoreError| -> ! { panic!("{e}") };
    let now = crate::service::now();
    let (alice, bob) = (user("alice"), user("bob"));
    let mut created = Cart::new(CartId::new(), alice.clone(), Currency::DEFAULT, now);
    created.remember_name(&alice, "Alice Liddell");
    let id = created.cart_id;
    assert_eq!(store.load(id).await.unwrap_or_else(|e| fail(e)), None);

    store.save(None, &created).await.unwrap_or_else(|e| fail(e));
    assert_eq!(
        store.load(id).await.unwrap_or_else(|e| fail(e)),
        Some(created.clone())
    );
    assert_eq!(
        store.carts_of(&alice).await.unwrap_or_else(|e| fail(e)),
        [id]
    );

    let shared = share(
        &created,
        &alice,
        std::slice::from_ref(&bob),
        Role::Editor,
        now,
    )
    .unwrap_or_else(|e| panic!("{e}"));
    store
        .save(Some(&created), &shared)
        .await
        .unwrap_or_else(|e| fail(e));
    assert_eq!(store.carts_of(&bob).await.unwrap_or_else(|e| fail(e)), [id]);

    let one = Quantity::try_from(1u32).unwrap_or_else(|e| panic!("{e}"));
    let two = Quantity::try_from(2u32).unwrap_or_else(|e| panic!("{e}"));
    let added = add_item(&shared, &bob, &sample_items()[1], two, now)
        .and_then(|c| add_item(&c, &alice, &sample_items()[0], one, now))
        .unwrap_or_else(|e| panic!("{e}"));
    store
        .save(Some(&shared), &added)
        .await
        .unwrap_or_else(|e| fail(e));
    assert_eq!(
        store.load(id).await.unwrap_or_else(|e| fail(e)),
        Some(added.clone()),
        "lines (in order, with their authors) and members round-trip exactly"
    );

    let left = unshare(&added, &bob, &bob, now).unwrap_or_else(|e| panic!("{e}"));
    store
        .save(Some(&added), &left)
        .await
        .unwrap_or_else(|e| fail(e));
    assert_eq!(store.carts_of(&bob).await.unwrap_or_else(|e| fail(e)), []);
    assert_eq!(
        store.carts_of(&alice).await.unwrap_or_else(|e| fail(e)),
        [id]
    );
    assert_eq!(
        store
            .load(id)
            .await
            .unwrap_or_else(|e| fail(e))
            .map(|c| c.version),
        Some(left.version)
    );

    let open = crate::commands::set_who_may_lock(&left, &alice, crate::WhoMayLock::Editors, now)
        .unwrap_or_else(|e| panic!("{e}"))
        .unwrap_or_else(|| panic!("a new setting"));
    store
        .save(Some(&left), &open)
        .await
        .unwrap_or_else(|e| fail(e));
    assert_eq!(
        store.load(id).await.unwrap_or_else(|e| fail(e)),
        Some(open.clone()),
        "who may lock round-trips"
    );
    let left = open;
    let locked = crate::commands::lock(&left, &alice, crate::service::DEFAULT_LOCK, now)
        .unwrap_or_else(|e| panic!("{e}"));
    store
        .save(Some(&left), &locked)
        .await
        .unwrap_or_else(|e| fail(e));
    assert_eq!(
        store.load(id).await.unwrap_or_else(|e| fail(e)),
        Some(locked.clone()),
        "a checkout lock round-trips with who locked it and until when"
    );
    let unlocked = crate::commands::unlock(&locked, &alice, now).unwrap_or_else(|e| panic!("{e}"));
    store
        .save(Some(&locked), &unlocked)
        .await
        .unwrap_or_else(|e| fail(e));
    assert_eq!(
        store.load(id).await.unwrap_or_else(|e| fail(e)),
        Some(unlocked.clone()),
        "an unlocked cart holds no lock"
    );
    let (invited, invite) = crate::commands::create_invite(
        &unlocked,
        &alice,
        "ab".repeat(32),
        crate::invite::InviteTerms::default(),
        now,
    )
    .unwrap_or_else(|e| panic!("{e}"));
    store
        .save(Some(&unlocked), &invited)
        .await
        .unwrap_or_else(|e| fail(e));
    let joiner = user("joiner");
    let joined = crate::commands::accept_invite(&invited, &joiner, &invite.secret_hash, now)
        .unwrap_or_else(|e| panic!("{e}"));
    store
        .save(Some(&invited), &joined)
        .await
        .unwrap_or_else(|e| fail(e));
    assert_eq!(
        store.load(id).await.unwrap_or_else(|e| fail(e)),
        Some(joined),
        "invites round-trip with their hash, terms and uses"
    );
    assert_eq!(
        store.carts_of(&joiner).await.unwrap_or_else(|e| fail(e)),
        [id],
        "a member who joined by invite is in the index"
    );
}

/// What a store must do when writers race: a write from a stale read, or a create over an
/// existing id, is a conflict that changes nothing, the membership index included.
pub async fn cart_store_conflicts(store: &dyn CartStore) {
    use crate::commands::{add_item, share};
    use crate::quantity::Quantity;
    let fail = |e: crate::ports::StoreError| -> ! { panic!("{e}") };
    let now = crate::service::now();
    let alice = user("alice");
    let created = Cart::new(CartId::new(), alice.clone(), Currency::DEFAULT, now);
    store.save(None, &created).await.unwrap_or_else(|e| fail(e));
    assert!(
        store
            .save(None, &created)
            .await
            .is_err_and(|e| e.is_conflict()),
        "creating a cart whose id exists is a conflict"
    );

    let shared = share(&created, &alice, &[user("bob")], Role::Editor, now)
        .unwrap_or_else(|e| panic!("{e}"));
    store
        .save(Some(&created), &shared)
        .await
        .unwrap_or_else(|e| fail(e));
    let one = Quantity::try_from(1u32).unwrap_or_else(|e| panic!("{e}"));
    let stale =
        add_item(&created, &alice, &sample_items()[0], one, now).unwrap_or_else(|e| panic!("{e}"));
    match store.save(Some(&created), &stale).await {
        Err(crate::ports::StoreError::Conflict { current }) => assert!(
            current.is_none() || current == Some(shared.version),
            "a conflict names the stored version if it names one: {current:?}"
        ),
        other => panic!("a write from a stale read must conflict, got {other:?}"),
    }
    let stale_share = share(&created, &alice, &[user("carol")], Role::Viewer, now)
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(
        store
            .save(Some(&created), &stale_share)
            .await
            .is_err_and(|e| e.is_conflict()),
        "a membership change from a stale read conflicts too"
    );
    assert_eq!(
        store
            .carts_of(&user("carol"))
            .await
            .unwrap_or_else(|e| fail(e)),
        [],
        "and leaves the index as it was"
    );
    assert_eq!(
        store
            .load(created.cart_id)
            .await
            .unwrap_or_else(|e| fail(e)),
        Some(shared),
        "the stored cart is the one that won"
    );
}

/// What every `Catalog` must do, from an empty one: items round-trip, pages come in id order,
/// stock changes only for items that exist.
pub async fn catalog_contract(catalog: &dyn crate::ports::Catalog) {
    let fail = |e: crate::ports::StoreError| -> ! { panic!("{e}") };
    let items = sample_items();
    for item in &items {
        catalog.put(item).await.unwrap_or_else(|e| fail(e));
    }
    let (apple, pear, fig) = (&items[0], &items[1], &items[2]);
    assert_eq!(
        catalog
            .item(&pear.item_id)
            .await
            .unwrap_or_else(|e| fail(e)),
        Some(pear.clone())
    );
    let unknown = ItemId::parse("unknown").unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        catalog.item(&unknown).await.unwrap_or_else(|e| fail(e)),
        None
    );
    let found = catalog
        .items(&[apple.item_id.clone(), unknown.clone()])
        .await
        .unwrap_or_else(|e| fail(e));
    assert_eq!(found.len(), 1);
    assert_eq!(found.get(&apple.item_id), Some(apple));

    let ids = |page: Vec<Item>| page.into_iter().map(|i| i.item_id).collect::<Vec<_>>();
    let first = catalog.list(None, 2).await.unwrap_or_else(|e| fail(e));
    assert_eq!(ids(first), [apple.item_id.clone(), fig.item_id.clone()]);
    let rest = catalog
        .list(Some(&fig.item_id), 2)
        .await
        .unwrap_or_else(|e| fail(e));
    assert_eq!(ids(rest), std::slice::from_ref(&pear.item_id));

    let restocked = catalog
        .set_stock(&fig.item_id, 7)
        .await
        .unwrap_or_else(|e| fail(e));
    assert_eq!(restocked.map(|i| i.stock), Some(7));
    assert_eq!(
        catalog
            .item(&fig.item_id)
            .await
            .unwrap_or_else(|e| fail(e))
            .map(|i| i.stock),
        Some(7)
    );
    assert_eq!(
        catalog
            .set_stock(&unknown, 7)
            .await
            .unwrap_or_else(|e| fail(e)),
        None
    );
    assert_eq!(
        catalog.item(&unknown).await.unwrap_or_else(|e| fail(e)),
        None
    );
}

/// What every `StockLedger` must do, over `catalog` (the same store, empty): each checkout takes
/// a line once however often it is asked, never below zero, and an unknown item takes nothing.
pub async fn stock_ledger_contract(
    ledger: &dyn crate::inventory::StockLedger,
    catalog: &dyn crate::ports::Catalog,
) {
    use crate::inventory::Take;
    let fail = |e: crate::ports::StoreError| -> ! { panic!("{e}") };
    let pear = sample_items()[1].clone(); // stock 5
    catalog.put(&pear).await.unwrap_or_else(|e| fail(e));
    let (first, second) = (CartId::new(), CartId::new());
    assert_eq!(
        ledger
            .take(first, &pear.item_id, 3)
            .await
            .unwrap_or_else(|e| fail(e)),
        Take::Taken { remaining: 2 }
    );
    assert_eq!(
        ledger
            .take(first, &pear.item_id, 3)
            .await
            .unwrap_or_else(|e| fail(e)),
        Take::AlreadyTaken,
        "a redelivered checkout takes nothing more"
    );
    assert_eq!(
        ledger
            .take(second, &pear.item_id, 3)
            .await
            .unwrap_or_else(|e| fail(e)),
        Take::Short { available: 2 },
        "stock never goes below zero"
    );
    assert_eq!(
        ledger
            .take(second, &pear.item_id, 2)
            .await
            .unwrap_or_else(|e| fail(e)),
        Take::Taken { remaining: 0 },
        "a shortage recorded nothing, so the checkout may take what there is later"
    );
    let stock = catalog
        .item(&pear.item_id)
        .await
        .unwrap_or_else(|e| fail(e))
        .map(|i| i.stock);
    assert_eq!(stock, Some(0), "the catalog shows what was taken");
    let unknown = ItemId::parse("unknown").unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        ledger
            .take(first, &unknown, 1)
            .await
            .unwrap_or_else(|e| fail(e)),
        Take::UnknownItem
    );
}

/// What a `StockLedger` must do when checkouts race for one item (from an empty store, with
/// `catalog` over it): twenty checkouts of one apple each, all at once, against a stock of
/// twelve. Exactly twelve take one; the rest are short; the stock ends at zero. A store whose
/// conditional write is not atomic lets two takes read the same stock and both land.
pub async fn stock_ledger_races(
    ledger: Arc<dyn crate::inventory::StockLedger>,
    catalog: &dyn crate::ports::Catalog,
) {
    use crate::inventory::Take;
    let fail = |e: crate::ports::StoreError| -> ! { panic!("{e}") };
    let mut apple = sample_items()[0].clone();
    apple.stock = 12;
    catalog.put(&apple).await.unwrap_or_else(|e| fail(e));
    let mut takes = tokio::task::JoinSet::new();
    for _ in 0..20 {
        let (ledger, item) = (ledger.clone(), apple.item_id.clone());
        takes.spawn(async move { ledger.take(CartId::new(), &item, 1).await });
    }
    let mut remaining = Vec::new();
    let mut short = 0;
    while let Some(joined) = takes.join_next().await {
        match joined.unwrap_or_else(|e| panic!("{e}")) {
            Ok(Take::Taken { remaining: left }) => remaining.push(left),
            Ok(Take::Short { available: 0 }) => short += 1,
            other => panic!("a racing take answered {other:?}"),
        }
    }
    remaining.sort_unstable();
    assert_eq!(
        remaining,
        (0..12).collect::<Vec<u32>>(),
        "each take saw the stock the one before it left"
    );
    assert_eq!(short, 8);
    let stock = catalog
        .item(&apple.item_id)
        .await
        .unwrap_or_else(|e| fail(e))
        .map(|i| i.stock);
    assert_eq!(stock, Some(0));
}

/// What every `IdempotencyStore` must do, from an empty one: one claim per key at a time, the
/// first answer replayed, another request under the same key refused, a released or abandoned
/// claim taken over, and a record forgotten after a day.
pub async fn idempotency_contract(store: &dyn crate::idempotency::IdempotencyStore) {
    use crate::idempotency::{CLAIM_LEASE, Claim, RECORD_TTL, RecordKey, StoredResponse};
    let fail = |e: crate::ports::StoreError| -> ! { panic!("{e}") };
    let now = crate::service::now();
    let fresh = uuid::Uuid::new_v4().to_string();
    let key = RecordKey::new(&user("alice"), &fresh).unwrap_or_else(|e| panic!("{e}"));
    let claim = |fingerprint: &'static str, at| {
        let key = key.clone();
        async move {
            store
                .claim(&key, fingerprint, at)
                .await
                .unwrap_or_else(|e| fail(e))
        }
    };
    assert_eq!(claim("POST /carts {}", now).await, Claim::Claimed);
    assert_eq!(claim("POST /carts {}", now).await, Claim::InFlight);
    assert_eq!(claim("POST /carts {\"x\":1}", now).await, Claim::Mismatch);
    let answer = StoredResponse {
        status: 201,
        headers: vec![
            ("content-type".into(), "application/json".into()),
            ("etag".into(), "\"1\"".into()),
        ],
        body: "{\"cartId\":\"c\"}".into(),
    };
    store
        .complete(&key, &answer)
        .await
        .unwrap_or_else(|e| fail(e));
    assert_eq!(
        claim("POST /carts {}", now).await,
        Claim::Done(answer.clone())
    );
    assert_eq!(claim("POST /carts {\"x\":1}", now).await, Claim::Mismatch);
    assert_eq!(
        claim("POST /carts {}", now + RECORD_TTL).await,
        Claim::Claimed,
        "a record is forgotten after a day"
    );

    let bobs = RecordKey::new(&user("bob"), &fresh).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        store
            .claim(&bobs, "POST /carts {}", now)
            .await
            .unwrap_or_else(|e| fail(e)),
        Claim::Claimed,
        "keys are per user"
    );
    store.release(&bobs).await.unwrap_or_else(|e| fail(e));
    assert_eq!(
        store
            .claim(&bobs, "DELETE /carts/c/items/apple", now)
            .await
            .unwrap_or_else(|e| fail(e)),
        Claim::Claimed,
        "a released key is free again"
    );
    let later = now + CLAIM_LEASE;
    assert_eq!(
        store
            .claim(&bobs, "DELETE /carts/c/items/apple", later)
            .await
            .unwrap_or_else(|e| fail(e)),
        Claim::Claimed,
        "a claim that never completed is taken over after its lease"
    );
}

/// The transactional outbox's promise (`crate::unpublished`), run against each cart store with
/// a store of its own (no other relay may share it):
///
/// - every mutating operation, checkout included, that ends right after its save (as a function
///   killed there would) still has its event published by the relay, exactly once and in order;
/// - with the publisher down (the broker and the SQS outbox both), every change is answered, and
///   once the publisher is back the relay publishes each of their events once, in order;
/// - an event the hot path published leaves the record by itself.
pub async fn unpublished_events_contract(store: Arc<dyn CartStore>) {
    use crate::EventType::*;
    use crate::commands::LineChange;
    use crate::unpublished::Relay;
    use std::sync::atomic::{AtomicBool, Ordering};

    let catalog = Arc::new(MemoryCatalog::with(sample_items()));
    let events = Arc::new(RecordingPublisher::default());
    let crash = Arc::new(AtomicBool::new(true));
    let carts = CartService::new(store.clone(), catalog, events.clone())
        .with_crash_after_save(crash.clone());
    let relay = Relay::new(store.clone(), events.clone(), std::time::Duration::ZERO);
    let owner = user(&format!("crash-{}", uuid::Uuid::new_v4().simple()));
    let bob = user("bob");
    let (apple, pear) = (&sample_items()[0].item_id, &sample_items()[1].item_id);
    let quantity = |n: u32| crate::Quantity::try_from(n).unwrap_or_else(|e| panic!("{e}"));
    let crashed = |what: &str, outcome: Result<Cart, crate::CartError>| match outcome {
        Err(crate::CartError::Unavailable(_)) => {}
        other => panic!("{what} should have ended after its save, got {other:?}"),
    };

    crashed("create", carts.create(&owner, Currency::DEFAULT, &[]).await);
    let id = match store.carts_of(&owner).await.as_deref() {
        Ok([id]) => *id,
        other => panic!("the crashed create saved its cart: {other:?}"),
    };
    relayed_once(&relay, &events, store.as_ref(), id, CartCreated, 1).await;

    let steps: Vec<(crate::EventType, &str)> = vec![
        (CartItemAdded, "add an apple"),
        (CartItemAdded, "add a pear"),
        (CartModified, "modify"),
        (CartItemRemoved, "remove the pear"),
        (CartShared, "share"),
        (CartUnshared, "unshare"),
        (CartCheckedOut, "checkout"),
    ];
    for (version, (kind, what)) in (2u64..).zip(steps) {
        let outcome = match what {
            "add an apple" => carts.add_item(&owner, id, apple, quantity(2)).await,
            "add a pear" => carts.add_item(&owner, id, pear, quantity(1)).await,
            "modify" => {
                let change = LineChange {
                    item_id: apple.clone(),
                    quantity: Some(quantity(3)),
                };
                carts.modify(&owner, id, None, &[change]).await
            }
            "remove the pear" => carts.remove_item(&owner, id, pear).await,
            "share" => {
                carts
                    .share(&owner, id, std::slice::from_ref(&bob), Role::Editor)
                    .await
            }
            "unshare" => carts.unshare(&owner, id, &bob).await,
            _ => carts.checkout(&owner, id).await,
        };
        crashed(what, outcome);
        let event = relayed_once(&relay, &events, store.as_ref(), id, kind, version).await;
        if kind == CartUnshared {
            assert!(
                event.members.contains(&bob),
                "the member removed hears of it"
            );
        }
    }

    // The broker and the outbox both down: every change is still answered.
    crash.store(false, Ordering::SeqCst);
    events.set_down(true);
    let cart = carts
        .create(&owner, Currency::DEFAULT, &[])
        .await
        .unwrap_or_else(|e| panic!("a change is answered while the publisher is down: {e}"));
    for _ in 0..2 {
        carts
            .add_item(&owner, cart.cart_id, apple, quantity(1))
            .await
            .unwrap_or_else(|e| panic!("{e}"));
    }
    carts
        .checkout(&owner, cart.cart_id)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let refused = relay.run_once().await.unwrap_or_else(|e| panic!("{e}"));
    assert!(refused.failed >= 1 && refused.published == 0, "{refused:?}");
    events.set_down(false);
    relay.run_once().await.unwrap_or_else(|e| panic!("{e}"));
    let heard: Vec<(crate::EventType, u64)> = events
        .events()
        .iter()
        .filter(|e| e.cart_id == cart.cart_id)
        .map(|e| (e.event_type, e.version))
        .collect();
    assert_eq!(
        heard,
        [
            (CartCreated, 1),
            (CartItemAdded, 2),
            (CartItemAdded, 3),
            (CartCheckedOut, 4)
        ],
        "once the publisher is back, every event arrives once and in order"
    );
    assert_eq!(unpublished_in(store.as_ref(), cart.cart_id).await, 0);
    let listed = store
        .carts_with_unpublished()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(
        !listed.contains(&id) && !listed.contains(&cart.cart_id),
        "once their events are out, the relay stops finding the carts"
    );

    // Published on the hot path: the record lets go of it by itself.
    let quick = carts
        .create(&owner, Currency::DEFAULT, &[])
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    for _ in 0..200 {
        if unpublished_in(store.as_ref(), quick.cart_id).await == 0 {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    panic!("an event the hot path published stayed in its cart's record");
}

/// How many unpublished events cart `id`'s record holds.
async fn unpublished_in(store: &dyn CartStore, id: CartId) -> usize {
    store
        .load(id)
        .await
        .unwrap_or_else(|e| panic!("{e}"))
        .map_or(0, |cart| cart.unpublished.len())
}

/// Runs the relay and checks it published cart `id`'s event `kind` at `version`, and nothing
/// else of that cart, and that a second pass publishes nothing more.
async fn relayed_once(
    relay: &crate::unpublished::Relay,
    events: &RecordingPublisher,
    store: &dyn CartStore,
    id: CartId,
    kind: crate::EventType,
    version: u64,
) -> crate::CartEvent {
    let of_cart = || -> Vec<crate::CartEvent> {
        events
            .events()
            .into_iter()
            .filter(|e| e.cart_id == id)
            .collect()
    };
    let before = of_cart().len();
    assert_eq!(
        unpublished_in(store, id).await,
        1,
        "the crashed {kind:?} left its event in the record"
    );
    for _ in 0..2 {
        relay.run_once().await.unwrap_or_else(|e| panic!("{e}"));
    }
    let heard = of_cart();
    let new = &heard[before..];
    assert_eq!(
        new.iter()
            .map(|e| (e.event_type, e.version))
            .collect::<Vec<_>>(),
        [(kind, version)],
        "the relay publishes the crashed change's event once"
    );
    assert_eq!(unpublished_in(store, id).await, 0, "and settles it");
    new[0].clone()
}

/// What every `AnalyticsStore` must do, run against each implementation: counts add up by day
/// and item, an event counts once however often it is recorded (also when recorded at once by
/// many), and a cart counts as shared once. Its days are picked at random, so a store that
/// outlives one run (a table on moto) still starts each run empty.
pub async fn analytics_store_contract(store: &dyn crate::analytics::AnalyticsStore) {
    use crate::analytics::{Day, DayReport, FunnelCounts, ItemCounts, ItemDay, Tally};
    let random_day = || {
        let offset = i64::from(uuid::Uuid::new_v4().as_bytes()[0]) * 97
            + i64::from(uuid::Uuid::new_v4().as_bytes()[1]);
        let date = chrono::NaiveDate::from_ymd_opt(2000, 1, 1).unwrap_or_default()
            + chrono::Duration::days(offset);
        Day::parse(&date.format("%Y-%m-%d").to_string()).unwrap_or_else(|e| panic!("{e}"))
    };
    let (day, other) = (random_day(), random_day());
    let (day, other) = if day == other {
        (
            day,
            Day::parse("1999-12-31").unwrap_or_else(|e| panic!("{e}")),
        )
    } else {
        (day, other)
    };
    let item = |raw: &str| ItemId::parse(raw).unwrap_or_else(|e| panic!("{e}"));
    let (apple, pear) = (item("apple"), item("pear"));
    let cart = CartId::new();
    let tally = |day: Day, items: Vec<(&ItemId, ItemCounts)>, funnel: FunnelCounts| Tally {
        event_id: uuid::Uuid::new_v4(),
        day,
        items: items.into_iter().map(|(i, c)| (i.clone(), c)).collect(),
        funnel,
        shares: None,
    };
    let record =
        |tally: Tally| async move { store.record(&tally).await.unwrap_or_else(|e| panic!("{e}")) };

    let created = tally(
        day,
        vec![
            (
                &apple,
                ItemCounts {
                    added: 3,
                    ..Default::default()
                },
            ),
            (
                &pear,
                ItemCounts {
                    added: 1,
                    ..Default::default()
                },
            ),
        ],
        FunnelCounts {
            created: 1,
            ..Default::default()
        },
    );
    assert!(record(created.clone()).await, "a new event counts");
    assert!(!record(created).await, "the same event again does not");
    record(tally(
        day,
        vec![(
            &apple,
            ItemCounts {
                removed: 1,
                ..Default::default()
            },
        )],
        FunnelCounts::default(),
    ))
    .await;
    for _ in 0..2 {
        let mut shared = tally(day, Vec::new(), FunnelCounts::default());
        shared.shares = Some(cart);
        assert!(record(shared).await, "each share event counts once");
    }
    record(tally(
        day,
        vec![(
            &apple,
            ItemCounts {
                checked_out: 2,
                ..Default::default()
            },
        )],
        FunnelCounts {
            checked_out: 1,
            ..Default::default()
        },
    ))
    .await;
    let racing = tally(
        day,
        vec![(
            &pear,
            ItemCounts {
                short: 1,
                ..Default::default()
            },
        )],
        FunnelCounts::default(),
    );
    let counted = futures_util::future::join_all((0..8).map(|_| record(racing.clone()))).await;
    assert_eq!(
        counted.iter().filter(|c| **c).count(),
        1,
        "eight deliveries of one event at once count it once"
    );
    record(tally(
        other,
        vec![(
            &apple,
            ItemCounts {
                added: 5,
                ..Default::default()
            },
        )],
        FunnelCounts::default(),
    ))
    .await;

    let report = store.day(day).await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        report,
        DayReport {
            day,
            funnel: FunnelCounts {
                created: 1,
                shared: 1,
                checked_out: 1
            },
            items: vec![
                ItemDay {
                    item_id: apple.clone(),
                    counts: ItemCounts {
                        added: 3,
                        removed: 1,
                        checked_out: 2,
                        short: 0
                    },
                },
                ItemDay {
                    item_id: pear.clone(),
                    counts: ItemCounts {
                        added: 1,
                        short: 1,
                        ..Default::default()
                    },
                },
            ],
        },
        "a cart counts as shared once, and every event once"
    );
    let elsewhere = store.day(other).await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(elsewhere.items.len(), 1, "each day its own counts");
    assert_eq!(elsewhere.funnel, FunnelCounts::default());
}

/// What every `Directory` must do, run against each implementation: a profile is found by its
/// verified email and user name (whatever their case), is replaced whole when its user signs in
/// again (the old email finds nobody), and a handle two users share finds both. Its handles are
/// random, so a store that outlives one run still starts each run clean.
pub async fn directory_contract(directory: &dyn crate::directory::Directory) {
    use crate::directory::{Email, Handle, Profile, UserName, find_one};
    let run = uuid::Uuid::new_v4().simple().to_string();
    let email = |local: &str| {
        Email::parse("email", &format!("{local}.{run}@Example.com"))
            .unwrap_or_else(|e| panic!("{e}"))
    };
    let name = |raw: &str| {
        UserName::parse("userName", &format!("{raw}-{run}")).unwrap_or_else(|e| panic!("{e}"))
    };
    let who = |raw: &str| user(&format!("{raw}-{run}"));
    let dana = Profile {
        user_id: who("dana"),
        name: Some("Dana Lee".into()),
        email: Some(email("dana")),
        user_name: Some(name("Dana")),
    };
    let remember = |profile: Profile| async move {
        directory
            .remember(&profile)
            .await
            .unwrap_or_else(|e| panic!("{e}"))
    };
    let find = |handle: Handle| async move {
        directory
            .find(&handle)
            .await
            .unwrap_or_else(|e| panic!("{e}"))
    };
    remember(dana.clone()).await;
    assert_eq!(
        directory.profile(&dana.user_id).await.ok().flatten(),
        Some(dana.clone())
    );
    assert_eq!(
        find(Handle::Email(email("DANA"))).await,
        vec![dana.user_id.clone()]
    );
    assert_eq!(
        find(Handle::UserName(name("dana"))).await,
        vec![dana.user_id.clone()]
    );
    assert_eq!(
        find(Handle::Email(email("erin"))).await,
        Vec::<UserId>::new()
    );

    let moved = Profile {
        email: Some(email("dana.lee")),
        user_name: None,
        ..dana.clone()
    };
    remember(moved.clone()).await;
    assert_eq!(
        find(Handle::Email(email("dana"))).await,
        Vec::<UserId>::new(),
        "the old email finds nobody"
    );
    assert_eq!(
        find(Handle::UserName(name("dana"))).await,
        Vec::<UserId>::new()
    );
    assert_eq!(
        find(Handle::Email(email("dana.lee"))).await,
        vec![dana.user_id.clone()]
    );

    let twin = Profile {
        user_id: who("twin"),
        name: None,
        email: Some(email("dana.lee")),
        user_name: None,
    };
    remember(twin.clone()).await;
    let mut both = find(Handle::Email(email("dana.lee"))).await;
    both.sort();
    let mut expected = vec![dana.user_id.clone(), twin.user_id.clone()];
    expected.sort();
    assert_eq!(both, expected, "an address two profiles share finds both");
    assert_eq!(
        find_one(directory, &Handle::Email(email("dana.lee")))
            .await
            .unwrap_or_else(|e| panic!("{e}")),
        None,
        "and so names no one to share with"
    );
    assert_eq!(directory.profile(&who("nobody")).await.ok().flatten(), None);
}

/// What every notification store must do: decide each (event, member) once, count mails against
/// the member's hour in the same write, list newest first, and keep the mail setting.
pub async fn notification_store_contract(store: &dyn crate::notification::NotificationStore) {
    use crate::notification::{Mailing, Notice, Plan, Recorded, Topic};
    use chrono::{DateTime, Utc};
    let fail = |e: crate::ports::StoreError| -> ! { panic!("{e}") };
    let run = uuid::Uuid::new_v4().simple().to_string();
    let (dana, finn) = (user(&format!("dana-{run}")), user(&format!("finn-{run}")));
    let at = |minute: i64| {
        DateTime::parse_from_rfc3339("2026-12-02T09:00:00Z")
            .map(|t| t.with_timezone(&Utc))
            .unwrap_or_else(|e| panic!("{e}"))
            + chrono::Duration::minutes(minute)
    };
    let notice = |topic: Topic, minute: i64| Notice {
        event_id: uuid::Uuid::new_v4(),
        topic,
        cart_id: CartId::new(),
        owner_name: Some("Dana Lee".into()),
        actor: dana.clone(),
        actor_name: Some("Dana Lee".into()),
        occurred_at: at(minute),
    };
    let mail = Plan::Mail { per_hour: 2 };

    // Listed only: decided once, whatever a redelivery plans.
    let seen = notice(Topic::Locked, 0);
    let first = store.record(&finn, &seen, Plan::ListOnly(Mailing::Connected), at(0));
    assert_eq!(
        first.await.unwrap_or_else(|e| fail(e)),
        Recorded::New(Mailing::Connected)
    );
    let again = store.record(&finn, &seen, mail, at(1)).await;
    assert_eq!(
        again.unwrap_or_else(|e| fail(e)),
        Recorded::Before(Mailing::Connected)
    );

    // Mailed: two an hour, the third listed as rate limited, the next hour mailed again.
    let (one, two, three, later) = (
        notice(Topic::Added, 2),
        notice(Topic::Locked, 3),
        notice(Topic::CheckedOut, 4),
        notice(Topic::StockShort, 61),
    );
    for (n, minute, expected) in [
        (&one, 2, Mailing::Pending),
        (&two, 3, Mailing::Pending),
        (&three, 4, Mailing::RateLimited),
        (&later, 61, Mailing::Pending),
    ] {
        let recorded = store.record(&finn, n, mail, at(minute)).await;
        assert_eq!(
            recorded.unwrap_or_else(|e| fail(e)),
            Recorded::New(expected)
        );
    }
    // A redelivery finds the mail pending until it is marked sent, and counts nothing again.
    let redelivered = store.record(&finn, &one, mail, at(5)).await;
    assert!(redelivered.unwrap_or_else(|e| fail(e)).to_mail());
    store
        .mark(&finn, &one, Mailing::Sent)
        .await
        .unwrap_or_else(|e| fail(e));
    let after_mark = store.record(&finn, &one, mail, at(6)).await;
    assert_eq!(
        after_mark.unwrap_or_else(|e| fail(e)),
        Recorded::Before(Mailing::Sent)
    );

    // The list: newest first, limited, the member's own only.
    let listed = store.list(&finn, 10).await.unwrap_or_else(|e| fail(e));
    let order: Vec<_> = listed
        .iter()
        .map(|n| (n.notice.event_id, n.mailing))
        .collect();
    assert_eq!(
        order,
        vec![
            (later.event_id, Mailing::Pending),
            (three.event_id, Mailing::RateLimited),
            (two.event_id, Mailing::Pending),
            (one.event_id, Mailing::Sent),
            (seen.event_id, Mailing::Connected),
        ]
    );
    assert_eq!(listed[0].notice, later, "a notice reads back whole");
    let newest_two = store.list(&finn, 2).await.unwrap_or_else(|e| fail(e));
    assert_eq!(newest_two.len(), 2);
    assert_eq!(newest_two[0].notice.event_id, later.event_id);
    assert!(
        store
            .list(&dana, 10)
            .await
            .unwrap_or_else(|e| fail(e))
            .is_empty()
    );

    // The mail setting: on until turned off, and on again.
    assert!(!store.mails_off(&finn).await.unwrap_or_else(|e| fail(e)));
    store
        .set_mails_off(&finn, true)
        .await
        .unwrap_or_else(|e| fail(e));
    assert!(store.mails_off(&finn).await.unwrap_or_else(|e| fail(e)));
    assert!(!store.mails_off(&dana).await.unwrap_or_else(|e| fail(e)));
    store
        .set_mails_off(&finn, false)
        .await
        .unwrap_or_else(|e| fail(e));
    assert!(!store.mails_off(&finn).await.unwrap_or_else(|e| fail(e)));
}
