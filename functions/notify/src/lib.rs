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
    Mail, MailError, Mailer, Mailing, Notice, NotificationStore, Plan, Recorded, notices, plan_for,
    verified_email,
};
use domain::ports::BoxError;
use futures_util::{StreamExt, TryStreamExt};
use std::sync::Arc;

/// Notices of one event delivered at once: a lock of a cart of a thousand members tells them
/// within the function's timeout, while the mail service sees a few calls at a time.
pub const CONCURRENT_NOTICES: usize = 8;

/// What the consumer reads and writes.
#[derive(Clone)]
pub struct Notify {
    /// Where notices are recorded and mails counted.
    pub store: Arc<dyn NotificationStore>,
    /// Who is connected.
    pub registry: Arc<dyn ConnectionRegistry>,
    /// Members' verified emails.
    pub directory: Arc<dyn Directory>,
    /// What sends the mail; none where no sender is set up (notices are listed only).
    pub mailer: Option<Arc<dyn Mailer>>,
    /// Mails a member gets in one hour at most.
    pub mails_per_hour: u32,
    /// The page's address, which each mail links to, when known.
    pub page: Option<String>,
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

/// What became of one notice in this delivery.
#[derive(Default)]
struct Delivered {
    recorded: bool,
    mailed: bool,
    refused: bool,
}

/// Records and mails the notices of every event of `batch`, in each partition's order (one
/// event's notices at once, [`CONCURRENT_NOTICES`] at a time).
pub async fn handle(notify: &Notify, batch: KafkaEvent) -> Result<Report, BoxError> {
    let records = edge::records::in_order(batch);
    let mut report = Report {
        records: records.len(),
        ..Report::default()
    };
    for record in &records {
        let Some(event) = edge::records::cart_event(record) else {
            report.undecodable += 1;
            continue;
        };
        let delivered: Vec<Delivered> = futures_util::stream::iter(notices(&event))
            .map(|(user, notice)| async move { deliver(notify, &user, &notice).await })
            .buffer_unordered(CONCURRENT_NOTICES)
            .try_collect()
            .await?;
        for one in delivered {
            report.recorded += usize::from(one.recorded);
            report.mailed += usize::from(one.mailed);
            report.refused += usize::from(one.refused);
        }
    }
    tracing::info!(?report, "batch notified");
    Ok(report)
}

/// Records `notice` for `user` and mails it if that is what was (or is now) decided.
async fn deliver(notify: &Notify, user: &UserId, notice: &Notice) -> Result<Delivered, BoxError> {
    let now = Utc::now();
    let mut delivered = Delivered::default();
    let Some(mailer) = &notify.mailer else {
        let plan = Plan::ListOnly(Mailing::NoMailService);
        let recorded = notify.store.record(user, notice, plan, now).await?;
        delivered.recorded = matches!(recorded, Recorded::New(_));
        return Ok(delivered);
    };
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
    delivered.recorded = matches!(recorded, Recorded::New(_));
    if !recorded.to_mail() {
        return Ok(delivered);
    }
    // A redelivered pending mail was planned by an earlier attempt; its address is read again.
    let email = match email {
        Some(email) => Some(email),
        None => verified_email(notify.directory.as_ref(), user).await?,
    };
    let Some(to) = email else {
        notify.store.mark(user, notice, Mailing::NoEmail).await?;
        return Ok(delivered);
    };
    let mail = Mail {
        to,
        subject: notice.subject(),
        text: notice.text(notify.page.as_deref()),
    };
    match mailer.send(&mail).await {
        Ok(()) => {
            delivered.mailed = true;
            notify.store.mark(user, notice, Mailing::Sent).await?;
        }
        Err(MailError::Rejected(why)) => {
            tracing::warn!(user = %user, %why, "the mail service refused a notice's mail");
            delivered.refused = true;
            notify.store.mark(user, notice, Mailing::Rejected).await?;
        }
        Err(e @ MailError::Unavailable(_)) => return Err(Box::new(e)),
    }
    Ok(delivered)
}
