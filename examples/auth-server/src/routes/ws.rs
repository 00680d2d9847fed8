//! `GET /ws/face`: signup and login from camera frames over one WebSocket.
//!
//! Client → server: `start_enrollment {name, email}`, `start_authentication {email?}`,
//! `resume {session_id}`, `process_frame {image: base64 JPEG or data URL, timestamp_ms?}`,
//! `ping`, `cancel`. Server → client: `session_started`, `enrollment_progress`,
//! `enrollment_complete`, `liveness_instruction`, `authentication_result`, `frame_dropped`,
//! `cancelled`, `error`, `pong`. One frame is processed at a time: frames that arrive while
//! one is in flight, or when every model slot is busy, are dropped and counted.

use crate::service::frames as flows;
use crate::state::AppState;
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::State;
use axum::response::Response;
use faceprint_server::caller::Caller;
use faceprint_server::error::ApiError;
use faceprint_server::frames::Slot;
use serde::Deserialize;
use serde_json::{json, Value};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;

/// A connection silent this long is closed.
const IDLE: Duration = Duration::from_secs(120);

pub async fn upgrade(
    State(state): State<AppState>,
    caller: Caller,
    ws: WebSocketUpgrade,
) -> Response {
    let max = state.common().settings().limits.max_body_bytes();
    ws.max_message_size(max)
        .max_frame_size(max)
        .on_upgrade(move |socket| {
            let tracker = state.common().shutdown().tracker.clone();
            async move {
                let _ = tracker.spawn(run(state, caller, socket)).await;
            }
        })
}

#[derive(Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum Incoming {
    StartEnrollment {
        name: String,
        email: String,
    },
    StartAuthentication {
        email: Option<String>,
    },
    Resume {
        session_id: String,
    },
    ProcessFrame {
        image: String,
        timestamp_ms: Option<u64>,
    },
    Ping,
    Cancel,
}

fn error_message(e: &ApiError) -> Value {
    json!({ "type": "error", "error": e.code, "message": e.message })
}

async fn run(state: AppState, caller: Caller, socket: WebSocket) {
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
    let stop = state.common().shutdown().token.clone();
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
                let _ = tx.try_send(json!({ "type": "error", "error": "invalid_argument", "message": "send JSON text messages" }));
                continue;
            }
            _ => continue,
        };
        let incoming: Incoming = match serde_json::from_str(&text) {
            Ok(i) => i,
            Err(e) => {
                let _ = tx.try_send(json!({ "type": "error", "error": "invalid_argument", "message": format!("unreadable message: {e}") }));
                continue;
            }
        };
        let reply = match incoming {
            Incoming::Ping => Some(json!({ "type": "pong" })),
            Incoming::StartEnrollment { name, email } => Some(
                match flows::start_signup(&state, &caller, &name, &email).await {
                    Ok(s) => {
                        session = Some(s.id.clone());
                        started(&s.view(0))
                    }
                    Err(e) => error_message(&e),
                },
            ),
            Incoming::StartAuthentication { email } => {
                Some(match flows::start_login(&state, email.as_deref()).await {
                    Ok(s) => {
                        session = Some(s.id.clone());
                        started(&s.view(0))
                    }
                    Err(e) => error_message(&e),
                })
            }
            Incoming::Resume { session_id } => Some(
                match faceprint_server::frames::load(state.common(), &session_id).await {
                    Ok((s, dropped)) => {
                        session = Some(s.id.clone());
                        started(&s.view(dropped))
                    }
                    Err(e) => error_message(&e),
                },
            ),
            Incoming::Cancel => Some(match &session {
                Some(id) => match flows::cancel(&state, id).await {
                    Ok(_) => json!({ "type": "cancelled", "session_id": id }),
                    Err(e) => error_message(&e),
                },
                None => {
                    json!({ "type": "error", "error": "invalid_argument", "message": "no session to cancel" })
                }
            }),
            Incoming::ProcessFrame {
                image,
                timestamp_ms,
            } => {
                let Some(id) = session.clone() else {
                    let _ = tx.try_send(json!({ "type": "error", "error": "invalid_argument", "message": "start or resume a session first" }));
                    continue;
                };
                if busy.swap(true, Ordering::AcqRel) {
                    // The previous frame is still being processed.
                    let _ = faceprint_server::frames::count_drop(state.common(), &id).await;
                    let _ = tx.try_send(json!({ "type": "frame_dropped", "session_id": id }));
                    continue;
                }
                let tasks = state.common().shutdown().clone();
                let (state, caller, tx, busy) =
                    (state.clone(), caller.clone(), tx.clone(), busy.clone());
                tasks.spawn(async move {
                    let limit = state.common().upload_rules().max_image_bytes;
                    let out =
                        match faceprint_server::upload::decode_base64_image("image", &image, limit)
                        {
                            Ok(bytes) => {
                                flows::process_frame(
                                    &state,
                                    &caller,
                                    &id,
                                    bytes.into(),
                                    timestamp_ms,
                                    Slot::IfFree,
                                )
                                .await
                            }
                            Err(e) => Err(e),
                        };
                    busy.store(false, Ordering::Release);
                    let _ = tx.send(out.unwrap_or_else(|e| error_message(&e))).await;
                });
                None
            }
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

fn started(view: &faceprint_server::frames::SessionStatusView) -> Value {
    let mut v = serde_json::to_value(view).unwrap_or_default();
    v["type"] = "session_started".into();
    v
}
