//! Notifications on the embedded store, in one table of prefixed keys:
//! `n/<user>/<time>/<event id>` holds a notification as JSON (the time sorts, so a member's
//! list is one range read backwards; a redelivered event has the same time and id),
//! `rate/<user>/<hour>` counts the hour's mails and `off/<user>` marks mails turned off. A
//! record is one write of the writer thread, so the notice and its count commit together.
//! Unlike DynamoDB's, nothing here expires: a development store is small.

use crate::store::{EmbeddedStore, NOTIFICATIONS};
use crate::writer::Write;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use domain::UserId;
use domain::notification::{
    Mailing, Notice, Notification, NotificationStore, Plan, Recorded, hour_of,
};
use domain::ports::StoreError;
use redb::{ReadableTable, Table};

/// A change to notifications other than a record.
pub(crate) enum NoticeUpdate {
    Mark {
        user: UserId,
        notice: Notice,
        mailing: Mailing,
    },
    MailsOff {
        user: UserId,
        off: bool,
    },
}

fn listed_key(user: &UserId, notice: &Notice) -> String {
    format!(
        "n/{user}/{}/{}",
        notice.occurred_at.format("%Y-%m-%dT%H:%M:%S%.6fZ"),
        notice.event_id
    )
}

fn encode(notification: &Notification) -> Vec<u8> {
    // Our own plain types always serialize.
    serde_json::to_vec(notification).unwrap_or_default()
}

fn decode(bytes: &[u8]) -> Option<Notification> {
    serde_json::from_slice(bytes).ok()
}

/// Records `notice` for `user` unless it was; runs inside the writer's transaction.
pub(crate) fn record_in(
    table: &mut Table<&str, &[u8]>,
    user: &UserId,
    notice: &Notice,
    plan: Plan,
    now: DateTime<Utc>,
) -> Result<Recorded, redb::StorageError> {
    let listed = listed_key(user, notice);
    if let Some(before) = table.get(listed.as_str())?.and_then(|v| decode(v.value())) {
        return Ok(Recorded::Before(before.mailing));
    }
    let mailing = match plan {
        Plan::ListOnly(why) => why,
        Plan::Mail { per_hour } => {
            let rate = format!("rate/{user}/{}", hour_of(now));
            let sent: u32 = table
                .get(rate.as_str())?
                .and_then(|v| serde_json::from_slice(v.value()).ok())
                .unwrap_or(0);
            if sent < per_hour {
                table.insert(rate.as_str(), (sent + 1).to_string().as_bytes())?;
                Mailing::Pending
            } else {
                Mailing::RateLimited
            }
        }
    };
    let notification = Notification {
        notice: notice.clone(),
        mailing,
    };
    table.insert(listed.as_str(), encode(&notification).as_slice())?;
    Ok(Recorded::New(mailing))
}

/// Applies `update`; runs inside the writer's transaction.
pub(crate) fn update_in(
    table: &mut Table<&str, &[u8]>,
    update: NoticeUpdate,
) -> Result<(), redb::StorageError> {
    match update {
        NoticeUpdate::Mark {
            user,
            notice,
            mailing,
        } => {
            let listed = listed_key(&user, &notice);
            let found = table.get(listed.as_str())?.and_then(|v| decode(v.value()));
            if let Some(mut notification) = found {
                notification.mailing = mailing;
                table.insert(listed.as_str(), encode(&notification).as_slice())?;
            }
        }
        NoticeUpdate::MailsOff { user, off } => {
            let key = format!("off/{user}");
            if off {
                table.insert(key.as_str(), [].as_slice())?;
            } else {
                table.remove(key.as_str())?;
            }
        }
    }
    Ok(())
}

#[async_trait]
impl NotificationStore for EmbeddedStore {
    async fn record(
        &self,
        user: &UserId,
        notice: &Notice,
        plan: Plan,
        now: DateTime<Utc>,
    ) -> Result<Recorded, StoreError> {
        let (user, notice) = (user.clone(), notice.clone());
        self.write(|reply| Write::RecordNotice {
            user,
            notice,
            plan,
            now,
            reply,
        })
        .await
    }

    async fn mark(
        &self,
        user: &UserId,
        notice: &Notice,
        mailing: Mailing,
    ) -> Result<(), StoreError> {
        let update = NoticeUpdate::Mark {
            user: user.clone(),
            notice: notice.clone(),
            mailing,
        };
        self.write(|reply| Write::UpdateNotices { update, reply })
            .await
    }

    async fn list(&self, user: &UserId, limit: usize) -> Result<Vec<Notification>, StoreError> {
        self.read(|txn| {
            let table = txn.open_table(NOTIFICATIONS)?;
            let (from, to) = (format!("n/{user}/"), format!("n/{user}0"));
            let mut list = Vec::new();
            for entry in table.range(from.as_str()..to.as_str())?.rev() {
                if list.len() == limit {
                    break;
                }
                if let Some(notification) = decode(entry?.1.value()) {
                    list.push(notification);
                }
            }
            Ok(list)
        })
    }

    async fn mails_off(&self, user: &UserId) -> Result<bool, StoreError> {
        self.read(|txn| {
            let table = txn.open_table(NOTIFICATIONS)?;
            Ok(table.get(format!("off/{user}").as_str())?.is_some())
        })
    }

    async fn set_mails_off(&self, user: &UserId, off: bool) -> Result<(), StoreError> {
        let update = NoticeUpdate::MailsOff {
            user: user.clone(),
            off,
        };
        self.write(|reply| Write::UpdateNotices { update, reply })
            .await
    }
}
