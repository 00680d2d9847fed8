//! Frame sessions over one WebSocket: the message loop every server shares, with the server's
//! own flows ([`FrameFlows`]) deciding how sessions start and what a finished one does.
//!
//! Client → server: the server's start messages (`start_enrollment`, …), `resume
//! {session_id}`, `process_frame {image: base64 JPEG or data URL, timestamp_ms?}`, `ping`,
//! `cancel`. Server → client: `session_started`, the frame messages of the flow,
//! `frame_dropped`, `cancelled`, `error`, `pong`. One frame is processed at a time: frames that
//! arrive while one is in flight, or when every model slot is busy, are dropped and counted.

use super::{FrameSession, SessionStatusView, Slot};
use crate::caller::Caller;
use crate::error::{ApiError, ApiResult};
use crate::state::Common;
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::response::Response;
use futures_util::future::BoxFuture;
use serde_json::{json, Value};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;

/// A connection silent this long is closed.
const IDLE: Duration = Duration::from_secs(120);

/// What a server does with the frame sessions of its WebSocket.
pub trait FrameFlows: Clone + Send + Sync + 'static {
    fn common(&self) -> &Common;

    /// Starts a session from a message of type `kind` (its JSON is `message`); `None` when the
    /// server has no such start message.
    fn start<'a>(
        &'a self,
        caller: &'a Caller,
        kind: &'a str,
        message: &'a Value,
    ) -> Option<BoxFuture<'a, ApiResult<FrameSession>>>;

    /// Feeds one frame and answers the client's message (its `type` set).
    fn process(
        &self,
        caller: Caller,
        session_id: String,
        frame: bytes::Bytes,
        timestamp_ms: Option<u64>,
        slot: Slot,
    ) -> BoxFuture<'static, ApiResult<Value>>;

    /// Ends a session early.
    fn cancel(&self, session_id: String) -> BoxFuture<'static, ApiResult<()>>;
}

/// Accepts the upgrade and runs the connection under the server's shutdown tracker.
pub fn upgrade<F: FrameFlows>(flows: F, caller: Caller, ws: WebSocketUpgrade) -> Response {
    let max = flows.common().settings().limits.max_body_bytes();
    ws.max_message_size(max)
        .max_frame_size(max)
        .on_upgrade(move |socket| {
            let tracker = flows.common().shutdown().tracker.clone();
            async move {
                let _ = tracker.spawn(run(flows, caller, socket)).await;
            }
        })
}

fn error_message(e: &ApiError) -> Value {
    json!({ "type": "error", "error": e.code, "message": e.message })
}

fn invalid(message: &str) -> Value {
    json!({ "type": "error", "error": "invalid_argument", "message": message })
}

fn started(view: &SessionStatusView) -> Value {
    let mut v = serde_json::to_value(view).unwrap_or_default();
    v["type"] = "session_started".into();
    v
}

async fn run<F: FrameFlows>(flows: F, caller: Caller, socket: WebSocket) {
    use futures_util::{SinkExt, StreamExt};
    metrics::gauge!("faceprint_websocket_sessions").increment(1.0);
    let (mut sink, mut stream) = socket.split();
    // Bounded: a client that does not read its messages is disconnected, not buffered.
    let (tx, mut rx) = mpsc::channel::<Value>(16);
    let writer = tokio::spawn(async move {
        while let Some(v) = rx.recv().await {
            if sink
                .send(Message::Text(v.to_string().into()))
                .await
                .is_err()
            {
                break;
            }
        }
        let _ = sink.send(Message::Close(None)).await;
    });
    let busy = Arc::new(AtomicBool::new(false));
    let mut session: Option<String> = None;
    let stop = flows.common().shutdown().token.clone();
    loop {
        let msg = tokio::select! {
            _ = stop.cancelled() => {
                let _ = tx.try_send(json!({ "type": "error", "error": "shutting_down", "message": "the server is restarting; resume this session on a new connection", "session_id": session }));
                break;
            }
            m = tokio::time::timeout(IDLE, stream.next()) => match m {
                Ok(Some(Ok(m))) => m,
                _ => break,
            },
        };
        let text = match msg {
            Message::Text(t) => t,
            Message::Close(_) => break,
            Message::Binary(_) => {
                let _ = tx.try_send(invalid("send JSON text messages"));
                continue;
            }
            _ => continue,
        };
        let message: Value = match serde_json::from_str(&text) {
            Ok(v @ Value::Object(_)) => v,
            Ok(_) => {
                let _ = tx.try_send(invalid("a message is a JSON object with a type"));
                continue;
            }
            Err(e) => {
                let _ = tx.try_send(invalid(&format!("unreadable message: {e}")));
                continue;
            }
        };
        let kind = message["type"].as_str().unwrap_or_default().to_string();
        let reply = match kind.as_str() {
            "ping" => Some(json!({ "type": "pong" })),
            "resume" => Some(match message["session_id"].as_str() {
                Some(id) => match super::load(flows.common(), id).await {
                    Ok((s, dropped)) => {
                        session = Some(s.id.clone());
                        started(&s.view(dropped))
                    }
                    Err(e) => error_message(&e),
                },
                None => invalid("resume needs a session_id"),
            }),
            "cancel" => Some(match &session {
                Some(id) => match flows.cancel(id.clone()).await {
                    Ok(()) => json!({ "type": "cancelled", "session_id": id }),
                    Err(e) => error_message(&e),
                },
                None => invalid("no session to cancel"),
            }),
            "process_frame" => {
                let Some(id) = session.clone() else {
                    let _ = tx.try_send(invalid("start or resume a session first"));
                    continue;
                };
                let Some(image) = message["image"].as_str().map(str::to_string) else {
                    let _ = tx.try_send(invalid("process_frame needs an image (base64 JPEG)"));
                    continue;
                };
                let timestamp_ms = match &message["timestamp_ms"] {
                    Value::Null => None,
                    v => match v.as_u64() {
                        Some(t) => Some(t),
                        None => {
                            let _ = tx.try_send(invalid(
                                "timestamp_ms must be a whole number of milliseconds",
                            ));
                            continue;
                        }
                    },
                };
                if busy.swap(true, Ordering::AcqRel) {
                    // The previous frame is still being processed.
                    let _ = super::count_drop(flows.common(), &id).await;
                    let _ = tx.try_send(json!({ "type": "frame_dropped", "session_id": id }));
                    continue;
                }
                let tasks = flows.common().shutdown().clone();
                let (flows, caller, tx, busy) =
                    (flows.clone(), caller.clone(), tx.clone(), busy.clone());
                tasks.spawn(async move {
                    let limit = flows.common().upload_rules().max_image_bytes;
                    let out = match crate::upload::decode_base64_image("image", &image, limit) {
                        Ok(bytes) => {
                            flows
                                .process(caller, id, bytes.into(), timestamp_ms, Slot::IfFree)
                                .await
                        }
                        Err(e) => Err(e),
                    };
                    busy.store(false, Ordering::Release);
                    let _ = tx.send(out.unwrap_or_else(|e| error_message(&e))).await;
                });
                None
            }
            other => Some(match flows.start(&caller, other, &message) {
                Some(start) => match start.await {
                    Ok(s) => {
                        session = Some(s.id.clone());
                        started(&s.view(0))
                    }
                    Err(e) => error_message(&e),
                },
                None => invalid(&format!("unknown message type {other:?}")),
            }),
        };
        if let Some(r) = reply {
            if tx.send(r).await.is_err() {
                break;
            }
        }
    }
    drop(tx);
    let _ = writer.await;
    metrics::gauge!("faceprint_websocket_sessions").decrement(1.0);
}
