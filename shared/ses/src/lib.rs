//! The Amazon SES adapter: each notification mail is one `SendEmail` call of SES's v2 API, from
//! the one sender address the stack verified (an `AWS::SES::EmailIdentity`).
//!
//! SES answers `MessageRejected` for a mail it will not take. When the refusal is about the
//! recipient (in the sandbox, an address that is not verified), that is
//! [`MailError::Rejected`]: recorded on the notice and not tried again. When it names our own
//! sender (not verified yet: the operator has not followed SES's link), every mail would be
//! refused, so it is [`MailError::Unavailable`], as is everything else (a bad request,
//! throttling, paused sending, the network): the batch fails, the trigger delivers it again
//! and, retries spent, the dead-letter queue's alarm says so ("Amazon SES email sending
//! errors", "Errors related to the sending quotas for your Amazon SES account").

use async_trait::async_trait;
use aws_sdk_sesv2::Client;
use aws_sdk_sesv2::operation::send_email::SendEmailError;
use aws_sdk_sesv2::types::{Body, Content, Destination, EmailContent, Message};
use domain::notification::{Mail, MailError, Mailer};

/// Sends mail through SES from `from`.
#[derive(Clone, Debug)]
pub struct SesMailer {
    client: Client,
    from: String,
}

impl SesMailer {
    /// Mails from `from`, an address or domain SES has verified for this account.
    pub fn new(client: Client, from: impl Into<String>) -> Self {
        Self {
            client,
            from: from.into(),
        }
    }
}

fn utf8(text: &str) -> Result<Content, MailError> {
    Content::builder()
        .data(text)
        .charset("UTF-8")
        .build()
        .map_err(|e| MailError::Unavailable(Box::new(e)))
}

#[async_trait]
impl Mailer for SesMailer {
    async fn send(&self, mail: &Mail) -> Result<(), MailError> {
        let message = Message::builder()
            .subject(utf8(&mail.subject)?)
            .body(Body::builder().text(utf8(&mail.text)?).build())
            .build();
        let sent = self
            .client
            .send_email()
            .from_email_address(&self.from)
            .destination(
                Destination::builder()
                    .to_addresses(mail.to.as_str())
                    .build(),
            )
            .content(EmailContent::builder().simple(message).build())
            .send()
            .await;
        match sent {
            Ok(_) => Ok(()),
            Err(e) => match e.as_service_error() {
                Some(SendEmailError::MessageRejected(refused))
                    if !refused.message().unwrap_or_default().contains(&self.from) =>
                {
                    Err(MailError::Rejected(
                        refused.message().unwrap_or("MessageRejected").to_owned(),
                    ))
                }
                _ => Err(MailError::Unavailable(Box::new(e))),
            },
        }
    }
}
