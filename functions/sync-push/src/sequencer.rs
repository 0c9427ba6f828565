//! Which events to push now, and in what order. Two requests on one cart publish their events in
//! the order they finish, which need not be version order, so version 7 can reach the topic
//! before version 6. The sequencer remembers, per cart, the versions this instance pushed; an
//! event that skips a version waits (boundedly) for the missing one, and goes out right after
//! it. A repeat (a redelivered batch, an event the outbox relay republished after the broker took
//! it after all) is dropped. Past its wait, an event goes out anyway: a version the sequencer
//! then sees late is still pushed, and clients drop what is not newer than they hold.
//!
//! Time is passed in, so the rules are tested without a clock.

use domain::{CartEvent, CartId};
use std::collections::HashMap;
use std::time::{Duration, Instant};

/// How long an event waits for a missing earlier version of its cart. Two writers' publishes
/// are milliseconds apart; a version that takes longer went the outbox's way, and members
/// should not wait for that.
pub const HOLD_FOR_MISSING: Duration = Duration::from_millis(500);

/// Carts whose newest pushed version an instance remembers; past it, carts with nothing
/// waiting are forgotten (a forgotten cart costs at most one repeated push).
const REMEMBERED_CARTS: usize = 100_000;

/// Per cart: what was pushed, and what waits for a missing version.
pub struct Sequencer {
    carts: HashMap<CartId, Cart>,
    hold: Duration,
}

#[derive(Default)]
struct Cart {
    pushed: Pushed,
    /// Events past a missing version, by version (a notice right behind its change).
    waiting: Vec<Waiting>,
}

struct Waiting {
    event: CartEvent,
    since: Instant,
}

/// What became of an admitted event.
#[derive(Debug)]
pub enum Admitted {
    /// Pushed before: drop it.
    Repeat,
    /// It waits for an earlier version.
    Waiting,
    /// These go out now, in this order (the event, and any it released).
    Ready(Vec<CartEvent>),
}

impl Sequencer {
    /// A sequencer whose events wait at most `hold` for a missing version.
    pub fn new(hold: Duration) -> Self {
        Self {
            carts: HashMap::new(),
            hold,
        }
    }

    /// Takes `event`, seen at `now`.
    pub fn admit(&mut self, event: CartEvent, now: Instant) -> Admitted {
        if self.carts.len() >= REMEMBERED_CARTS && !self.carts.contains_key(&event.cart_id) {
            self.carts.retain(|_, cart| !cart.waiting.is_empty());
        }
        let cart = self.carts.entry(event.cart_id).or_default();
        let newest = cart.pushed.newest;
        let is_change = event.event_type.is_change();
        if is_change && cart.waiting.iter().any(|w| w.is_change_at(event.version)) {
            return Admitted::Repeat;
        }
        // A notice carries its change's version: it waits if that change still does.
        let must_wait = if is_change {
            newest != 0 && event.version > newest + 1
        } else {
            event.version > newest && !cart.waiting.is_empty()
        };
        if must_wait {
            let at = cart
                .waiting
                .partition_point(|w| w.event.version <= event.version);
            cart.waiting.insert(at, Waiting { event, since: now });
            return Admitted::Waiting;
        }
        if is_change && !cart.pushed.record(event.version) {
            return Admitted::Repeat;
        }
        let mut ready = vec![event];
        cart.release_next_in_line(&mut ready);
        Admitted::Ready(ready)
    }

    /// Events that waited `hold` or longer by `now`, in each cart's order, and what they release.
    pub fn release_due(&mut self, now: Instant) -> Vec<CartEvent> {
        let hold = self.hold;
        self.release_while(|since| since + hold <= now)
    }

    /// Every waiting event, in each cart's order: for a caller that cannot come back later.
    pub fn release_all(&mut self) -> Vec<CartEvent> {
        self.release_while(|_| true)
    }

    /// Gives up on each cart's gaps while its longest wait, begun `since`, is `over`.
    fn release_while(&mut self, over: impl Fn(Instant) -> bool) -> Vec<CartEvent> {
        let mut ready = Vec::new();
        for cart in self.carts.values_mut() {
            while cart.oldest_wait().is_some_and(&over) {
                cart.give_up_on_gap(&mut ready);
            }
        }
        ready
    }

    /// When the longest-waiting event's wait ends, if any waits.
    pub fn next_release(&self) -> Option<Instant> {
        self.carts
            .values()
            .filter_map(Cart::oldest_wait)
            .min()
            .map(|since| since + self.hold)
    }
}

impl Waiting {
    fn is_change_at(&self, version: u64) -> bool {
        self.event.event_type.is_change() && self.event.version == version
    }
}

impl Cart {
    fn oldest_wait(&self) -> Option<Instant> {
        self.waiting.iter().map(|w| w.since).min()
    }

    /// Moves the waiting events that now follow on (the next version, or a notice about one
    /// pushed) to `ready`.
    fn release_next_in_line(&mut self, ready: &mut Vec<CartEvent>) {
        while let Some(first) = self.waiting.first() {
            let event = &first.event;
            let next_in_line = if event.event_type.is_change() {
                event.version == self.pushed.newest + 1
            } else {
                event.version <= self.pushed.newest
            };
            if !next_in_line {
                return;
            }
            self.release_first(ready);
        }
    }

    /// Stops waiting for the first missing version: the earliest waiting event goes out, with
    /// whatever follows on from it.
    fn give_up_on_gap(&mut self, ready: &mut Vec<CartEvent>) {
        self.release_first(ready);
        self.release_next_in_line(ready);
    }

    /// Moves the earliest waiting event to `ready`, recording its version as pushed.
    fn release_first(&mut self, ready: &mut Vec<CartEvent>) {
        let event = self.waiting.remove(0).event;
        if event.event_type.is_change() {
            self.pushed.record(event.version);
        }
        ready.push(event);
    }
}

/// The versions of one cart pushed lately: the newest, and which of the 64 before it.
#[derive(Clone, Copy, Default)]
struct Pushed {
    newest: u64,
    /// Bit `n` set: version `newest - n` was pushed.
    recent: u64,
}

impl Pushed {
    /// Records `version`; false if it was pushed already (or is too old to tell, which only a
    /// redelivery far behind its cart's stream could be).
    fn record(&mut self, version: u64) -> bool {
        if version > self.newest {
            let shift = version - self.newest;
            self.recent = if shift >= 64 { 0 } else { self.recent << shift };
            self.recent |= 1;
            self.newest = version;
            return true;
        }
        let age = self.newest - version;
        if age >= 64 || self.recent & (1 << age) != 0 {
            return false;
        }
        self.recent |= 1 << age;
        true
    }
}

#[cfg(test)]
mod tests {
    use super::{Admitted, HOLD_FOR_MISSING, Pushed, Sequencer};
    use domain::testing::created_event;
    use domain::{CartEvent, EventType};
    use std::sync::LazyLock;
    use std::time::{Duration, Instant};

    /// One cart's events: each test's sequencer is fresh, so they may share the cart.
    static CREATED: LazyLock<CartEvent> = LazyLock::new(created_event);

    fn event_at(event_type: EventType, version: u64) -> CartEvent {
        CartEvent {
            event_type,
            version,
            ..CREATED.clone()
        }
    }

    fn change(version: u64) -> CartEvent {
        event_at(EventType::CartItemAdded, version)
    }

    fn waits(admitted: Admitted) -> bool {
        matches!(admitted, Admitted::Waiting)
    }

    fn repeats(admitted: Admitted) -> bool {
        matches!(admitted, Admitted::Repeat)
    }

    fn versions(events: &[CartEvent]) -> Vec<u64> {
        events.iter().map(|e| e.version).collect()
    }

    fn ready(admitted: Admitted) -> Vec<u64> {
        match admitted {
            Admitted::Ready(events) => versions(&events),
            other => panic!("expected events to push, got {other:?}"),
        }
    }

    #[test]
    fn a_version_is_pushed_once_even_when_it_comes_late() {
        let mut pushed = Pushed::default();
        assert!(pushed.record(4));
        assert!(pushed.record(5));
        assert!(!pushed.record(5), "a repeat");
        assert!(pushed.record(3), "late, but never pushed");
        assert!(!pushed.record(3));
        assert!(!pushed.record(4));
        assert!(pushed.record(200), "a jump past the window");
        assert!(!pushed.record(100), "too old to tell: treated as a repeat");
        assert!(pushed.record(199));
    }

    #[test]
    fn a_version_that_skips_one_waits_for_it_and_follows_it_out() {
        let mut sequencer = Sequencer::new(HOLD_FOR_MISSING);
        let now = Instant::now();
        assert_eq!(ready(sequencer.admit(change(5), now)), [5]);
        assert!(waits(sequencer.admit(change(7), now)));
        assert!(waits(sequencer.admit(change(8), now)));
        assert!(repeats(sequencer.admit(change(7), now)));
        assert_eq!(sequencer.next_release(), Some(now + HOLD_FOR_MISSING));
        assert_eq!(ready(sequencer.admit(change(6), now)), [6, 7, 8]);
        assert_eq!(sequencer.next_release(), None);
        assert!(repeats(sequencer.admit(change(7), now)));
    }

    #[test]
    fn a_notice_about_a_waiting_change_goes_out_behind_it() {
        let mut sequencer = Sequencer::new(HOLD_FOR_MISSING);
        let now = Instant::now();
        ready(sequencer.admit(change(1), now));
        assert!(waits(sequencer.admit(change(3), now)));
        let notice = event_at(EventType::CartStockShort, 3);
        assert!(waits(sequencer.admit(notice.clone(), now)));
        let Admitted::Ready(out) = sequencer.admit(change(2), now) else {
            panic!("version 2 releases the rest");
        };
        let kinds: Vec<(u64, bool)> = out
            .iter()
            .map(|e| (e.version, e.event_type.is_change()))
            .collect();
        assert_eq!(kinds, [(2, true), (3, true), (3, false)]);
        assert_eq!(
            ready(sequencer.admit(notice, now)),
            [3],
            "with nothing waiting, a notice goes out at once"
        );
    }

    #[test]
    fn past_its_wait_an_event_goes_out_without_the_missing_version() {
        let mut sequencer = Sequencer::new(Duration::from_millis(100));
        let start = Instant::now();
        ready(sequencer.admit(change(1), start));
        assert!(waits(sequencer.admit(change(4), start)));
        let later = start + Duration::from_millis(50);
        assert!(waits(sequencer.admit(change(3), later)));
        assert!(sequencer.release_due(later).is_empty());
        assert_eq!(
            versions(&sequencer.release_due(start + Duration::from_millis(100))),
            [3, 4],
            "the wait is counted from the first event held"
        );
        assert_eq!(
            ready(sequencer.admit(change(2), later)),
            [2],
            "the missing one, late, is still news"
        );
        assert_eq!(ready(sequencer.admit(change(5), later)), [5]);
    }

    #[test]
    fn a_cart_first_seen_mid_stream_waits_for_nothing_and_release_all_empties_the_rest() {
        let mut sequencer = Sequencer::new(HOLD_FOR_MISSING);
        let now = Instant::now();
        assert_eq!(ready(sequencer.admit(change(9), now)), [9]);
        assert!(waits(sequencer.admit(change(11), now)));
        assert_eq!(versions(&sequencer.release_all()), [11]);
        assert_eq!(sequencer.next_release(), None);
    }
}
