//! What the operator counts: each event worth watching is counted here by name, and a sink the
//! function installs at cold start turns the counts into metrics. On Lambda that sink writes
//! CloudWatch embedded metric format lines to the log (`edge::metrics`), so counting costs no
//! call; with no sink installed (the local stack, tests) a count goes nowhere. `docs/operating.md`
//! says what each metric means and what to do when its alarm fires.

use std::sync::OnceLock;

/// A counter the product keeps.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Metric {
    /// A change saved, by the kind of its event.
    ChangesSaved,
    /// A conditional write lost to a concurrent one and was tried again.
    ConflictsRetried,
    /// A contended change gave up after its last attempt (answered 409 `CART_CONTENDED`).
    RetriesExhausted,
    /// An event the broker refused, sent to the SQS outbox instead.
    OutboxFallbacks,
    /// An event published on the hot path.
    EventsPublished,
    /// An event the publish of its own operation did not get out, published by the relay.
    EventsRelayed,
    /// A message posted to a member's connection.
    PushesSent,
    /// A connection found gone (410) and forgotten.
    PushesGone,
    /// A connection that took no post after every attempt, and was forgotten.
    PushesFailed,
    /// An event that waited for a missing earlier version of its cart.
    SequencerWaits,
    /// A circuit breaker opened (its dependency failed repeatedly).
    BreakerOpened,
    /// A circuit breaker closed again (its probe answered).
    BreakerClosed,
    /// A retry with an `Idempotency-Key` answered with the first answer.
    IdempotentReplays,
    /// A request or message refused for its caller's rate (429 `RATE_LIMITED`).
    RateLimited,
}

impl Metric {
    /// Every metric.
    pub const ALL: [Metric; 14] = [
        Metric::ChangesSaved,
        Metric::ConflictsRetried,
        Metric::RetriesExhausted,
        Metric::OutboxFallbacks,
        Metric::EventsPublished,
        Metric::EventsRelayed,
        Metric::PushesSent,
        Metric::PushesGone,
        Metric::PushesFailed,
        Metric::SequencerWaits,
        Metric::BreakerOpened,
        Metric::BreakerClosed,
        Metric::IdempotentReplays,
        Metric::RateLimited,
    ];

    /// Its name, as CloudWatch shows it.
    pub fn name(self) -> &'static str {
        match self {
            Metric::ChangesSaved => "ChangesSaved",
            Metric::ConflictsRetried => "ConflictsRetried",
            Metric::RetriesExhausted => "RetriesExhausted",
            Metric::OutboxFallbacks => "OutboxFallbacks",
            Metric::EventsPublished => "EventsPublished",
            Metric::EventsRelayed => "EventsRelayed",
            Metric::PushesSent => "PushesSent",
            Metric::PushesGone => "PushesGone",
            Metric::PushesFailed => "PushesFailed",
            Metric::SequencerWaits => "SequencerWaits",
            Metric::BreakerOpened => "BreakerOpened",
            Metric::BreakerClosed => "BreakerClosed",
            Metric::IdempotentReplays => "IdempotentReplays",
            Metric::RateLimited => "RateLimited",
        }
    }
}

/// Where counts go.
pub trait Sink: Send + Sync {
    /// Adds `n` to `metric`, for `detail` (the kind of change, the dependency) when it has one.
    fn count(&self, metric: Metric, detail: Option<&'static str>, n: u64);
}

static SINK: OnceLock<Box<dyn Sink>> = OnceLock::new();

/// Installs the process's sink; a second install is ignored (the first stays).
pub fn install(sink: Box<dyn Sink>) {
    let _ = SINK.set(sink);
}

/// Counts `n` of `metric`.
pub fn count(metric: Metric, n: u64) {
    count_for(metric, None, n);
}

/// Counts `n` of `metric` for `detail`.
pub fn count_for(metric: Metric, detail: Option<&'static str>, n: u64) {
    if n > 0
        && let Some(sink) = SINK.get()
    {
        sink.count(metric, detail, n);
    }
}
