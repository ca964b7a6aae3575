//! [`BodyBuffer`]: the request body, accumulated within the limit.

use std::{fmt::Display, future::poll_fn, pin::pin, time::Duration};

use bytes::{Buf, BufMut, Bytes, BytesMut};
use futures_core::Stream;

use crate::rejection::Rejection;

/// The most a [`BodyBuffer`] reserves before bytes arrive, whatever length was declared:
/// 16 KiB. A forged `Content-Length` cannot make the receiver allocate the whole limit
/// up front; a real body larger than this grows the buffer as its chunks arrive.
pub const INITIAL_RESERVE: usize = 16 * 1024;

/// Accumulates a request body's chunks, refusing past the limit.
///
/// A body that arrives in one chunk (the common case) is kept as that chunk, without a
/// copy.
///
/// ```
/// use bytes::Bytes;
/// use quickassist_webhooks::{receive::BodyBuffer, rejection::Rejection};
///
/// let mut body = BodyBuffer::new(8, Some(1 << 30)); // reserves at most 16 KiB
/// body.push(Bytes::from_static(b"{\"a\":"))?;
/// assert_eq!(body.push(Bytes::from_static(b"1234}")), Err(Rejection::PayloadTooLarge));
/// # Ok::<_, Rejection>(())
/// ```
#[derive(Debug)]
pub struct BodyBuffer {
    limit: usize,
    reserve: usize,
    state: State,
}

#[derive(Debug)]
enum State {
    Empty,
    One(Bytes),
    Many(BytesMut),
}

impl BodyBuffer {
    /// A buffer refusing more than `limit` bytes, reserving at most [`INITIAL_RESERVE`] (or
    /// the declared length, when smaller) once a second chunk arrives.
    #[must_use]
    pub fn new(limit: usize, declared_length: Option<u64>) -> Self {
        let declared = declared_length.map_or(INITIAL_RESERVE, |len| {
            usize::try_from(len).unwrap_or(usize::MAX)
        });
        Self {
            limit,
            reserve: declared.min(INITIAL_RESERVE).min(limit),
            state: State::Empty,
        }
    }

    /// Bytes accumulated so far.
    #[must_use]
    pub fn len(&self) -> usize {
        match &self.state {
            State::Empty => 0,
            State::One(bytes) => bytes.len(),
            State::Many(bytes) => bytes.len(),
        }
    }

    /// Whether nothing was accumulated yet.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Adds a chunk.
    ///
    /// # Errors
    ///
    /// [`Rejection::PayloadTooLarge`] when the body would exceed the limit; nothing of the
    /// chunk is kept.
    pub fn push(&mut self, chunk: impl Buf) -> Result<(), Rejection> {
        let mut chunk = chunk;
        let incoming = chunk.remaining();
        if incoming > self.limit.saturating_sub(self.len()) {
            return Err(Rejection::PayloadTooLarge);
        }
        if incoming == 0 {
            return Ok(());
        }
        self.state = match std::mem::replace(&mut self.state, State::Empty) {
            State::Empty => State::One(chunk.copy_to_bytes(incoming)),
            State::One(first) => {
                let mut joined = BytesMut::with_capacity(self.reserve.max(first.len() + incoming));
                joined.extend_from_slice(&first);
                joined.put(chunk);
                State::Many(joined)
            }
            State::Many(mut joined) => {
                joined.put(chunk);
                State::Many(joined)
            }
        };
        Ok(())
    }

    /// The whole body.
    #[must_use]
    pub fn finish(self) -> Bytes {
        match self.state {
            State::Empty => Bytes::new(),
            State::One(bytes) => bytes,
            State::Many(bytes) => bytes.freeze(),
        }
    }
}

/// Reads `chunks` to their end into a [`BodyBuffer`], allowing at most `timeout` for each
/// chunk to arrive.
pub(super) async fn read_chunks<S, D, E>(
    mut buffer: BodyBuffer,
    chunks: S,
    timeout: Option<Duration>,
) -> Result<Bytes, BodyError>
where
    S: Stream<Item = Result<D, E>>,
    D: Buf,
    E: Display,
{
    let mut chunks = pin!(chunks);
    loop {
        let next = poll_fn(|cx| chunks.as_mut().poll_next(cx));
        let next = match timeout {
            Some(timeout) => tokio::time::timeout(timeout, next)
                .await
                .map_err(|_| BodyError::Stalled(timeout))?,
            None => next.await,
        };
        match next {
            None => return Ok(buffer.finish()),
            Some(Ok(chunk)) => buffer.push(chunk).map_err(|_| BodyError::TooLarge)?,
            Some(Err(error)) => return Err(BodyError::Read(error.to_string())),
        }
    }
}

/// Why a body could not be read, for the log line; the answer is its [`Rejection`].
#[derive(Debug)]
pub(super) enum BodyError {
    TooLarge,
    Stalled(Duration),
    Read(String),
}

impl std::fmt::Display for BodyError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::TooLarge => f.write_str("the body grew past the limit"),
            Self::Stalled(after) => write!(f, "the body stalled for more than {after:?}"),
            Self::Read(error) => write!(f, "the body could not be read: {error}"),
        }
    }
}

impl BodyError {
    pub(super) fn rejection(&self) -> Rejection {
        match self {
            Self::TooLarge => Rejection::PayloadTooLarge,
            Self::Stalled(_) => Rejection::BodyTimeout,
            Self::Read(_) => Rejection::BodyReadFailed,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_chunk_is_kept_without_a_copy() {
        let chunk = Bytes::from_static(b"{\"a\":1}");
        let mut body = BodyBuffer::new(1024, Some(7));
        body.push(chunk.clone()).unwrap();
        let whole = body.finish();
        assert_eq!(whole, chunk);
        assert_eq!(whole.as_ptr(), chunk.as_ptr());
    }

    #[test]
    fn chunks_are_joined_in_order() {
        let mut body = BodyBuffer::new(1024, None);
        for part in ["{\"a\"", ":", "1}"] {
            body.push(Bytes::from(part)).unwrap();
        }
        assert_eq!(body.len(), 7);
        assert_eq!(body.finish(), "{\"a\":1}");
    }

    #[test]
    fn a_huge_declared_length_reserves_only_the_initial_amount() {
        let mut body = BodyBuffer::new(usize::MAX, Some(u64::MAX));
        body.push(Bytes::from_static(b"a")).unwrap();
        body.push(Bytes::from_static(b"b")).unwrap();
        match &body.state {
            State::Many(bytes) => assert!(bytes.capacity() <= INITIAL_RESERVE),
            other => panic!("expected joined chunks, got {other:?}"),
        }
    }

    #[test]
    fn exactly_the_limit_is_accepted_and_one_more_byte_is_not() {
        let mut body = BodyBuffer::new(4, None);
        body.push(Bytes::from_static(b"ab")).unwrap();
        body.push(Bytes::from_static(b"cd")).unwrap();
        assert_eq!(
            body.push(Bytes::from_static(b"e")),
            Err(Rejection::PayloadTooLarge)
        );
        assert_eq!(body.finish(), "abcd");
    }
}
