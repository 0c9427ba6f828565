//! The directory on the embedded store: user id -> profile as JSON. Finding a user by email or
//! user name reads every profile, which suits a development machine's few dozen users; the
//! DynamoDB directory answers from an index.

use crate::store::{EmbeddedStore, PROFILES};
use crate::writer::Write;
use async_trait::async_trait;
use domain::UserId;
use domain::directory::{Directory, Handle, Profile, names};
use domain::ports::StoreError;
use redb::ReadableTable;

pub(crate) fn encode(profile: &Profile) -> Vec<u8> {
    // Our own plain types always serialize.
    serde_json::to_vec(profile).unwrap_or_default()
}

fn decode(bytes: &[u8]) -> Option<Profile> {
    serde_json::from_slice(bytes).ok()
}

#[async_trait]
impl Directory for EmbeddedStore {
    async fn remember(&self, profile: &Profile) -> Result<(), StoreError> {
        let profile = profile.clone();
        self.write(|reply| Write::PutProfile { profile, reply })
            .await
    }

    async fn profile(&self, user: &UserId) -> Result<Option<Profile>, StoreError> {
        self.read(|txn| {
            let table = txn.open_table(PROFILES)?;
            Ok(table.get(user.as_str())?.and_then(|v| decode(v.value())))
        })
    }

    async fn find(&self, handle: &Handle) -> Result<Vec<UserId>, StoreError> {
        self.read(|txn| {
            let table = txn.open_table(PROFILES)?;
            let mut found = Vec::new();
            for entry in table.iter()? {
                if let Some(profile) = decode(entry?.1.value())
                    && names(&profile, handle)
                {
                    found.push(profile.user_id);
                }
            }
            Ok(found)
        })
    }
}
