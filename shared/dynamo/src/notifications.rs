//! Notifications on DynamoDB, in one table keyed `pk` (the user) and `sk`:
//! `n#<time>#<event id>` holds a notice (`notice` as JSON, `mailing`), so a member's list is
//! one query backwards; `rate#<hour>` counts the hour's mails in `sent`; `settings` holds
//! `mailsOff`. A notice to mail is put with its count raised in one `TransactWriteItems`: the
//! put is conditioned on the notice's absence (a redelivery finds it), the count on being under
//! the allowance. Notices expire after [`NOTICE_DAYS`], counts after two hours (TTL on
//! `expiresAt`).

use crate::attributes::{Item, n, s, string};
use crate::transactions::{CONFLICT_RETRIES, Cancelled, cancelled_by, wait_after_conflict};
use async_trait::async_trait;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::{Put, TransactWriteItem, Update};
use chrono::{DateTime, Utc};
use domain::UserId;
use domain::notification::{
    Mailing, Notice, Notification, NotificationStore, Plan, Recorded, hour_of,
};
use domain::ports::StoreError;

/// How long a notice is listed (TTL on `expiresAt`).
pub const NOTICE_DAYS: i64 = 30;

/// The notifications table.
#[derive(Clone, Debug)]
pub struct DynamoNotifications {
    client: Client,
    table: String,
}

fn sort_key(notice: &Notice) -> String {
    format!(
        "n#{}#{}",
        notice.occurred_at.format("%Y-%m-%dT%H:%M:%S%.6fZ"),
        notice.event_id
    )
}

fn mailing_name(mailing: Mailing) -> String {
    serde_json::to_value(mailing)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

/// The condition of every put of a notice: a notice is recorded once.
const NOT_THERE: &str = "attribute_not_exists(pk)";

/// `user`'s notice as its item.
fn notice_item(
    user: &UserId,
    notice: &Notice,
    mailing: Mailing,
    now: DateTime<Utc>,
) -> Result<Item, StoreError> {
    let json = serde_json::to_string(notice).map_err(StoreError::unavailable)?;
    Ok(Item::from([
        ("pk".to_owned(), s(user.as_str())),
        ("sk".to_owned(), s(sort_key(notice))),
        ("notice".to_owned(), s(json)),
        ("mailing".to_owned(), s(mailing_name(mailing))),
        (
            "expiresAt".to_owned(),
            n(now.timestamp() + NOTICE_DAYS * 86_400),
        ),
    ]))
}

fn decode(item: &Item) -> Result<Notification, StoreError> {
    let notice = serde_json::from_str(string(item, "notice")?).map_err(StoreError::unavailable)?;
    let mailing = serde_json::from_value(serde_json::Value::String(
        string(item, "mailing")?.to_owned(),
    ))
    .map_err(StoreError::unavailable)?;
    Ok(Notification { notice, mailing })
}

impl DynamoNotifications {
    /// The notifications in `table` (see [`crate::tables::create_notifications_table`]).
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
        }
    }

    /// The put of `user`'s notice in a transaction, if it is not there already.
    fn put_notice(
        &self,
        user: &UserId,
        notice: &Notice,
        mailing: Mailing,
        now: DateTime<Utc>,
    ) -> Result<Put, StoreError> {
        Put::builder()
            .table_name(&self.table)
            .set_item(Some(notice_item(user, notice, mailing, now)?))
            .condition_expression(NOT_THERE)
            .build()
            .map_err(StoreError::unavailable)
    }

    fn count_mail(
        &self,
        user: &UserId,
        per_hour: u32,
        now: DateTime<Utc>,
    ) -> Result<Update, StoreError> {
        Update::builder()
            .table_name(&self.table)
            .key("pk", s(user.as_str()))
            .key("sk", s(format!("rate#{}", hour_of(now))))
            .update_expression("ADD sent :one SET expiresAt = :expires")
            .condition_expression("attribute_not_exists(sent) OR sent < :limit")
            .expression_attribute_values(":one", n(1))
            .expression_attribute_values(":limit", n(per_hour))
            .expression_attribute_values(":expires", n(now.timestamp() + 2 * 3600))
            .build()
            .map_err(StoreError::unavailable)
    }

    async fn recorded(&self, user: &UserId, notice: &Notice) -> Result<Recorded, StoreError> {
        let found = self
            .client
            .get_item()
            .table_name(&self.table)
            .key("pk", s(user.as_str()))
            .key("sk", s(sort_key(notice)))
            .consistent_read(true)
            .send()
            .await
            .map_err(crate::unavailable)?;
        let item = found.item().ok_or_else(|| {
            StoreError::unavailable("a notice's put failed its condition, yet it is not there")
        })?;
        Ok(Recorded::Before(decode(item)?.mailing))
    }

    /// Puts a notice that is not mailed; `Before` when it was there.
    async fn list_only(
        &self,
        user: &UserId,
        notice: &Notice,
        mailing: Mailing,
        now: DateTime<Utc>,
    ) -> Result<Recorded, StoreError> {
        let sent = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(notice_item(user, notice, mailing, now)?))
            .condition_expression(NOT_THERE)
            .send()
            .await;
        match crate::unless_condition_failed(sent)? {
            Some(_) => Ok(Recorded::New(mailing)),
            None => self.recorded(user, notice).await,
        }
    }
}

#[async_trait]
impl NotificationStore for DynamoNotifications {
    async fn record(
        &self,
        user: &UserId,
        notice: &Notice,
        plan: Plan,
        now: DateTime<Utc>,
    ) -> Result<Recorded, StoreError> {
        let per_hour = match plan {
            Plan::ListOnly(why) => return self.list_only(user, notice, why, now).await,
            Plan::Mail { per_hour } => per_hour,
        };
        let mut conflicts = 0;
        loop {
            let writes = vec![
                TransactWriteItem::builder()
                    .put(self.put_notice(user, notice, Mailing::Pending, now)?)
                    .build(),
                TransactWriteItem::builder()
                    .update(self.count_mail(user, per_hour, now)?)
                    .build(),
            ];
            let sent = self
                .client
                .transact_write_items()
                .set_transact_items(Some(writes))
                .send()
                .await;
            match cancelled_by(&sent) {
                // Recorded before: a redelivery.
                Some(Cancelled::Condition(0)) => return self.recorded(user, notice).await,
                // The hour's allowance is spent: listed, not mailed.
                Some(Cancelled::Condition(_)) => {
                    return self
                        .list_only(user, notice, Mailing::RateLimited, now)
                        .await;
                }
                // Another notice to the same member raising the same hour's count at once.
                Some(Cancelled::Conflict) if conflicts < CONFLICT_RETRIES => {
                    conflicts += 1;
                    wait_after_conflict(conflicts).await;
                }
                _ => {
                    return sent
                        .map(|_| Recorded::New(Mailing::Pending))
                        .map_err(crate::unavailable);
                }
            }
        }
    }

    async fn mark(
        &self,
        user: &UserId,
        notice: &Notice,
        mailing: Mailing,
    ) -> Result<(), StoreError> {
        let marked = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("pk", s(user.as_str()))
            .key("sk", s(sort_key(notice)))
            .update_expression("SET mailing = :mailing")
            .condition_expression("attribute_exists(pk)")
            .expression_attribute_values(":mailing", s(mailing_name(mailing)))
            .send()
            .await;
        // A notice that expired meanwhile has nothing left to mark.
        crate::unless_condition_failed(marked).map(|_| ())
    }

    async fn list(&self, user: &UserId, limit: usize) -> Result<Vec<Notification>, StoreError> {
        let found = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("pk = :user AND begins_with(sk, :notices)")
            .expression_attribute_values(":user", s(user.as_str()))
            .expression_attribute_values(":notices", s("n#"))
            .scan_index_forward(false)
            .limit(i32::try_from(limit).unwrap_or(i32::MAX))
            .send()
            .await
            .map_err(crate::unavailable)?;
        found.items().iter().map(decode).collect()
    }

    async fn mails_off(&self, user: &UserId) -> Result<bool, StoreError> {
        let found = self
            .client
            .get_item()
            .table_name(&self.table)
            .key("pk", s(user.as_str()))
            .key("sk", s("settings"))
            .send()
            .await
            .map_err(crate::unavailable)?;
        Ok(found
            .item()
            .and_then(|item| item.get("mailsOff"))
            .and_then(|v| v.as_bool().ok())
            .copied()
            .unwrap_or(false))
    }

    async fn set_mails_off(&self, user: &UserId, off: bool) -> Result<(), StoreError> {
        self.client
            .put_item()
            .table_name(&self.table)
            .item("pk", s(user.as_str()))
            .item("sk", s("settings"))
            .item(
                "mailsOff",
                aws_sdk_dynamodb::types::AttributeValue::Bool(off),
            )
            .send()
            .await
            .map(|_| ())
            .map_err(crate::unavailable)
    }
}
