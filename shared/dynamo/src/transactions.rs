//! What a cancelled `TransactWriteItems` says, and how long to wait before trying one again.

use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;

/// Tries of a transaction another transaction on the same items cancelled.
pub(crate) const CONFLICT_RETRIES: u32 = 8;

/// Why a transaction was cancelled: a write's condition (by its position), or another
/// transaction on the same item ("TransactWriteItems", DynamoDB API reference).
pub(crate) enum Cancelled {
    Condition(usize),
    Conflict,
}

/// Why `sent` was cancelled, if it was.
pub(crate) fn cancelled_by<T>(
    sent: &Result<T, SdkError<TransactWriteItemsError>>,
) -> Option<Cancelled> {
    let Err(e) = sent else {
        return None;
    };
    let Some(TransactWriteItemsError::TransactionCanceledException(cancelled)) =
        e.as_service_error()
    else {
        return None;
    };
    let reasons = cancelled.cancellation_reasons();
    if let Some(at) = reasons
        .iter()
        .position(|reason| reason.code() == Some("ConditionalCheckFailed"))
    {
        return Some(Cancelled::Condition(at));
    }
    reasons
        .iter()
        .any(|reason| reason.code() == Some("TransactionConflict"))
        .then_some(Cancelled::Conflict)
}

/// Waits before the `attempt`th try after a conflict: jittered and doubling, so two writers of
/// the same item do not meet again.
pub(crate) async fn wait_after_conflict(attempt: u32) {
    let bound = 10u64 << attempt.min(6);
    let wait = bound / 2 + fastrand::u64(..=bound / 2);
    tokio::time::sleep(std::time::Duration::from_millis(wait)).await;
}
