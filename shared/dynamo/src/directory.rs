//! The directory on DynamoDB: one item per user, keyed by `userId`, with sparse indexes by
//! `email` and by `userName` (an item without the attribute is not in the index, "Take
//! advantage of sparse indexes"). Remembering a profile puts the whole item, so an email the
//! user no longer has leaves the index with it. The indexes are read eventually consistent: a
//! profile remembered a moment ago may not be found yet.

use crate::attributes::{Item, s, string};
use crate::tables::{PROFILES_BY_EMAIL, PROFILES_BY_USER_NAME};
use async_trait::async_trait;
use aws_sdk_dynamodb::Client;
use domain::UserId;
use domain::directory::{Directory, Email, Handle, Profile, UserName};
use domain::ports::StoreError;

/// The directory in one DynamoDB table.
#[derive(Clone, Debug)]
pub struct DynamoDirectory {
    client: Client,
    table: String,
}

impl DynamoDirectory {
    /// The directory in `table` (see [`crate::tables::create_profiles_table`]).
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
        }
    }
}

#[async_trait]
impl Directory for DynamoDirectory {
    async fn remember(&self, profile: &Profile) -> Result<(), StoreError> {
        let mut put = self
            .client
            .put_item()
            .table_name(&self.table)
            .item("userId", s(profile.user_id.as_str()));
        if let Some(name) = &profile.name {
            put = put.item("name", s(name.as_str()));
        }
        if let Some(email) = &profile.email {
            put = put.item("email", s(email.as_str()));
        }
        if let Some(user_name) = &profile.user_name {
            put = put.item("userName", s(user_name.as_str()));
        }
        put.send().await.map_err(crate::unavailable)?;
        Ok(())
    }

    async fn profile(&self, user: &UserId) -> Result<Option<Profile>, StoreError> {
        let found = self
            .client
            .get_item()
            .table_name(&self.table)
            .key("userId", s(user.as_str()))
            .send()
            .await
            .map_err(crate::unavailable)?;
        found.item.as_ref().map(decode).transpose()
    }

    async fn find(&self, handle: &Handle) -> Result<Vec<UserId>, StoreError> {
        let (index, attribute, value) = match handle {
            Handle::Email(email) => (PROFILES_BY_EMAIL, "email", email.as_str()),
            Handle::UserName(name) => (PROFILES_BY_USER_NAME, "userName", name.as_str()),
        };
        let mut found = Vec::new();
        let mut pages = self
            .client
            .query()
            .table_name(&self.table)
            .index_name(index)
            .key_condition_expression("#key = :value")
            .expression_attribute_names("#key", attribute)
            .expression_attribute_values(":value", s(value))
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            for item in page.map_err(crate::unavailable)?.items() {
                found.push(user_of(item)?);
            }
        }
        Ok(found)
    }
}

fn user_of(item: &Item) -> Result<UserId, StoreError> {
    UserId::parse(string(item, "userId")?)
        .map_err(|_| StoreError::unavailable("a stored profile has an invalid userId"))
}

fn decode(item: &Item) -> Result<Profile, StoreError> {
    let text = |name: &str| item.get(name).and_then(|v| v.as_s().ok()).cloned();
    Ok(Profile {
        user_id: user_of(item)?,
        name: text("name"),
        email: text("email").and_then(|e| Email::parse("email", &e).ok()),
        user_name: text("userName").and_then(|n| UserName::parse("userName", &n).ok()),
    })
}
