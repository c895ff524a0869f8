//! A request body as the byte stream the release files port takes, bounded in size and in the
//! time between two chunks (a client that stops sending is cut off, not waited for forever).

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use atr_core::ports::ByteStream;
use axum::body::{Body, BodyDataStream};
use bytes::Bytes;
use futures_core::Stream;

/// Streams a body, failing with an error once it passes `limit` bytes or once no byte came for
/// `stall`.
struct Bounded {
    inner: BodyDataStream,
    seen: u64,
    limit: u64,
    stall: std::time::Duration,
    deadline: Pin<Box<tokio::time::Sleep>>,
}

impl Stream for Bounded {
    type Item = std::io::Result<Bytes>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let polled = Pin::new(&mut self.inner).poll_next(cx);
        if polled.is_pending() {
            if self.deadline.as_mut().poll(cx).is_ready() {
                let secs = self.stall.as_secs();
                let error = format!("the client sent nothing for {secs} s; the upload was dropped");
                return Poll::Ready(Some(Err(std::io::Error::new(std::io::ErrorKind::TimedOut, error))));
            }
            return Poll::Pending;
        }
        let next = tokio::time::Instant::now() + self.stall;
        self.deadline.as_mut().reset(next);
        match polled {
            Poll::Ready(Some(Ok(chunk))) => {
                self.seen = self.seen.saturating_add(chunk.len() as u64);
                if self.seen > self.limit {
                    let limit = self.limit;
                    let error = format!("the upload is larger than {limit} bytes");
                    Poll::Ready(Some(Err(std::io::Error::new(std::io::ErrorKind::FileTooLarge, error))))
                } else {
                    Poll::Ready(Some(Ok(chunk)))
                }
            }
            Poll::Ready(Some(Err(e))) => Poll::Ready(Some(Err(std::io::Error::other(e)))),
            Poll::Ready(None) => Poll::Ready(None),
            Poll::Pending => Poll::Pending,
        }
    }
}

/// The body as a byte stream bounded in size (`limit`) and in the wait for each chunk (`stall`).
pub(crate) fn stream(body: Body, limit: u64, stall: std::time::Duration) -> ByteStream {
    let deadline = Box::pin(tokio::time::sleep(stall));
    Box::pin(Bounded { inner: body.into_data_stream(), seen: 0, limit, stall, deadline })
}
