//! Refusals of HTTP/2 uploads that reach the client. A handler that answers before reading
//! the whole request body (413 over the body limit, 401 on an upload without a session)
//! drops the body, and hyper then resets the stream: the client sees a stream error
//! instead of the answer. Over HTTP/2 the body is therefore read by a task of its own that
//! hands it to the handler and, once the handler has let go of it, reads the rest and
//! discards it (up to [`DRAIN_CAP`], each piece within [`DRAIN_PATIENCE`]), so the stream
//! ends cleanly and the answer arrives. HTTP/1.1 needs none of this (hyper drains or closes).

use std::time::Duration;

use axum::body::Body;
use axum::extract::Request;
use axum::http::Version;
use axum::middleware::Next;
use axum::response::Response;
use bytes::Bytes;
use futures_util::StreamExt;
use http_body::Body as _;

/// The most of a refused body read to end its stream cleanly; a longer one is reset.
pub const DRAIN_CAP: u64 = 64 * 1024 * 1024;
/// How long a piece of a refused body may take to arrive.
pub const DRAIN_PATIENCE: Duration = Duration::from_secs(10);

pub async fn read_refused_bodies_to_the_end(request: Request, next: Next) -> Response {
    if request.version() != Version::HTTP_2 || request.body().is_end_stream() {
        return next.run(request).await;
    }
    let (parts, body) = request.into_parts();
    let (sender, receiver) = tokio::sync::mpsc::channel::<Result<Bytes, axum::Error>>(2);
    tokio::spawn(async move {
        let mut stream = body.into_data_stream();
        let mut handler_reads = true;
        let mut discarded: u64 = 0;
        loop {
            let next = if handler_reads {
                stream.next().await
            } else {
                match tokio::time::timeout(DRAIN_PATIENCE, stream.next()).await {
                    Ok(next) => next,
                    Err(_) => break,
                }
            };
            let Some(piece) = next else { break };
            match piece {
                Ok(bytes) if handler_reads => {
                    let len = bytes.len() as u64;
                    if sender.send(Ok(bytes)).await.is_err() {
                        // The handler answered without the rest: read it to end the stream.
                        handler_reads = false;
                        discarded += len;
                    }
                }
                Ok(bytes) => discarded += bytes.len() as u64,
                Err(err) => {
                    let _ = sender.send(Err(err)).await;
                    break;
                }
            }
            if discarded > DRAIN_CAP {
                break;
            }
        }
    });
    let pieces = futures_util::stream::unfold(receiver, |mut receiver| async move {
        receiver.recv().await.map(|piece| (piece, receiver))
    });
    next.run(Request::from_parts(parts, Body::from_stream(pieces)))
        .await
}
