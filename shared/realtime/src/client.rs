//! What a client may send, routed by its `action` field as API Gateway's route selection
//! expression (`$request.body.action`) does.

use domain::CartId;
use serde::Deserialize;

/// The largest message a client may send; ours are tiny, so anything bigger is a mistake.
pub const MAX_CLIENT_MESSAGE_BYTES: usize = 4 * 1024;

/// A message from a client.
#[derive(Debug, PartialEq, Eq)]
pub enum ClientMessage {
    /// Send me this cart's snapshot now (members only); its changes follow as they happen.
    Subscribe(CartId),
    /// I am done with this cart.
    Unsubscribe(CartId),
    /// Are you there?
    Ping,
}

/// Why a client message was not understood; answered on the socket, never a crash.
#[derive(Debug, PartialEq, Eq)]
pub enum ProtocolError {
    /// Not JSON, or not an object.
    Malformed(String),
    /// An `action` we do not know (or none).
    UnknownAction(String),
    /// A known action with a bad field.
    Invalid(String),
    /// Bigger than `MAX_CLIENT_MESSAGE_BYTES`.
    TooLarge,
}

impl ProtocolError {
    /// The stable code sent back.
    pub fn code(&self) -> &'static str {
        match self {
            ProtocolError::Malformed(_) => "MALFORMED_MESSAGE",
            ProtocolError::UnknownAction(_) => "UNKNOWN_ACTION",
            ProtocolError::Invalid(_) => "VALIDATION_FAILED",
            ProtocolError::TooLarge => "MESSAGE_TOO_LARGE",
        }
    }

    /// What to tell the client.
    pub fn detail(&self) -> String {
        match self {
            ProtocolError::Malformed(e) => {
                format!("messages are JSON objects with an \"action\": {e}")
            }
            ProtocolError::UnknownAction(a) => {
                format!(
                    "unknown action {a:?}; actions are \"subscribe\", \"unsubscribe\" and \"ping\""
                )
            }
            ProtocolError::Invalid(e) => e.clone(),
            ProtocolError::TooLarge => {
                format!("messages are limited to {MAX_CLIENT_MESSAGE_BYTES} bytes")
            }
        }
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Envelope {
    action: Option<String>,
    cart_id: Option<String>,
}

impl ClientMessage {
    /// Parses one client message.
    pub fn parse(text: &str) -> Result<ClientMessage, ProtocolError> {
        if text.len() > MAX_CLIENT_MESSAGE_BYTES {
            return Err(ProtocolError::TooLarge);
        }
        let envelope: Envelope =
            serde_json::from_str(text).map_err(|e| ProtocolError::Malformed(e.to_string()))?;
        let cart = || {
            let raw = envelope
                .cart_id
                .as_deref()
                .ok_or_else(|| ProtocolError::Invalid("cartId is required".into()))?;
            CartId::parse(raw).map_err(|e| ProtocolError::Invalid(e.to_string()))
        };
        match envelope.action.as_deref() {
            Some("subscribe") => Ok(ClientMessage::Subscribe(cart()?)),
            Some("unsubscribe") => Ok(ClientMessage::Unsubscribe(cart()?)),
            Some("ping") => Ok(ClientMessage::Ping),
            Some(other) => Err(ProtocolError::UnknownAction(
                other.chars().take(64).collect(),
            )),
            None => Err(ProtocolError::UnknownAction(String::new())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn actions_parse() {
        let id = "3f2b8c1e-0d4a-4c6e-9a51-2b7d0e8f9c10";
        assert_eq!(
            ClientMessage::parse(&format!(r#"{{"action":"subscribe","cartId":"{id}"}}"#)),
            Ok(ClientMessage::Subscribe(CartId::parse(id).unwrap()))
        );
        assert_eq!(
            ClientMessage::parse(r#"{"action":"ping"}"#),
            Ok(ClientMessage::Ping)
        );
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        let cases = [
            "",
            "nope",
            "[]",
            "{}",
            r#"{"action":"dance"}"#,
            r#"{"action":"subscribe"}"#,
            r#"{"action":"subscribe","cartId":"x"}"#,
        ];
        for case in cases {
            assert!(ClientMessage::parse(case).is_err(), "{case}");
        }
        assert_eq!(
            ClientMessage::parse(&"x".repeat(5000)),
            Err(ProtocolError::TooLarge)
        );
    }
}
