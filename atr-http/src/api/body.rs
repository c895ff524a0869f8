//! A request body as the byte stream the release files port takes, bounded in size.

use std::pin::Pin;
use std::task::{Context, Poll};

use atr_core::ports::ByteStream;
use axum::body::{Body, BodyDataStream};
use bytes::Bytes;
use futures_core::Stream;

/// Streams a body, failing with an error once it passes `limit` bytes.
struct Bounded {
    inner: BodyDataStream,
    seen: u64,
    limit: u64,
}

impl Stream for Bounded {
    type Item = std::io::Result<Bytes>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        match Pin::new(&mut self.inner).poll_next(cx) {
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

/// The body as a bounded byte stream.
pub(crate) fn stream(body: Body, limit: u64) -> ByteStream {
    Box::pin(Bounded { inner: body.into_data_stream(), seen: 0, limit })
}
