//! `notify`: the notification consumer. For every cart event in an MSK batch it works out whom
//! the event concerns ([`domain::notification::notices`]) and records each member's notice
//! once; a member who is not connected, has a verified email, has not turned mails off and has
//! mails left this hour gets one. The store decides each (event, member) once, so a batch the
//! trigger delivers again mails nobody twice (see [`domain::notification`] for the one window
//! it cannot close).
//!
//! A record that does not decode is logged and skipped. A store or mail service that cannot
//! answer fails the batch, so the trigger delivers it again; a mail SES refuses for good is
//! recorded as refused and the batch goes on.

use aws_lambda_events::event::kafka::KafkaEvent;
use chrono::Utc;
use domain::ConnectionRegistry;
use domain::UserId;
use domain::directory::Directory;
use domain::notification::{
    Mail, MailError, Mailer, Mailing, Notice, NotificationStore, Recorded, notices, plan_for,
};
use domain::ports::{BoxError, StoreError};
use std::sync::Arc;

/// What the consumer reads and writes.
#[derive(Clone)]
pub struct Notify {
    /// Where notices are recorded and mails counted.
    pub store: Arc<dyn NotificationStore>,
    /// Who is connected.
    pub registry: Arc<dyn ConnectionRegistry>,
    /// Members' verified emails.
    pub directory: Arc<dyn Directory>,
    /// What sends the mail.
    pub mailer: Arc<dyn Mailer>,
    /// Mails a member gets in one hour at most.
    pub mails_per_hour: u32,
    /// The page's address, which each mail links to.
    pub page: String,
}

/// What one batch did, for logs and tests.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Report {
    /// Records in the batch.
    pub records: usize,
    /// Records that were not cart events (logged, skipped).
    pub undecodable: usize,
    /// Notices recorded for the first time.
    pub recorded: usize,
    /// Mails sent.
    pub mailed: usize,
    /// Mails the service refused for good.
    pub refused: usize,
}

/// Records and mails the notices of every event of `batch`, in each partition's order.
pub async fn handle(notify: &Notify, batch: KafkaEvent) -> Result<Report, BoxError> {
    let mut records: Vec<_> = batch.records.into_values().flatten().collect();
    records.sort_by_key(|r| (r.partition, r.offset));
    let mut report = Report {
        records: records.len(),
        ..Report::default()
    };
    for record in &records {
        let Some(event) = edge::records::cart_event(record) else {
            report.undecodable += 1;
            continue;
        };
        for (user, notice) in notices(&event) {
            deliver(notify, &user, &notice, &mut report).await?;
        }
    }
    tracing::info!(?report, "batch notified");
    Ok(report)
}

/// Records `notice` for `user` and mails it if that is what was (or is now) decided.
async fn deliver(
    notify: &Notify,
    user: &UserId,
    notice: &Notice,
    report: &mut Report,
) -> Result<(), BoxError> {
    let now = Utc::now();
    let (plan, email) = plan_for(
        user,
        notify.registry.as_ref(),
        notify.directory.as_ref(),
        notify.store.as_ref(),
        notify.mails_per_hour,
        now,
    )
    .await?;
    let recorded = notify.store.record(user, notice, plan, now).await?;
    if matches!(recorded, Recorded::New(_)) {
        report.recorded += 1;
    }
    if !recorded.to_mail() {
        return Ok(());
    }
    // A redelivered pending mail was planned by an earlier attempt; its address is read again.
    let email = match email {
        Some(email) => Some(email),
        None => email_of(notify.directory.as_ref(), user).await?,
    };
    let Some(to) = email else {
        return Ok(notify.store.mark(user, notice, Mailing::NoEmail).await?);
    };
    let mail = Mail {
        to,
        subject: notice.subject(),
        text: notice.text(&notify.page),
    };
    match notify.mailer.send(&mail).await {
        Ok(()) => {
            report.mailed += 1;
            Ok(notify.store.mark(user, notice, Mailing::Sent).await?)
        }
        Err(MailError::Rejected(why)) => {
            tracing::warn!(user = %user, %why, "the mail service refused a notice's mail");
            report.refused += 1;
            Ok(notify.store.mark(user, notice, Mailing::Rejected).await?)
        }
        Err(e @ MailError::Unavailable(_)) => Err(Box::new(e)),
    }
}

async fn email_of(
    directory: &dyn Directory,
    user: &UserId,
) -> Result<Option<domain::directory::Email>, StoreError> {
    Ok(directory.profile(user).await?.and_then(|p| p.email))
}
