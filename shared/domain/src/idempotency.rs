//! Idempotency records: the first answer to a mutating request, kept under the caller's
//! `Idempotency-Key` for a day, so a retry gets the same answer without a second change. The
//! edge claims the key before the work, then completes it with the response (or releases it when
//! the work failed in a way a retry may fix).

use crate::error::ValidationError;
use crate::ids::UserId;
use crate::ports::StoreError;
use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

/// How long a record is kept: retries come within minutes, and clients are told a day.
pub const RECORD_TTL: Duration = Duration::hours(24);

/// How long a claim holds its key without completing before another request may take it over:
/// longer than any request runs (API Gateway gives a Lambda 29 s), so only a crashed one loses it.
pub const CLAIM_LEASE: Duration = Duration::seconds(60);

/// A key as the store holds it: the caller's key scoped to the caller, since two users may pick
/// the same one.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct RecordKey(String);

impl RecordKey {
    /// The longest `Idempotency-Key` accepted.
    pub const MAX_LEN: usize = 255;

    /// `key` (1 to 255 visible ASCII characters) as `user` sent it.
    pub fn new(user: &UserId, key: &str) -> Result<Self, ValidationError> {
        if key.is_empty() || key.len() > Self::MAX_LEN || !key.bytes().all(|b| b.is_ascii_graphic())
        {
            return Err(ValidationError::new(
                "Idempotency-Key",
                format!("must be 1 to {} visible ASCII characters", Self::MAX_LEN),
            ));
        }
        Ok(Self(format!("{user}/{key}")))
    }

    /// The key as stored.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// An answer as stored for replay.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredResponse {
    /// The HTTP status.
    pub status: u16,
    /// The headers that describe the answer (`Content-Type`, `ETag`, `Location`), as sent.
    pub headers: Vec<(String, String)>,
    /// The body, as sent.
    pub body: String,
}

/// A key's record as a store keeps it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Record {
    /// What the request that claimed the key was (method, path and body).
    pub fingerprint: String,
    /// When it was claimed.
    pub claimed_at: DateTime<Utc>,
    /// Its answer, once its request finished.
    pub answer: Option<StoredResponse>,
}

impl Record {
    /// A fresh claim for `fingerprint` at `now`.
    pub fn claimed(fingerprint: &str, now: DateTime<Utc>) -> Self {
        Self {
            fingerprint: fingerprint.to_owned(),
            claimed_at: now,
            answer: None,
        }
    }

    /// True while the record holds its key at `now`: for a day once claimed, and a claim that
    /// never completed only for its lease.
    pub fn is_live(&self, now: DateTime<Utc>) -> bool {
        let expired = now >= self.claimed_at + RECORD_TTL;
        let abandoned = self.answer.is_none() && now >= self.claimed_at + CLAIM_LEASE;
        !expired && !abandoned
    }

    /// What a claim for `fingerprint` at `now` finds here: `None` when the key is free (this
    /// record may be replaced by a new claim).
    pub fn holds(&self, fingerprint: &str, now: DateTime<Utc>) -> Option<Claim> {
        self.is_live(now)
            .then(|| Claim::of_live_record(&self.fingerprint, self.answer.clone(), fingerprint))
    }
}

/// What claiming a key found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Claim {
    /// Nobody holds the key: this request does the work, then completes or releases it.
    Claimed,
    /// The first request with this key is still running.
    InFlight,
    /// The first request finished: answer what it answered.
    Done(StoredResponse),
    /// The key was used for another request (another method, path or body).
    Mismatch,
}

impl Claim {
    /// What a claim for `fingerprint` finds in a live record made for `stored` that holds
    /// `answer` once its request finished.
    pub fn of_live_record(stored: &str, answer: Option<StoredResponse>, fingerprint: &str) -> Self {
        match answer {
            _ if stored != fingerprint => Claim::Mismatch,
            Some(answer) => Claim::Done(answer),
            None => Claim::InFlight,
        }
    }
}

/// Where idempotency records live (DynamoDB on AWS).
#[async_trait]
pub trait IdempotencyStore: Send + Sync {
    /// Claims `key` at `now` for the request `fingerprint` identifies, unless a live record
    /// holds it: an expired record, or a claim older than [`CLAIM_LEASE`], is taken over.
    async fn claim(
        &self,
        key: &RecordKey,
        fingerprint: &str,
        now: DateTime<Utc>,
    ) -> Result<Claim, StoreError>;

    /// Stores `response` as the answer of the claimed `key`.
    async fn complete(&self, key: &RecordKey, response: &StoredResponse) -> Result<(), StoreError>;

    /// Gives the claimed `key` up, so a retry does the work again.
    async fn release(&self, key: &RecordKey) -> Result<(), StoreError>;
}
