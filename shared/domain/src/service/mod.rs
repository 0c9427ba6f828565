//! The cart service: load, check, apply a command, save it conditionally together with its
//! event, publish the event.
//!
//! Commutative commands (add, remove, share, unshare, checkout, a modify without a precondition)
//! re-read and re-apply on a version conflict with a bounded, jittered backoff, so concurrent
//! members never lose each other's changes. A command made against a version the caller names
//! (`If-Match` / `expectedVersion`) is applied once and answers a conflict instead.

mod backoff;
mod items;

pub use backoff::Backoff;
pub use items::{ItemService, MAX_PAGE};

use crate::access::require_member;
use crate::cart::{Cart, Role, Status};
use crate::commands::{self, CheckoutOutcome, LineChange};
use crate::error::CartError;
use crate::event::{CartEvent, EventType};
use crate::ids::{CartId, ItemId, UserId};
use crate::invite::{Invite, InvitePreview, InviteTerms, InviteToken};
use crate::item::Item;
use crate::metrics::{self, Metric};
use crate::money::Currency;
use crate::order::OrderRequest;
use crate::ports::{CartStore, Catalog, Delivery, EventPublisher, OrderQueue, StoreError};
use crate::quantity::Quantity;
use crate::unpublished::{PublishedHere, Settles, settle};
use chrono::{DateTime, Utc};
use std::sync::Arc;

/// A change a command wants to make: the cart after it, and how to announce it.
struct Change {
    next: Cart,
    event: EventType,
    also_notify: Vec<UserId>,
    /// Whether a member's display name changed with it.
    names_changed: bool,
}

impl Change {
    fn announced_as(next: Cart, event: EventType) -> Self {
        Self {
            next,
            event,
            also_notify: Vec::new(),
            names_changed: false,
        }
    }
}

/// Every cart operation, written against the ports.
#[derive(Clone)]
pub struct CartService {
    store: Arc<dyn CartStore>,
    catalog: Arc<dyn Catalog>,
    events: Arc<dyn EventPublisher>,
    orders: Arc<dyn OrderQueue>,
    backoff: Backoff,
    published_here: Arc<PublishedHere>,
    settles: Arc<Settles>,
    settle_before_answering: bool,
    lock_lasts: chrono::Duration,
    actor_name: Option<Arc<str>>,
    #[cfg(any(test, feature = "testing"))]
    crash_after_save: Arc<std::sync::atomic::AtomicBool>,
}

/// How long a checkout lock lasts unless the service is told otherwise.
pub const DEFAULT_LOCK: chrono::Duration = chrono::Duration::minutes(15);

/// Wall-clock time truncated to milliseconds, the precision the API shows and every store keeps.
pub fn now() -> DateTime<Utc> {
    let now = Utc::now();
    DateTime::from_timestamp_millis(now.timestamp_millis()).unwrap_or(now)
}

impl CartService {
    /// A service over the given ports, retrying conflicts with the default backoff.
    pub fn new(
        store: Arc<dyn CartStore>,
        catalog: Arc<dyn Catalog>,
        events: Arc<dyn EventPublisher>,
    ) -> Self {
        Self {
            store,
            catalog,
            events,
            orders: Arc::new(crate::memory::RecordingOrders::default()),
            backoff: Backoff::default(),
            published_here: Arc::default(),
            settles: Arc::default(),
            settle_before_answering: false,
            lock_lasts: DEFAULT_LOCK,
            actor_name: None,
            #[cfg(any(test, feature = "testing"))]
            crash_after_save: Arc::default(),
        }
    }

    /// The same service handing checked-out carts to `orders` (by default they stay in the
    /// process, as the local stack's order service).
    pub fn with_orders(mut self, orders: Arc<dyn OrderQueue>) -> Self {
        self.orders = orders;
        self
    }

    /// The same service, settling each published event out of its record before it answers
    /// rather than after: a Lambda function's environment is frozen once it answers, and a task
    /// left running then finishes only if that environment is used again.
    pub fn settling_before_answering(mut self) -> Self {
        self.settle_before_answering = true;
        self
    }

    /// The same service, its checkout locks lapsing after `lasting` (at most
    /// [`commands::MAX_LOCK`]).
    pub fn with_lock_lasting(mut self, lasting: chrono::Duration) -> Self {
        self.lock_lasts = lasting.min(commands::MAX_LOCK);
        self
    }

    /// The same service, for a caller whose token names them `name`: each change they make
    /// keeps it as their display name in the cart (`Cart::names`). Cheap: the ports are shared.
    pub fn acting_as(&self, name: Option<&str>) -> CartService {
        let mut named = self.clone();
        named.actor_name = name.and_then(crate::cart::display_name).map(Arc::from);
        named
    }

    /// The same service with another retry policy.
    pub fn with_backoff(mut self, backoff: Backoff) -> Self {
        self.backoff = backoff;
        self
    }

    /// Waits for the settles this service runs in the background (each holds the store): for
    /// an owner about to close the store.
    pub async fn settled(&self) {
        self.settles.finished().await;
    }

    /// The catalog this service prices lines from.
    pub fn catalog(&self) -> &Arc<dyn Catalog> {
        &self.catalog
    }

    /// createCart: a new cart owned by `actor`, holding `initial`.
    pub async fn create(
        &self,
        actor: &UserId,
        currency: Currency,
        initial: &[(ItemId, Quantity)],
    ) -> Result<Cart, CartError> {
        let mut lines = Vec::with_capacity(initial.len());
        for (id, quantity) in initial {
            lines.push((self.known_item(id).await?, *quantity));
        }
        let cart = self.named(
            actor,
            commands::create(CartId::new(), actor, currency, &lines, now())?,
        );
        let (cart, event) = self
            .with_event(
                Change::announced_as(cart, EventType::CartCreated),
                actor,
                None,
            )
            .await?;
        self.store.save(None, &cart).await?;
        self.announce(&cart, event).await?;
        Ok(as_answered(cart))
    }

    /// getCart: the cart, if `actor` is a member.
    pub async fn get(&self, actor: &UserId, id: CartId) -> Result<Cart, CartError> {
        let cart = self.load(id).await?;
        require_member(&cart, actor)?;
        Ok(as_answered(cart))
    }

    /// listMyCarts: every cart `actor` owns or shares, newest change first.
    pub async fn carts_of(&self, actor: &UserId) -> Result<Vec<Cart>, CartError> {
        let mut carts = Vec::new();
        for id in self.store.carts_of(actor).await? {
            // The index may briefly name a cart the user just left; the cart itself decides.
            if let Some(cart) = self.store.load(id).await?
                && cart.role_of(actor).is_some()
            {
                carts.push(as_answered(cart.as_of(now())));
            }
        }
        carts.sort_by(|a, b| {
            b.updated_at
                .cmp(&a.updated_at)
                .then(a.cart_id.cmp(&b.cart_id))
        });
        Ok(carts)
    }

    /// addItemToCart: `quantity` more of `item`, retried until it lands.
    pub async fn add_item(
        &self,
        actor: &UserId,
        id: CartId,
        item: &ItemId,
        quantity: Quantity,
    ) -> Result<Cart, CartError> {
        let item = self.known_item(item).await?;
        self.apply(actor, id, None, |cart| {
            let next = commands::add_item(cart, actor, &item, quantity, now())?;
            Ok((Change::announced_as(next, EventType::CartItemAdded), ()))
        })
        .await
        .map(|(cart, ())| cart)
    }

    /// removeItemFromCart: the line for `item` goes, retried until it lands.
    pub async fn remove_item(
        &self,
        actor: &UserId,
        id: CartId,
        item: &ItemId,
    ) -> Result<Cart, CartError> {
        self.apply(actor, id, None, |cart| {
            let next = commands::remove_item(cart, actor, item, now())?;
            Ok((Change::announced_as(next, EventType::CartItemRemoved), ()))
        })
        .await
        .map(|(cart, ())| cart)
    }

    /// modifyCart: a batch of changes; with `expected`, only against that version.
    pub async fn modify(
        &self,
        actor: &UserId,
        id: CartId,
        expected: Option<u64>,
        changes: &[LineChange],
    ) -> Result<Cart, CartError> {
        let wanted: Vec<ItemId> = changes
            .iter()
            .filter(|c| c.quantity.is_some())
            .map(|c| c.item_id.clone())
            .collect();
        let items = self.catalog.items(&wanted).await?;
        self.apply(actor, id, expected, |cart| {
            let next = commands::modify(cart, actor, changes, &items, now())?;
            Ok((Change::announced_as(next, EventType::CartModified), ()))
        })
        .await
        .map(|(cart, ())| cart)
    }

    /// shareCart: `users` become members in `role`.
    pub async fn share(
        &self,
        actor: &UserId,
        id: CartId,
        users: &[UserId],
        role: Role,
    ) -> Result<Cart, CartError> {
        self.apply(actor, id, None, |cart| {
            let next = commands::share(cart, actor, users, role, now())?;
            Ok((Change::announced_as(next, EventType::CartShared), ()))
        })
        .await
        .map(|(cart, ())| cart)
    }

    /// unshareCart: `target` stops being a member; they hear of it once more.
    pub async fn unshare(
        &self,
        actor: &UserId,
        id: CartId,
        target: &UserId,
    ) -> Result<Cart, CartError> {
        self.apply(actor, id, None, |cart| {
            let next = commands::unshare(cart, actor, target, now())?;
            let change = Change {
                next,
                event: EventType::CartUnshared,
                also_notify: vec![target.clone()],
                names_changed: false,
            };
            Ok((change, ()))
        })
        .await
        .map(|(cart, ())| cart)
    }

    /// lockCart: the owner holds the cart's lines for checkout; a lock in force is extended.
    pub async fn lock(&self, actor: &UserId, id: CartId) -> Result<Cart, CartError> {
        self.apply(actor, id, None, |cart| {
            let next = commands::lock(cart, actor, self.lock_lasts, now())?;
            Ok((Change::announced_as(next, EventType::CartLocked), ()))
        })
        .await
        .map(|(cart, ())| cart)
    }

    /// updateCartSettings: the owner says who may lock the cart. A setting already in force
    /// changes nothing and answers the cart as it is.
    pub async fn set_who_may_lock(
        &self,
        actor: &UserId,
        id: CartId,
        who: crate::cart::WhoMayLock,
    ) -> Result<Cart, CartError> {
        let cart = self.load(id).await?;
        if commands::set_who_may_lock(&cart, actor, who, now())?.is_none() {
            return Ok(as_answered(cart));
        }
        self.apply(actor, id, None, |cart| {
            // Set to the same by another request since the read above: a version with nothing
            // new, rather than a retry loop for a race that changes nothing.
            let next = commands::set_who_may_lock(cart, actor, who, now())?
                .unwrap_or_else(|| cart.next_version(now()));
            Ok((
                Change::announced_as(next, EventType::CartSettingsChanged),
                (),
            ))
        })
        .await
        .map(|(cart, ())| cart)
    }

    /// unlockCart: the owner, or whoever locked the cart, lets its lines change again.
    pub async fn unlock(&self, actor: &UserId, id: CartId) -> Result<Cart, CartError> {
        self.apply(actor, id, None, |cart| {
            let next = commands::unlock(cart, actor, now())?;
            Ok((Change::announced_as(next, EventType::CartUnlocked), ()))
        })
        .await
        .map(|(cart, ())| cart)
    }

    /// createInvite: the owner's new invite link on `terms`, its token (the only time the
    /// token is seen: the cart keeps its hash), and the cart's version with it.
    pub async fn create_invite(
        &self,
        actor: &UserId,
        id: CartId,
        terms: InviteTerms,
    ) -> Result<(Invite, InviteToken, u64), CartError> {
        let token = InviteToken::generate(id)
            .map_err(|e| CartError::Unavailable(StoreError::unavailable(e.to_string())))?;
        let (cart, invite) = self
            .apply(actor, id, None, |cart| {
                let (next, invite) =
                    commands::create_invite(cart, actor, token.secret_hash(), terms, now())?;
                Ok((
                    Change::announced_as(next, EventType::CartInviteCreated),
                    invite,
                ))
            })
            .await?;
        Ok((invite, token, cart.version))
    }

    /// listInvites: the cart's invites, newest first, for its owner.
    pub async fn invites(&self, actor: &UserId, id: CartId) -> Result<Vec<Invite>, CartError> {
        let cart = self.load(id).await?;
        if require_member(&cart, actor)? != Role::Owner {
            return Err(CartError::OwnerOnly("list invites"));
        }
        let mut invites = cart.invites;
        invites.reverse();
        Ok(invites)
    }

    /// revokeInvite: the owner takes invite `invite_id` back.
    pub async fn revoke_invite(
        &self,
        actor: &UserId,
        id: CartId,
        invite_id: &str,
    ) -> Result<(), CartError> {
        self.apply(actor, id, None, |cart| {
            let next = commands::revoke_invite(cart, actor, invite_id, now())?;
            Ok((Change::announced_as(next, EventType::CartInviteRevoked), ()))
        })
        .await
        .map(|_| ())
    }

    /// getInvite: what `token` opens, for whoever holds it, before they join.
    pub async fn preview_invite(
        &self,
        actor: &UserId,
        token: &InviteToken,
    ) -> Result<InvitePreview, CartError> {
        let cart = self.invited_to(token).await?;
        let hash = token.secret_hash();
        let invite = match commands::usable_invite(&cart, actor, &hash, now()) {
            Err(CartError::AlreadyAMember) => cart.invites.iter().find(|i| i.secret_hash == hash),
            Err(refused) => return Err(refused),
            Ok(invite) => Some(invite),
        }
        .ok_or(CartError::InviteNotFound)?;
        Ok(InvitePreview {
            cart_id: cart.cart_id,
            owner_id: cart.owner_id.clone(),
            owner_name: cart.name_of(&cart.owner_id).map(str::to_owned),
            role: invite.role,
            expires_at: invite.expires_at,
            member_count: cart.members.len(),
            item_count: cart.items.len(),
            already_member: cart.role_of(actor).is_some(),
        })
    }

    /// acceptInvite: `actor` joins the cart `token` opens, in its invite's role.
    pub async fn accept_invite(
        &self,
        actor: &UserId,
        token: &InviteToken,
    ) -> Result<Cart, CartError> {
        self.invited_to(token).await?;
        let hash = token.secret_hash();
        self.apply_admitting(Admit::InviteHolders, actor, token.cart_id, None, |cart| {
            let next = commands::accept_invite(cart, actor, &hash, now())?;
            Ok((Change::announced_as(next, EventType::CartJoined), ()))
        })
        .await
        .map(|(cart, ())| cart)
    }

    /// The cart `token` names; to its holder, a cart that does not exist is an invite that does
    /// not.
    async fn invited_to(&self, token: &InviteToken) -> Result<Cart, CartError> {
        match self.load(token.cart_id).await {
            Err(CartError::CartNotFound(_)) => Err(CartError::InviteNotFound),
            other => other,
        }
    }

    /// checkoutCart: validates stock and prices, closes the cart and hands its order to the
    /// order queue. When prices moved, the cart is saved at the new prices and the caller gets
    /// `PriceChanged` to review them.
    ///
    /// A cart that is already checked out is handed over again and answered as it is: a
    /// hand-off that failed after the cart closed (answered 503) completes when the caller
    /// retries, and the queue's consumer deduplicates by order id.
    #[tracing::instrument(name = "checkout", skip_all, fields(cart_id = %id, user_id = %actor))]
    pub async fn checkout(&self, actor: &UserId, id: CartId) -> Result<Cart, CartError> {
        // Stock is read fresh from the catalog on every attempt: never from a cache at checkout.
        let mut conflicts = 0u32;
        let (cart, repriced) =
            loop {
                let cart = self.load(id).await?;
                if cart.status == Status::CheckedOut {
                    require_member(&cart, actor)?;
                    if cart.role_of(actor) == Some(Role::Viewer) {
                        return Err(CartError::ReadOnly);
                    }
                    self.hand_off(&cart, actor).await?;
                    return Ok(as_answered(cart));
                }
                let ids: Vec<ItemId> = cart.items.iter().map(|l| l.item_id.clone()).collect();
                let fresh = self.catalog.items(&ids).await?;
                let attempt =
                    self.apply_once(Admit::Members, actor, &cart, None, |c| {
                        match commands::checkout(c, actor, &fresh, now())? {
                            CheckoutOutcome::CheckedOut(next) => {
                                Ok((Change::announced_as(next, EventType::CartCheckedOut), None))
                            }
                            CheckoutOutcome::Repriced(next, changes) => Ok((
                                Change::announced_as(next, EventType::CartModified),
                                Some(changes),
                            )),
                        }
                    })
                    .await;
                match attempt {
                    Err(Retry::Conflict(current)) => {
                        self.retry_after_conflict(id, None, &mut conflicts, current)
                            .await?
                    }
                    Err(Retry::Fail(e)) => return Err(e),
                    Ok(done) => break done,
                }
            };
        match repriced {
            None => {
                self.hand_off(&cart, actor).await?;
                Ok(cart)
            }
            Some(changes) => Err(CartError::PriceChanged {
                current: cart.version,
                changes,
            }),
        }
    }

    /// Hands the order of checked-out `cart` to the order queue; a failure is the store being
    /// unavailable to the caller (503), who checks out again to retry.
    async fn hand_off(&self, cart: &Cart, buyer: &UserId) -> Result<(), CartError> {
        let order = OrderRequest::for_cart(cart, buyer);
        self.orders.submit(&order).await.map_err(|e| {
            tracing::error!(error = %e, source = ?std::error::Error::source(&e), cart_id = %cart.cart_id,
                "the order could not be handed over; the cart is checked out and a retry hands it over");
            CartError::Unavailable(StoreError::unavailable(e))
        })
    }

    /// The cart as it stands now: a checkout lock past its expiry has lapsed.
    async fn load(&self, id: CartId) -> Result<Cart, CartError> {
        self.store
            .load(id)
            .await?
            .map(|cart| cart.as_of(now()))
            .ok_or(CartError::CartNotFound(id))
    }

    async fn known_item(&self, id: &ItemId) -> Result<Item, CartError> {
        self.catalog
            .item(id)
            .await?
            .ok_or_else(|| CartError::UnknownItem(id.clone()))
    }

    /// Runs `command` for a member against the latest cart until its conditional save lands,
    /// or, with `expected`, once against that version.
    async fn apply<T>(
        &self,
        actor: &UserId,
        id: CartId,
        expected: Option<u64>,
        command: impl Fn(&Cart) -> Result<(Change, T), CartError>,
    ) -> Result<(Cart, T), CartError> {
        self.apply_admitting(Admit::Members, actor, id, expected, command)
            .await
    }

    /// [`Self::apply`], for the callers `admit` lets through.
    #[tracing::instrument(name = "change", skip_all, fields(cart_id = %id, user_id = %actor))]
    async fn apply_admitting<T>(
        &self,
        admit: Admit,
        actor: &UserId,
        id: CartId,
        expected: Option<u64>,
        command: impl Fn(&Cart) -> Result<(Change, T), CartError>,
    ) -> Result<(Cart, T), CartError> {
        let mut attempt = 0;
        loop {
            let cart = self.load(id).await?;
            match self
                .apply_once(admit, actor, &cart, expected, &command)
                .await
            {
                Ok(done) => return Ok(done),
                Err(Retry::Fail(e)) => return Err(e),
                Err(Retry::Conflict(current)) => {
                    self.retry_after_conflict(id, expected, &mut attempt, current)
                        .await?;
                }
            }
        }
    }

    /// What to do after attempt `attempt` lost a conditional write: answer the conflict when the
    /// caller named a version, give up once the budget is spent, else wait and go again.
    async fn retry_after_conflict(
        &self,
        id: CartId,
        expected: Option<u64>,
        attempt: &mut u32,
        current: u64,
    ) -> Result<(), CartError> {
        if let Some(expected) = expected {
            return Err(CartError::VersionConflict { expected, current });
        }
        *attempt += 1;
        if *attempt >= self.backoff.attempts {
            metrics::count(Metric::RetriesExhausted, 1);
            tracing::warn!(cart_id = %id, attempt = *attempt, "giving up on a contended cart");
            return Err(CartError::Contended {
                attempts: *attempt,
                current,
            });
        }
        metrics::count(Metric::ConflictsRetried, 1);
        self.backoff.wait(*attempt).await;
        Ok(())
    }

    async fn apply_once<T>(
        &self,
        admit: Admit,
        actor: &UserId,
        cart: &Cart,
        expected: Option<u64>,
        command: impl Fn(&Cart) -> Result<(Change, T), CartError>,
    ) -> Result<(Cart, T), Retry> {
        // Membership first, so a stranger learns neither the version nor anything else.
        if admit == Admit::Members {
            require_member(cart, actor).map_err(Retry::Fail)?;
        }
        if let Some(expected) = expected
            && expected != cart.version
        {
            return Err(Retry::Fail(CartError::VersionConflict {
                expected,
                current: cart.version,
            }));
        }
        let (mut change, extra) = command(cart).map_err(Retry::Fail)?;
        change.next = self.named(actor, change.next);
        change.names_changed = change.next.names != cart.names;
        let (next, event) = self
            .with_event(change, actor, Some(cart))
            .await
            .map_err(Retry::Fail)?;
        match self.store.save(Some(cart), &next).await {
            Ok(()) => {
                self.announce(&next, event).await.map_err(Retry::Fail)?;
                Ok((as_answered(next), extra))
            }
            Err(StoreError::Conflict { current }) => {
                Err(Retry::Conflict(current.unwrap_or(cart.version + 1)))
            }
            Err(e) => Err(Retry::Fail(e.into())),
        }
    }

    /// Publishes the event of a change that is already saved with it, and once the topic has
    /// it, settles it out of the record in the background. A failure is logged, not answered:
    /// the change and its event are durable, and the relay publishes the event later.
    #[tracing::instrument(name = "announce", skip_all, fields(cart_id = %event.cart_id, version = event.version))]
    async fn announce(&self, saved: &Cart, event: CartEvent) -> Result<(), CartError> {
        metrics::count_for(Metric::ChangesSaved, Some(event.event_type.as_str()), 1);
        if self.crashes_after_save() {
            return Err(CartError::Unavailable(StoreError::unavailable(
                "the operation ended between its save and its publish (a test's crash)",
            )));
        }
        // Earlier events the record still carries go first: their publisher failed, sent them
        // to the SQS outbox (which drains later), or has not settled them yet. So members hear
        // this cart's versions in order after an outage, not the new one before the old; an
        // event whose publisher was merely slow goes out twice, and consumers drop the repeat.
        let mut published = Vec::new();
        let own = event.version;
        let earlier: Vec<CartEvent> = saved
            .unpublished
            .iter()
            .filter(|p| p.version < own)
            .filter_map(|p| p.decode().ok())
            .collect();
        for event in earlier.into_iter().chain(std::iter::once(event)) {
            match self.deliver(&event).await {
                Ok(Delivery::Topic) => published.push(event.version),
                // The SQS outbox drains later, and may give up on it: the event stays in the
                // record, and so do the ones after it (were they to reach the topic now, they
                // would come before it), for the next change of the cart or the relay to put on
                // the topic in order.
                Ok(Delivery::Outbox) => break,
                Err(e) => {
                    tracing::error!(error = %e, source = ?std::error::Error::source(&e), cart_id = %event.cart_id,
                        version = event.version, "event publish failed after the change was saved; the relay publishes it from the cart's record");
                    break;
                }
            }
        }
        if published.is_empty() {
            return Ok(());
        }
        if self.settle_before_answering {
            settle(self.store.as_ref(), saved.clone(), &published).await;
        } else {
            self.settles
                .spawn(self.store.clone(), saved.clone(), published);
        }
        Ok(())
    }

    /// `change`'s cart with its event among its unpublished ones, and the event: what the
    /// conditional write saves together.
    ///
    /// A record also carries the unpublished events of earlier versions, and a settle that
    /// lands between another writer's read and its write is undone by that write (the version
    /// is the same, so nothing conflicts). When the events would pass the record's budget, the
    /// ones it carries (all of committed changes) are published here first and dropped: a
    /// repeat at worst, which consumers drop. Only if they cannot be published is the change
    /// refused, since its own event could not be kept.
    async fn with_event(
        &self,
        change: Change,
        actor: &UserId,
        before: Option<&Cart>,
    ) -> Result<(Cart, CartEvent), CartError> {
        let Change {
            mut next,
            event,
            also_notify,
            names_changed,
        } = change;
        let mut event = CartEvent::new(event, &next, actor, &also_notify);
        event.names_changed = names_changed;
        event.lines =
            crate::event::LineChange::between(before.map_or(&[], |c| &c.items), &next.items);
        if let Some(before) = before {
            event.joined = next
                .members
                .iter()
                .filter(|m| before.role_of(&m.user_id).is_none())
                .map(|m| m.user_id.clone())
                .collect();
        }
        // What this process published itself need not be carried on.
        let mine = self.published_here.of(next.cart_id);
        next.unpublished.remove(&mine);
        if next.unpublished.push(&event, now()).is_ok() {
            return Ok((next, event));
        }
        let full = |why: String| {
            CartError::Unavailable(StoreError::unavailable(format!(
                "the cart's record is full of unpublished events and they cannot go on the topic: {why}"
            )))
        };
        let mut on_topic = Vec::new();
        for pending in next.unpublished.iter() {
            let earlier = pending.decode().map_err(|e| full(e.to_string()))?;
            // Only the topic counts: what the SQS outbox takes may come late or not at all.
            match self.deliver(&earlier).await {
                Ok(Delivery::Topic) => on_topic.push(earlier.version),
                Ok(Delivery::Outbox) => return Err(full("the topic refused them".into())),
                Err(e) => return Err(full(e.to_string())),
            }
        }
        next.unpublished.remove(&on_topic);
        next.unpublished
            .push(&event, now())
            .map_err(|e| CartError::Unavailable(StoreError::unavailable(e)))?;
        Ok((next, event))
    }

    /// Publishes `event`, and when it went on the topic counts it and remembers that this
    /// process published it (so a later change here does not carry it on).
    async fn deliver(&self, event: &CartEvent) -> Result<Delivery, crate::ports::PublishError> {
        let delivered = self.events.deliver(event).await;
        if let Ok(Delivery::Topic) = delivered {
            metrics::count(Metric::EventsPublished, 1);
            self.published_here.note(event.cart_id, event.version);
        }
        delivered
    }

    /// `next` with the caller's display name kept, and the names it no longer needs dropped.
    fn named(&self, actor: &UserId, mut next: Cart) -> Cart {
        match &self.actor_name {
            Some(name) => next.remember_name(actor, name),
            None => next.forget_unneeded_names(),
        }
        next
    }

    /// Whether a test asked this service to end every operation right after its save.
    fn crashes_after_save(&self) -> bool {
        #[cfg(any(test, feature = "testing"))]
        {
            self.crash_after_save
                .load(std::sync::atomic::Ordering::SeqCst)
        }
        #[cfg(not(any(test, feature = "testing")))]
        {
            false
        }
    }

    /// The same service, ending each operation right after its save, before its publish, as a
    /// function that dies there would, while `crash` is set (test builds only).
    #[cfg(any(test, feature = "testing"))]
    pub fn with_crash_after_save(mut self, crash: Arc<std::sync::atomic::AtomicBool>) -> Self {
        self.crash_after_save = crash;
        self
    }

    /// The switch of [`Self::with_crash_after_save`] this service (and every clone) reads.
    #[cfg(any(test, feature = "testing"))]
    pub fn crash_switch(&self) -> Arc<std::sync::atomic::AtomicBool> {
        self.crash_after_save.clone()
    }
}

/// The cart a caller is answered with: its events are the store's business, and are settled out
/// of the record in the background.
fn as_answered(mut cart: Cart) -> Cart {
    cart.unpublished = Default::default();
    cart
}

/// Who a change lets through before its command runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Admit {
    /// The cart's members: anyone else is told there is no such cart.
    Members,
    /// Anyone: the command itself checks the invite the caller holds.
    InviteHolders,
}

/// How one attempt ended when it did not land.
enum Retry {
    /// Lost the conditional write; the cart is at (at least) this version now.
    Conflict(u64),
    /// Failed for a reason retrying will not fix.
    Fail(CartError),
}

#[cfg(test)]
mod tests;
