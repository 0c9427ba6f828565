//! Idempotency records on the embedded store. A claim is a compare-and-set, so it goes through
//! the writer thread like every other write: two requests with one key are ordered there, and
//! only the first finds the key free. Expired records are swept when the store opens.

use crate::store::EmbeddedStore;
use crate::writer::Write;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use domain::idempotency::{Claim, IdempotencyStore, Record, RecordKey, StoredResponse};
use domain::ports::StoreError;
use redb::{ReadableTable, Table};

pub(crate) fn encode(record: &Record) -> Vec<u8> {
    // Our own plain types always serialize.
    postcard::to_allocvec(record).unwrap_or_default()
}

/// A record that does not decode (written by another version) holds nothing.
pub(crate) fn decode(bytes: &[u8]) -> Option<Record> {
    postcard::from_bytes(bytes).ok()
}

/// The claim of `key` for `fingerprint` at `now`, inside the writer's transaction.
pub(crate) fn claim(
    table: &mut Table<&str, &[u8]>,
    key: &RecordKey,
    fingerprint: &str,
    now: DateTime<Utc>,
) -> Result<Claim, redb::Error> {
    let held = table
        .get(key.as_str())?
        .and_then(|v| decode(v.value()))
        .and_then(|record| record.holds(fingerprint, now));
    if let Some(found) = held {
        return Ok(found);
    }
    table.insert(
        key.as_str(),
        encode(&Record::claimed(fingerprint, now)).as_slice(),
    )?;
    Ok(Claim::Claimed)
}

/// Stores the answer of a claimed `key`; a key no longer held (swept, released) stays free.
pub(crate) fn complete(
    table: &mut Table<&str, &[u8]>,
    key: &RecordKey,
    response: StoredResponse,
) -> Result<(), redb::Error> {
    let record = table.get(key.as_str())?.and_then(|v| decode(v.value()));
    if let Some(record) = record {
        let done = Record {
            answer: Some(response),
            ..record
        };
        table.insert(key.as_str(), encode(&done).as_slice())?;
    }
    Ok(())
}

/// Removes every record that no longer holds its key at `now`.
pub(crate) fn sweep(table: &mut Table<&str, &[u8]>, now: DateTime<Utc>) -> Result<(), redb::Error> {
    table.retain(|_, value| decode(value).is_some_and(|record| record.is_live(now)))?;
    Ok(())
}

#[async_trait]
impl IdempotencyStore for EmbeddedStore {
    async fn claim(
        &self,
        key: &RecordKey,
        fingerprint: &str,
        now: DateTime<Utc>,
    ) -> Result<Claim, StoreError> {
        let (key, fingerprint) = (key.clone(), fingerprint.to_owned());
        self.write(|reply| Write::ClaimKey {
            key,
            fingerprint,
            now,
            reply,
        })
        .await
    }

    async fn complete(&self, key: &RecordKey, response: &StoredResponse) -> Result<(), StoreError> {
        let (key, response) = (key.clone(), response.clone());
        self.write(|reply| Write::CompleteKey {
            key,
            response,
            reply,
        })
        .await
    }

    async fn release(&self, key: &RecordKey) -> Result<(), StoreError> {
        let key = key.clone();
        self.write(|reply| Write::ReleaseKey { key, reply }).await
    }
}
