//! Cart events out of the records a consumer function receives from MSK: each record's value
//! is base64 of the event's JSON, keyed by cart id.

use aws_lambda_events::event::kafka::{KafkaEvent, KafkaRecord};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use domain::CartEvent;

/// The MSK batch in a consumer's invocation `payload`. The event library panics on a record
/// timestamp with a fraction (`1.5`, or `"1.5"`), which would end the instance and have the
/// batch handed over again, forever; such a timestamp (MSK sends whole milliseconds) is cut to
/// its whole part first. Anything else that is not a batch is an error.
pub fn batch(mut payload: serde_json::Value) -> Result<KafkaEvent, serde_json::Error> {
    if let Some(partitions) = payload
        .get_mut("records")
        .and_then(serde_json::Value::as_object_mut)
    {
        let records = partitions
            .values_mut()
            .filter_map(serde_json::Value::as_array_mut)
            .flatten();
        for timestamp in records.filter_map(|record| record.get_mut("timestamp")) {
            whole_milliseconds(timestamp);
        }
    }
    serde_json::from_value(payload)
}

/// The MSK batch in `payload`, or, when it is none, an empty batch and an error in the log: a
/// consumer function acknowledges what it cannot read rather than have it handed over again.
pub fn batch_or_empty(payload: serde_json::Value) -> KafkaEvent {
    batch(payload)
        .inspect_err(
            |e| tracing::error!(error = %e, "skipping an invocation that is not an MSK batch"),
        )
        .unwrap_or_default()
}

/// Cuts a timestamp with a fraction to its whole part; leaves any other value for the event
/// library to take or refuse.
fn whole_milliseconds(timestamp: &mut serde_json::Value) {
    let number = match timestamp {
        serde_json::Value::Number(n) if n.is_f64() => n.as_f64(),
        serde_json::Value::String(s) => s.parse::<f64>().ok(),
        _ => None,
    };
    if let Some(number) = number
        && number.fract() != 0.0
        && (0.0..u64::MAX as f64).contains(&number)
    {
        *timestamp = (number.trunc() as u64).into();
    }
}

/// Every record of `batch`, each partition's in offset order: the order its cart's events were
/// published in, which a consumer keeps.
pub fn in_order(batch: KafkaEvent) -> Vec<KafkaRecord> {
    let mut records: Vec<_> = batch.records.into_values().flatten().collect();
    records.sort_by_key(|r| (r.partition, r.offset));
    records
}

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

#[cfg(test)]
mod tests {
    use super::batch;
    use serde_json::json;

    fn with_timestamp(timestamp: serde_json::Value) -> serde_json::Value {
        json!({"records": {"cart-events-0": [{
            "partition": 0, "offset": 1, "timestamp": timestamp,
            "key": null, "value": null, "headers": []
        }]}})
    }

    #[test]
    fn a_timestamp_with_a_fraction_is_cut_to_whole_milliseconds_not_a_panic() {
        for timestamp in [json!(1795338100000.5), json!("1795338100000.5")] {
            let batch = batch(with_timestamp(timestamp)).expect("a batch");
            let record = &batch.records["cart-events-0"][0];
            assert_eq!(record.timestamp.0.timestamp_millis(), 1_795_338_100_000);
        }
    }

    #[test]
    fn a_timestamp_that_is_no_time_is_an_error() {
        for timestamp in [json!(-1.5), json!("soon"), json!(null)] {
            assert!(batch(with_timestamp(timestamp)).is_err());
        }
        assert!(batch(json!([1, 2])).is_err());
    }
}
