//! Cart events out of the records a consumer function receives from MSK: each record's value
//! is base64 of the event's JSON, keyed by cart id.

use aws_lambda_events::event::kafka::KafkaRecord;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use domain::CartEvent;

/// The cart event `record` carries, or why it carries none (a consumer logs it and goes on).
pub fn decode(record: &KafkaRecord) -> Result<CartEvent, &'static str> {
    let value = record.value.as_deref().ok_or("the record has no value")?;
    let bytes = STANDARD
        .decode(value)
        .map_err(|_| "the value is not base64")?;
    serde_json::from_slice(&bytes).map_err(|_| "the value is not a cart event")
}

/// The cart event `record` carries; a record that carries none is logged (a consumer skips it
/// and goes on: a poison record must never stall its partition).
pub fn cart_event(record: &KafkaRecord) -> Option<CartEvent> {
    decode(record)
        .inspect_err(|reason| {
            tracing::error!(
                partition = record.partition,
                offset = record.offset,
                reason,
                "skipping a record that is not a cart event"
            );
        })
        .ok()
}
