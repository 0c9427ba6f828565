//! Every decoder of untrusted input, behind one entry point per kind of input, so that the
//! fuzzer (`fuzz/`, `cargo fuzz`) and the regression tests over its findings run exactly what
//! the functions run:
//!
//! - [`api_gateway_request`]: an API Gateway REST proxy event, as a function receives it, read
//!   the way the edge reads it (identity, path and query parameters, `If-Match`, the body).
//! - [`websocket_message`]: a client's WebSocket message, and the `ws-message` event around it.
//! - [`kafka_record`]: a record value from the events topic, and a whole MSK batch.
//! - [`bearer_token`]: a bearer token, checked as the authorizer checks it.
//!
//! None may panic, whatever the bytes: a panic on Lambda (built with `panic = "abort"`) ends
//! the instance. Each returns nothing; what the decoders made of the input is dropped.

use aws_lambda_events::event::kafka::KafkaRecord;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde::Deserialize;

/// A body shaped like the cart functions' bodies, with their field decoders.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[allow(dead_code)] // Read by the decoder, not by us.
struct LineBody {
    item_id: String,
    #[serde(deserialize_with = "edge::request::whole_number")]
    quantity: i64,
    #[serde(default, deserialize_with = "edge::request::not_null")]
    currency: Option<String>,
}

/// An API Gateway REST proxy event as JSON, read as a function's runner reads it.
pub fn api_gateway_request(data: &[u8]) {
    let Ok(event) = serde_json::from_slice(data) else {
        return;
    };
    let request = edge::event::request(event);
    let _ = edge::Caller::from_request(&request);
    let _ = edge::request::cart_id(&request);
    let _ = edge::request::path_param(&request, "itemId");
    let _ = edge::request::path_param(&request, "userId");
    let _ = edge::request::query_param(&request, "limit");
    let _ = edge::request::if_match(&request);
    let _ = edge::request::json_body::<LineBody>(&request);
    let _ = edge::request::optional_json_body::<serde_json::Value>(&request);
}

/// A WebSocket client message, and the same bytes as the `ws-message` event around one.
pub fn websocket_message(data: &[u8]) {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = realtime::ClientMessage::parse(text);
    }
    if let Ok(event) = serde_json::from_slice::<edge::websocket::Event>(data) {
        let _ = edge::websocket::connection_id(&event);
        if let Some(body) = event.body.as_deref() {
            let _ = realtime::ClientMessage::parse(body);
        }
    }
}

/// A record value from the events topic, and the same bytes as a whole MSK batch.
pub fn kafka_record(data: &[u8]) {
    let mut record = KafkaRecord::default();
    record.value = Some(STANDARD.encode(data));
    let _ = edge::records::decode(&record);
    let payload = serde_json::from_slice::<serde_json::Value>(data);
    if let Ok(Ok(batch)) = payload.map(edge::records::batch) {
        for record in batch.records.values().flatten() {
            let _ = edge::records::decode(record);
        }
    }
}

/// A bearer token, checked against a fixed key at a fixed time.
pub fn bearer_token(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let keys = token::TokenKeys::new(
        "fuzzing-secret-fuzzing-secret-fuzzing",
        "shared-carts",
        "shared-carts-api",
    );
    let _ = keys.verify(text, 1_800_000_000);
}
