//! The emulated API Gateway WebSocket API on `/ws?token=...`: each upgrade becomes a `$connect`
//! event for `ws-connect`, each text frame a message event for `ws-message` (whose answer goes
//! back on the socket, as a two-way route's does), and the close a `$disconnect` event for
//! `ws-disconnect`. The same handler functions the Lambdas run, fed the same event shapes.

use crate::gateway::{HttpResponse, problem};
use crate::server::Services;
use crate::sockets::{Outbound, SocketInfo};
use aws_lambda_events::apigw::ApiGatewayWebsocketProxyRequest;
use aws_lambda_events::query_map::QueryMap;
use bytes::Bytes;
use domain::ConnectionId;
use edge::Problem;
use futures_util::{SinkExt, StreamExt};
use http::StatusCode;
use http_body_util::Full;
use hyper_util::rt::TokioIo;
use std::sync::Arc;
use std::time::Duration;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::protocol::{Role, WebSocketConfig};
use tokio_tungstenite::tungstenite::{Error as WsError, Message, Utf8Bytes};

/// The path the WebSocket API answers on.
pub const PATH: &str = "/ws";

/// API Gateway's WebSocket quotas that the emulation enforces, with AWS's values by default;
/// tests shorten the two durations to see clients survive them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WebSocketQuotas {
    /// Open connections per user, counted at `$connect` (`MAX_CONNECTIONS_PER_USER`).
    pub connections_per_user: usize,
    /// How long a connection stays open without a message from its client
    /// (`WS_IDLE_TIMEOUT_SECONDS`; API Gateway's is ten minutes).
    pub idle_timeout: Duration,
    /// How long a connection stays open at most (`WS_MAX_CONNECTION_SECONDS`; API Gateway's is
    /// two hours).
    pub max_duration: Duration,
}

impl WebSocketQuotas {
    /// API Gateway's limits on one WebSocket message, 128 KB, and on one frame of it, 32 KB:
    /// past either, API Gateway closes the connection with 1009 ("Quotas for configuring and
    /// running a WebSocket in API Gateway").
    pub const MAX_MESSAGE_BYTES: usize = 128 * 1024;
    /// See [`Self::MAX_MESSAGE_BYTES`].
    pub const MAX_FRAME_BYTES: usize = 32 * 1024;
}

impl Default for WebSocketQuotas {
    fn default() -> Self {
        let seconds = |s: i64| Duration::from_secs(s.unsigned_abs());
        Self {
            connections_per_user: domain::limits::CONNECTIONS_PER_USER,
            idle_timeout: seconds(domain::connection::IDLE_TIMEOUT_SECS),
            max_duration: seconds(domain::connection::MAX_CONNECTION_SECS),
        }
    }
}

/// How the emulation closes a connection, as API Gateway does. The codes for a message too big
/// and a binary frame are AWS's ("Quotas for configuring and running a WebSocket in API
/// Gateway", "Binary media types for WebSocket APIs in API Gateway"); the code at the idle
/// timeout and at the maximum duration is not in AWS's documentation, and "going away" (1001)
/// is what clients are seen to receive.
mod closing {
    use tokio_tungstenite::tungstenite::protocol::CloseFrame;
    use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;

    pub fn too_big() -> CloseFrame {
        frame(CloseCode::Size, "Message too big")
    }

    pub fn binary() -> CloseFrame {
        frame(CloseCode::Unsupported, "Binary frames are not supported")
    }

    pub fn idle() -> CloseFrame {
        frame(CloseCode::Away, "Going away: idle timeout")
    }

    pub fn too_long() -> CloseFrame {
        frame(CloseCode::Away, "Going away: maximum connection duration")
    }

    fn frame(code: CloseCode, reason: &'static str) -> CloseFrame {
        CloseFrame {
            code,
            reason: reason.into(),
        }
    }
}

/// What a socket reads into at first: a client's messages are at most 4 KiB.
const READ_BUFFER_BYTES: usize = 4 * 1024;

/// Answers an upgrade request on `PATH`: 101 and a socket when `ws-connect` accepts, its status
/// (as a problem) when it refuses.
pub async fn upgrade(
    services: Arc<Services>,
    request: http::Request<hyper::body::Incoming>,
) -> HttpResponse {
    let is_upgrade = request
        .headers()
        .get(http::header::UPGRADE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("websocket"));
    let Some(key) = request
        .headers()
        .get("sec-websocket-key")
        .map(|k| k.as_bytes().to_vec())
        .filter(|_| is_upgrade)
    else {
        return problem(Problem::new(
            StatusCode::UPGRADE_REQUIRED,
            "UPGRADE_REQUIRED",
            "this path speaks WebSocket only",
        ));
    };
    let id = new_connection_id();
    let connected_at = chrono::Utc::now();
    let source_ip = "127.0.0.1".to_owned();
    let connect = connect_event(&id, &request, connected_at);
    let per_user = services.websocket.connections_per_user;
    let handler = ws_connect::Connect {
        verifier: &services.verifier,
        registry: services.registry.as_ref(),
        per_user,
    };
    let answer = ws_connect::handle(&handler, connect).await;
    if answer.status_code != 200 {
        // API Gateway fails the handshake with the status `$connect` answered.
        let status = u16::try_from(answer.status_code).unwrap_or(500);
        return problem(ws_connect::refusal(status, per_user));
    }
    let info = SocketInfo {
        connected_at,
        source_ip,
    };
    tokio::spawn(async move {
        match hyper::upgrade::on(request).await {
            Ok(upgraded) => serve(services, id, info, TokioIo::new(upgraded)).await,
            Err(e) => {
                tracing::debug!(error = %e, "upgrade failed");
                disconnect(&services, &id).await;
            }
        }
    });
    let accept = tokio_tungstenite::tungstenite::handshake::derive_accept_key(&key);
    http::Response::builder()
        .status(StatusCode::SWITCHING_PROTOCOLS)
        .header(http::header::UPGRADE, "websocket")
        .header(http::header::CONNECTION, "Upgrade")
        .header("sec-websocket-accept", accept)
        .body(Full::new(Bytes::new()))
        .unwrap_or_else(|_| {
            problem(Problem::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "INTERNAL",
                "upgrade failed",
            ))
        })
}

async fn serve(
    services: Arc<Services>,
    id: ConnectionId,
    info: SocketInfo,
    io: TokioIo<hyper::upgrade::Upgraded>,
) {
    let mut config = WebSocketConfig::default();
    // The default 128 KiB read buffer is zeroed on every read: at a thousand sockets that was
    // a fifth of the push path's CPU. Client messages are small; the buffer grows for a big one.
    config.read_buffer_size = READ_BUFFER_BYTES;
    config.max_message_size = Some(WebSocketQuotas::MAX_MESSAGE_BYTES);
    config.max_frame_size = Some(WebSocketQuotas::MAX_FRAME_BYTES);
    let socket = WebSocketStream::from_raw_socket(io, Role::Server, Some(config)).await;
    let (mut sink, mut stream) = socket.split();
    // Posts reach the socket from here on; one that came while `$connect` had registered it
    // and the handshake was still finishing was answered 410, as API Gateway answers a post
    // to a connection it has not opened yet.
    let (sender, mut outbound) = tokio::sync::mpsc::unbounded_channel();
    services.sockets.insert(id.clone(), sender, info);
    let quotas = services.websocket;
    let cut_off = tokio::time::sleep(quotas.max_duration);
    tokio::pin!(cut_off);
    let idle = tokio::time::sleep(quotas.idle_timeout);
    tokio::pin!(idle);
    loop {
        tokio::select! {
            () = &mut cut_off => {
                let _ = sink.send(Message::Close(Some(closing::too_long()))).await;
                break;
            }
            () = &mut idle => {
                let _ = sink.send(Message::Close(Some(closing::idle()))).await;
                break;
            }
            incoming = stream.next() => match incoming {
                Some(Ok(Message::Text(text))) => {
                    idle.as_mut().reset(tokio::time::Instant::now() + quotas.idle_timeout);
                    let routes = ws_message::Routes {
                        carts: &services.carts,
                        registry: services.registry.as_ref(),
                        notices: services.notices.as_ref(),
                        rate: &services.message_rate,
                    };
                    let answer = ws_message::handle(&routes, message_event(&id, text.as_str())).await;
                    if let Some(aws_lambda_events::encodings::Body::Text(reply)) = answer.body
                        && sink.send(Message::text(reply)).await.is_err()
                    {
                        break;
                    }
                }
                Some(Ok(Message::Binary(_))) => {
                    let _ = sink.send(Message::Close(Some(closing::binary()))).await;
                    break;
                }
                Some(Err(WsError::Capacity(_))) => {
                    let _ = sink.send(Message::Close(Some(closing::too_big()))).await;
                    break;
                }
                Some(Ok(Message::Close(_))) | Some(Err(_)) | None => break,
                Some(Ok(_)) => {}
            },
            command = outbound.recv() => match command {
                Some(Outbound::Data(data)) => {
                    let frame = match Utf8Bytes::try_from(data.clone()) {
                        Ok(text) => Message::Text(text),
                        Err(_) => Message::Binary(data),
                    };
                    if sink.send(frame).await.is_err() {
                        break;
                    }
                }
                Some(Outbound::Close) | None => {
                    let _ = sink.send(Message::Close(None)).await;
                    break;
                }
            },
        }
    }
    services.sockets.remove(&id);
    disconnect(&services, &id).await;
}

async fn disconnect(services: &Services, id: &ConnectionId) {
    let event = event_for(id, "$disconnect", "DISCONNECT", chrono::Utc::now());
    ws_disconnect::handle(services.registry.as_ref(), services.notices.as_ref(), event).await;
}

/// An id in API Gateway's style: 16 characters of base64.
fn new_connection_id() -> ConnectionId {
    use base64::Engine;
    let random = uuid::Uuid::new_v4();
    let text = base64::engine::general_purpose::STANDARD.encode(&random.as_bytes()[..11]);
    ConnectionId::parse(&text)
        .expect("16 characters of the base64 alphabet are a valid connection id")
}

fn event_for(
    id: &ConnectionId,
    route: &str,
    kind: &str,
    connected_at: chrono::DateTime<chrono::Utc>,
) -> ApiGatewayWebsocketProxyRequest {
    let mut event = ApiGatewayWebsocketProxyRequest::default();
    let context = &mut event.request_context;
    context.route_key = Some(route.to_owned());
    context.event_type = Some(kind.to_owned());
    context.connection_id = Some(id.to_string());
    context.connected_at = connected_at.timestamp_millis();
    context.request_time_epoch = chrono::Utc::now().timestamp_millis();
    context.stage = Some("local".into());
    context.apiid = Some("local".into());
    context.message_direction = Some("IN".into());
    context.request_id = Some(uuid::Uuid::new_v4().to_string());
    event
}

fn connect_event(
    id: &ConnectionId,
    request: &http::Request<hyper::body::Incoming>,
    connected_at: chrono::DateTime<chrono::Utc>,
) -> ApiGatewayWebsocketProxyRequest {
    let mut event = event_for(id, "$connect", "CONNECT", connected_at);
    let query: QueryMap = request
        .uri()
        .query()
        .unwrap_or_default()
        .parse()
        .unwrap_or_default();
    event.query_string_parameters = query.clone();
    event.multi_value_query_string_parameters = query;
    event.headers = request.headers().clone();
    event
}

/// A message event, routed by `action` as `$request.body.action` routes it.
fn message_event(id: &ConnectionId, body: &str) -> ApiGatewayWebsocketProxyRequest {
    #[derive(serde::Deserialize)]
    struct Action {
        action: Option<String>,
    }
    let action = serde_json::from_str::<Action>(body)
        .ok()
        .and_then(|a| a.action);
    let route = edge::websocket::ROUTES
        .iter()
        .map(|(route, _)| *route)
        .find(|route| !route.starts_with('$') && Some(*route) == action.as_deref())
        .unwrap_or("$default");
    let mut event = event_for(id, route, "MESSAGE", chrono::Utc::now());
    event.body = Some(body.to_owned());
    event
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connection_ids_look_like_api_gateways_and_do_not_repeat() {
        let (a, b) = (new_connection_id(), new_connection_id());
        assert_eq!(a.as_str().len(), 16);
        assert_ne!(a, b);
    }
}
