//! Bounded, jittered exponential backoff between attempts of a commutative command.

use std::time::Duration;

/// How often and how patiently a conflicting command is retried.
#[derive(Clone, Copy, Debug)]
pub struct Backoff {
    /// Attempts in all before giving up with `VERSION_CONFLICT`.
    pub attempts: u32,
    /// The first wait's upper bound; each later one doubles it, up to `max`.
    pub base: Duration,
    /// The largest upper bound of any single wait.
    pub max: Duration,
}

impl Default for Backoff {
    /// Enough for 50 members adding to one cart at once (the concurrency test), even on a busy
    /// machine, while a writer that keeps losing still gives up within a few seconds, well
    /// inside API Gateway's 29-second integration timeout.
    fn default() -> Self {
        Self {
            attempts: 100,
            base: Duration::from_millis(1),
            max: Duration::from_millis(50),
        }
    }
}

impl Backoff {
    /// The wait before attempt `attempt + 1`: uniformly random up to the capped exponential bound
    /// ("full jitter"), so writers that collided once do not collide again in lockstep.
    pub fn delay(&self, attempt: u32) -> Duration {
        let bound = self
            .base
            .saturating_mul(1u32 << attempt.min(16))
            .min(self.max);
        let bound_micros = u64::try_from(bound.as_micros()).unwrap_or(u64::MAX).max(1);
        Duration::from_micros(fastrand::u64(0..=bound_micros))
    }

    /// Sleeps for `delay(attempt)`.
    pub async fn wait(&self, attempt: u32) {
        tokio::time::sleep(self.delay(attempt)).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_never_pass_the_cap() {
        let backoff = Backoff::default();
        for attempt in 0..64 {
            assert!(backoff.delay(attempt) <= backoff.max);
        }
    }
}
