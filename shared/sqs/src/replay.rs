//! Moving what a dead-letter queue holds back to the queue it came from, once its cause is fixed:
//! the operator's `cargo run -p tools -- replay` (see `docs/operating.md`).
//!
//! Each message is sent again with its body and message attributes, and deleted from the
//! dead-letter queue only once the source queue has it: a failure midway leaves a message in
//! one queue or in both, never in neither, and every consumer drops a repeat (the order service
//! by order id, the relay's topic by cart id and version). A dry run reads what would move and
//! makes it visible again at once.

use aws_sdk_sqs::Client;
use aws_sdk_sqs::types::{
    ChangeMessageVisibilityBatchRequestEntry, DeleteMessageBatchRequestEntry, Message,
    SendMessageBatchRequestEntry,
};

/// How long a message read by the tool stays hidden from other readers of the dead-letter queue.
const HIDDEN_FOR_SECS: i32 = 60;

/// What a replay did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Replayed {
    /// Messages read from the dead-letter queue.
    pub read: usize,
    /// Messages now in the source queue and gone from the dead-letter queue.
    pub moved: usize,
    /// Messages the source queue refused, or that could not be deleted after it took them;
    /// they stay in the dead-letter queue.
    pub refused: usize,
    /// The first characters of each message read, for a dry run to show.
    pub previews: Vec<String>,
}

/// Why a replay stopped.
#[derive(Debug, thiserror::Error)]
#[error("the replay stopped after {moved} messages: {source}")]
pub struct ReplayError {
    /// Messages moved before it stopped.
    pub moved: usize,
    #[source]
    source: domain::ports::BoxError,
}

/// Moves up to `limit` messages from `dead_letters` to `source`; with `dry_run`, only reads them.
pub async fn replay(
    client: &Client,
    dead_letters: &str,
    source: &str,
    limit: usize,
    dry_run: bool,
) -> Result<Replayed, ReplayError> {
    let mut replayed = Replayed::default();
    let mut held = Vec::new();
    let stop = |moved, e: domain::ports::BoxError| ReplayError { moved, source: e };
    while replayed.read < limit {
        let wanted = (limit - replayed.read).min(10) as i32;
        let messages = client
            .receive_message()
            .queue_url(dead_letters)
            .max_number_of_messages(wanted)
            .message_attribute_names("All")
            .visibility_timeout(HIDDEN_FOR_SECS)
            .wait_time_seconds(1)
            .send()
            .await
            .map_err(|e| stop(replayed.moved, aws_sdk_sqs::Error::from(e).into()))?
            .messages
            .unwrap_or_default();
        // A dry run of a queue longer than the time its messages stay hidden meets the first
        // ones again: that is the end of the queue.
        let messages: Vec<Message> = messages
            .into_iter()
            .filter(|m| {
                !held
                    .iter()
                    .any(|h: &Message| h.message_id().is_some() && h.message_id() == m.message_id())
            })
            .collect();
        if messages.is_empty() {
            break;
        }
        replayed.read += messages.len();
        replayed.previews.extend(messages.iter().map(preview));
        if dry_run {
            held.extend(messages);
            continue;
        }
        let (moved, refused) = move_batch(client, dead_letters, source, &messages)
            .await
            .map_err(|e| stop(replayed.moved, e))?;
        replayed.moved += moved;
        replayed.refused += refused;
    }
    if dry_run {
        show_again(client, dead_letters, &held)
            .await
            .map_err(|e| stop(0, e))?;
    }
    Ok(replayed)
}

/// Sends `messages` to `source` and deletes from `dead_letters` the ones it took.
async fn move_batch(
    client: &Client,
    dead_letters: &str,
    source: &str,
    messages: &[Message],
) -> Result<(usize, usize), domain::ports::BoxError> {
    let entries = messages
        .iter()
        .enumerate()
        .map(|(at, message)| {
            SendMessageBatchRequestEntry::builder()
                .id(at.to_string())
                .message_body(message.body().unwrap_or_default())
                .set_message_attributes(message.message_attributes().cloned())
                .build()
        })
        .collect::<Result<Vec<_>, _>>()?;
    let sent = client
        .send_message_batch()
        .queue_url(source)
        .set_entries(Some(entries))
        .send()
        .await
        .map_err(aws_sdk_sqs::Error::from)?;
    let deletes = sent
        .successful()
        .iter()
        .filter_map(|ok| {
            let message = messages.get(ok.id().parse::<usize>().ok()?)?;
            DeleteMessageBatchRequestEntry::builder()
                .id(ok.id())
                .receipt_handle(message.receipt_handle()?)
                .build()
                .ok()
        })
        .collect::<Vec<_>>();
    let mut moved = 0;
    if !deletes.is_empty() {
        // A message sent but not deleted is in both queues: counted as refused, it shows up
        // again in the dead-letter queue, and its copy is a repeat consumers drop.
        moved = client
            .delete_message_batch()
            .queue_url(dead_letters)
            .set_entries(Some(deletes))
            .send()
            .await
            .map_err(aws_sdk_sqs::Error::from)?
            .successful()
            .len();
    }
    Ok((moved, messages.len() - moved))
}

/// Makes `messages` visible again at once, ten at a time.
async fn show_again(
    client: &Client,
    queue: &str,
    messages: &[Message],
) -> Result<(), domain::ports::BoxError> {
    for chunk in messages.chunks(10) {
        let entries = chunk
            .iter()
            .enumerate()
            .filter_map(|(at, message)| {
                ChangeMessageVisibilityBatchRequestEntry::builder()
                    .id(at.to_string())
                    .receipt_handle(message.receipt_handle()?)
                    .visibility_timeout(0)
                    .build()
                    .ok()
            })
            .collect::<Vec<_>>();
        client
            .change_message_visibility_batch()
            .queue_url(queue)
            .set_entries(Some(entries))
            .send()
            .await
            .map_err(aws_sdk_sqs::Error::from)?;
    }
    Ok(())
}

/// The first 120 characters of a message's body.
fn preview(message: &Message) -> String {
    message
        .body()
        .unwrap_or_default()
        .chars()
        .take(120)
        .collect()
}
