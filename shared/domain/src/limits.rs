//! How fast callers may go: the rates every edge enforces, with the token bucket that enforces
//! them. The numbers live here and nowhere else: the local gateway and `ws-message` use them,
//! the SAM template's throttles default to them, and the OpenAPI and message schemas document
//! them (tests hold all three to these constants). The size limits of what a request may carry
//! sit beside the types they bound (`cart::MAX_LINES`, `Quantity::MAX`, `ids`).

use std::borrow::Borrow;
use std::collections::HashMap;
use std::hash::Hash;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// A rate: a steady number of requests per second, and how many may come at once above it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rate {
    /// Requests per second, sustained.
    pub per_second: u32,
    /// Requests at once, on a bucket left to fill.
    pub burst: u32,
}

/// One user across every REST route: a person's clients (a page, a phone, their retries) stay
/// far under it; a script looping on the API meets it within a second. On AWS a WAF rate rule
/// holds each bearer token to it, counted over WAF's one-minute window (no burst there).
pub const PER_USER: Rate = Rate {
    per_second: 20,
    burst: 40,
};

/// Every caller of a stage together: API Gateway's stage throttle, REST and WebSocket. The local
/// stack serves one developer and does not apply it.
pub const PER_STAGE: Rate = Rate {
    per_second: 200,
    burst: 400,
};

/// Messages one WebSocket connection may send (`subscribe`, `ping`, ...): a page subscribes to
/// a few carts and pings now and then.
pub const PER_CONNECTION: Rate = Rate {
    per_second: 10,
    burst: 20,
};

/// WebSockets one user may hold open at once (`MAX_CONNECTIONS_PER_USER` moves it): a page per
/// tab or device, each with room to reconnect. Every connection of a user hears every change to
/// each of their carts, and on AWS each is billed connection-minutes and a post per change, so a
/// client opening sockets in a loop is refused at `$connect` past it. API Gateway itself has
/// no such quota ("Quotas for configuring and running a WebSocket API in API Gateway" bounds
/// only new connections per second, per account and Region).
pub const CONNECTIONS_PER_USER: usize = 10;

/// A token bucket: full at `burst`, refilled at `per_second`, one token per request.
#[derive(Clone, Copy, Debug)]
pub struct TokenBucket {
    tokens: f64,
    updated: Instant,
}

impl TokenBucket {
    /// A full bucket at `now`.
    pub fn full(rate: Rate, now: Instant) -> Self {
        Self {
            tokens: f64::from(rate.burst),
            updated: now,
        }
    }

    /// Takes a token at `now`, or says how long until one is there.
    pub fn take(&mut self, rate: Rate, now: Instant) -> Result<(), Duration> {
        self.refill(rate, now);
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            Ok(())
        } else if rate.per_second == 0 {
            Err(Duration::from_secs(u64::MAX / 4))
        } else {
            Err(Duration::from_secs_f64(
                (1.0 - self.tokens) / f64::from(rate.per_second),
            ))
        }
    }

    /// True when the bucket would be full at `now`: forgetting it changes nothing.
    fn is_full(&self, rate: Rate, now: Instant) -> bool {
        let mut probe = *self;
        probe.refill(rate, now);
        probe.tokens >= f64::from(rate.burst)
    }

    fn refill(&mut self, rate: Rate, now: Instant) {
        let elapsed = now.saturating_duration_since(self.updated).as_secs_f64();
        self.tokens =
            (self.tokens + elapsed * f64::from(rate.per_second)).min(f64::from(rate.burst));
        self.updated = now;
    }
}

/// A bucket per key (a user, a connection), all at one rate. Memory stays bounded: past
/// [`Buckets::MAX_TRACKED`] keys, the buckets that have filled up again are forgotten, which
/// is the same as keeping them.
pub struct Buckets<K> {
    rate: Rate,
    buckets: Mutex<HashMap<K, TokenBucket>>,
}

impl<K: Eq + Hash + Clone> Buckets<K> {
    /// How many keys are kept before full buckets are swept.
    pub const MAX_TRACKED: usize = 100_000;

    /// No buckets yet, each at `rate` once made.
    pub fn new(rate: Rate) -> Self {
        Self {
            rate,
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// The rate of every bucket.
    pub fn rate(&self) -> Rate {
        self.rate
    }

    /// Takes a token from `key`'s bucket at `now`, or says how long until one is there. The key
    /// is borrowed (a `&str` for a `String` key): it is copied only the first time it is seen.
    pub fn take<Q>(&self, key: &Q, now: Instant) -> Result<(), Duration>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ToOwned<Owned = K> + ?Sized,
    {
        let mut buckets = self.buckets.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(bucket) = buckets.get_mut(key) {
            return bucket.take(self.rate, now);
        }
        if buckets.len() >= Self::MAX_TRACKED {
            let rate = self.rate;
            buckets.retain(|_, bucket| !bucket.is_full(rate, now));
        }
        let mut bucket = TokenBucket::full(self.rate, now);
        let taken = bucket.take(self.rate, now);
        buckets.insert(key.to_owned(), bucket);
        taken
    }
}

/// Whole seconds to wait, at least one: what a `Retry-After` header says for `wait`.
pub fn retry_after_seconds(wait: Duration) -> u64 {
    (wait.as_secs_f64().ceil() as u64).max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    const RATE: Rate = Rate {
        per_second: 2,
        burst: 3,
    };

    #[test]
    fn a_full_bucket_takes_its_burst_then_refuses_until_it_refills() {
        let start = Instant::now();
        let mut bucket = TokenBucket::full(RATE, start);
        for _ in 0..3 {
            assert_eq!(bucket.take(RATE, start), Ok(()));
        }
        assert_eq!(bucket.take(RATE, start), Err(Duration::from_millis(500)));
        let later = start + Duration::from_millis(500);
        assert_eq!(
            bucket.take(RATE, later),
            Ok(()),
            "one token per half second"
        );
        assert!(bucket.take(RATE, later).is_err());
    }

    #[test]
    fn a_bucket_never_holds_more_than_its_burst() {
        let start = Instant::now();
        let mut bucket = TokenBucket::full(RATE, start);
        let much_later = start + Duration::from_secs(3600);
        for _ in 0..3 {
            assert_eq!(bucket.take(RATE, much_later), Ok(()));
        }
        assert!(bucket.take(RATE, much_later).is_err());
    }

    #[test]
    fn each_key_has_its_own_bucket() {
        let buckets = Buckets::new(RATE);
        let now = Instant::now();
        for _ in 0..3 {
            assert_eq!(buckets.take(&"alice", now), Ok(()));
        }
        assert!(buckets.take(&"alice", now).is_err());
        assert_eq!(buckets.take(&"bob", now), Ok(()), "bob is not alice");
    }

    #[test]
    fn retry_after_rounds_up_to_whole_seconds_and_is_never_zero() {
        assert_eq!(retry_after_seconds(Duration::from_millis(1)), 1);
        assert_eq!(retry_after_seconds(Duration::from_millis(1000)), 1);
        assert_eq!(retry_after_seconds(Duration::from_millis(1500)), 2);
        assert_eq!(retry_after_seconds(Duration::ZERO), 1);
    }
}
