//! The DynamoDB adapters: the WebSocket connection registry (by connection id, a GSI by user, a
//! TTL attribute), a cart store whose every write is conditional on the version it read, and the
//! idempotency records of mutating requests, the analytics counters, the directory of
//! profiles and the members' notifications.
//!
//! Table names come from configuration; [`tables`] creates them the way the SAM template
//! declares them, for tests and local runs against a DynamoDB implementation.

pub mod analytics;
mod attributes;
pub mod carts;
pub mod directory;
pub mod idempotency;
pub mod notifications;
pub mod registry;
pub mod tables;
mod transactions;

pub use analytics::DynamoAnalytics;
pub use carts::DynamoCartStore;
pub use directory::DynamoDirectory;
pub use idempotency::DynamoIdempotency;
pub use notifications::DynamoNotifications;
pub use registry::DynamoConnectionRegistry;

/// Any DynamoDB call's failure, as the ports report it: unavailable, with the SDK's error kept
/// as the source (the edge logs the whole chain).
fn unavailable<E>(e: aws_sdk_dynamodb::error::SdkError<E>) -> domain::ports::StoreError
where
    E: std::error::Error + Send + Sync + 'static,
{
    domain::ports::StoreError::unavailable(e)
}

/// A conditional write's outcome: `Some` with its output when it landed, `None` when its
/// condition failed (the answer the caller's rule expects, not an outage).
fn unless_condition_failed<T, E>(
    sent: Result<T, aws_sdk_dynamodb::error::SdkError<E>>,
) -> Result<Option<T>, domain::ports::StoreError>
where
    E: aws_sdk_dynamodb::error::ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    match sent {
        Ok(output) => Ok(Some(output)),
        Err(e)
            if e.as_service_error()
                .and_then(|e| e.code())
                .is_some_and(|code| code == "ConditionalCheckFailedException") =>
        {
            Ok(None)
        }
        Err(e) => Err(unavailable(e)),
    }
}
