//! Reading a request body within bounds: the size limit ([`BodyBuffer`]), the time allowed
//! ([`BodyLimits`]: between chunks, at a minimum rate, by a deadline) and the memory all
//! bodies share ([`BodyBudget`]).

use std::{fmt::Display, future::poll_fn, pin::pin, time::Duration};

use bytes::{Buf, BufMut, Bytes, BytesMut};
use futures_core::Stream;
use tokio::time::Instant;

use super::budget::{BodyBudget, BodyCharge};
use crate::rejection::Rejection;

/// The most a [`BodyBuffer`] reserves before bytes arrive, whatever length was declared:
/// 16 KiB. A forged `Content-Length` cannot make the receiver allocate the whole limit
/// up front; a real body larger than this grows the buffer as its chunks arrive.
pub(crate) const INITIAL_RESERVE: usize = 16 * 1024;

/// How long a request body may stall between two chunks by default: 10 seconds.
///
/// A sender that trickles its body slower than that (a stalled connection or a slowloris)
/// gets `408 {"error":"body_timeout"}` instead of holding a connection and a buffer open.
pub const DEFAULT_BODY_TIMEOUT: Duration = Duration::from_secs(10);

/// How long a whole request body may take to arrive by default: 20 seconds, however it
/// trickles.
pub const DEFAULT_BODY_DEADLINE: Duration = Duration::from_secs(20);

/// The slowest a body may arrive by default, once [`DEFAULT_BODY_RATE_GRACE`] has passed:
/// 1 KiB per second (Apache's `mod_reqtimeout` reasons the same way with `MinRate`).
pub const DEFAULT_MIN_BODY_RATE: u32 = 1024;

/// How long a body may take before the minimum rate applies, by default: 5 seconds.
pub const DEFAULT_BODY_RATE_GRACE: Duration = Duration::from_secs(5);

/// How a receiver bounds the bodies it reads: in time and in the memory they share.
#[derive(Clone, Debug)]
pub(super) struct BodyLimits {
    /// The longest a body may stall between two chunks.
    pub(super) stall: Option<Duration>,
    /// The longest a whole body may take.
    pub(super) deadline: Option<Duration>,
    /// Bytes per second after a grace period: a body of `n` bytes read so far must be
    /// complete by `grace + n / rate` (then `408`).
    pub(super) min_rate: Option<(u32, Duration)>,
    /// The memory all bodies being read share.
    pub(super) budget: BodyBudget,
}

impl BodyLimits {
    /// The defaults: [`DEFAULT_BODY_TIMEOUT`], [`DEFAULT_BODY_DEADLINE`],
    /// [`DEFAULT_MIN_BODY_RATE`] after [`DEFAULT_BODY_RATE_GRACE`], the process's budget.
    pub(super) fn new() -> Self {
        Self {
            stall: Some(DEFAULT_BODY_TIMEOUT),
            deadline: Some(DEFAULT_BODY_DEADLINE),
            min_rate: Some((DEFAULT_MIN_BODY_RATE, DEFAULT_BODY_RATE_GRACE)),
            budget: BodyBudget::process_default(),
        }
    }

    /// When a body begun at `start` with `received` bytes so far must be complete, by the
    /// deadline and the minimum rate (`None`: never).
    fn must_end_by(&self, start: Instant, received: usize) -> Option<(Instant, BodyError)> {
        let deadline = self
            .deadline
            .map(|deadline| (start + deadline, BodyError::Deadline(deadline)));
        let by_rate = self.min_rate.map(|(rate, grace)| {
            let earned = Duration::from_secs_f64(received as f64 / f64::from(rate.max(1)));
            (start + grace + earned, BodyError::TooSlow(rate))
        });
        match (deadline, by_rate) {
            (Some(a), Some(b)) => Some(if a.0 <= b.0 { a } else { b }),
            (a, b) => a.or(b),
        }
    }
}

/// Accumulates a request body's chunks, refusing past the limit.
///
/// A body that arrives in one chunk (the common case) is kept as that chunk, without a
/// copy.
///
#[derive(Debug)]
pub(crate) struct BodyBuffer {
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
    /// the declared length, when smaller) once a second chunk arrives; without a declared
    /// length it grows with the chunks, at most doubling.
    #[must_use]
    pub(crate) fn new(limit: usize, declared_length: Option<u64>) -> Self {
        let declared = declared_length.map_or(0, |len| usize::try_from(len).unwrap_or(usize::MAX));
        Self {
            limit,
            reserve: declared.min(INITIAL_RESERVE).min(limit),
            state: State::Empty,
        }
    }

    /// Bytes accumulated so far.
    #[must_use]
    pub(crate) fn len(&self) -> usize {
        match &self.state {
            State::Empty => 0,
            State::One(bytes) => bytes.len(),
            State::Many(bytes) => bytes.len(),
        }
    }

    /// The bytes the buffer will hold once a chunk of `incoming` bytes is added (at most
    /// twice what it received, and never more than the limit), to charge before adding it.
    #[must_use]
    pub(crate) fn held_after(&self, incoming: usize) -> usize {
        let needed = self.len().saturating_add(incoming);
        match &self.state {
            State::Empty => incoming,
            State::One(_) => needed.max(self.reserve),
            State::Many(bytes) if needed <= bytes.capacity() => bytes.capacity(),
            State::Many(bytes) => needed.max(bytes.capacity().saturating_mul(2).min(self.limit)),
        }
    }

    /// Adds a chunk.
    ///
    /// # Errors
    ///
    /// [`Rejection::PayloadTooLarge`] when the body would exceed the limit; nothing of the
    /// chunk is kept.
    pub(crate) fn push(&mut self, chunk: impl Buf) -> Result<(), Rejection> {
        let mut chunk = chunk;
        let incoming = chunk.remaining();
        if incoming > self.limit.saturating_sub(self.len()) {
            return Err(Rejection::PayloadTooLarge);
        }
        if incoming == 0 {
            return Ok(());
        }
        let capacity = self.held_after(incoming);
        self.state = match std::mem::replace(&mut self.state, State::Empty) {
            State::Empty => State::One(chunk.copy_to_bytes(incoming)),
            State::One(first) => {
                let mut joined = BytesMut::with_capacity(capacity);
                joined.extend_from_slice(&first);
                joined.put(chunk);
                State::Many(joined)
            }
            State::Many(joined) if joined.capacity() - joined.len() >= incoming => {
                let mut joined = joined;
                joined.put(chunk);
                State::Many(joined)
            }
            // Grown here, to exactly what was charged, rather than by `BytesMut`'s own rule.
            State::Many(old) => {
                let mut joined = BytesMut::with_capacity(capacity);
                joined.extend_from_slice(&old);
                joined.put(chunk);
                State::Many(joined)
            }
        };
        Ok(())
    }

    /// The whole body.
    #[must_use]
    pub(crate) fn finish(self) -> Bytes {
        match self.state {
            State::Empty => Bytes::new(),
            State::One(bytes) => bytes,
            State::Many(bytes) => bytes.freeze(),
        }
    }
}

/// Reads `chunks` to their end into a [`BodyBuffer`] within `limits`: each chunk within the
/// stall timeout, the whole body by the deadline and at the minimum rate, its memory taken
/// from the budget as it grows. The charge is returned with the body, to give back once the
/// body has been verified and parsed.
pub(super) async fn read_chunks<S, D, E>(
    mut buffer: BodyBuffer,
    chunks: S,
    limits: &BodyLimits,
) -> Result<(Bytes, BodyCharge), BodyError>
where
    S: Stream<Item = Result<D, E>>,
    D: Buf,
    E: Display,
{
    let mut chunks = pin!(chunks);
    let mut charge = limits.budget.charge();
    let start = Instant::now();
    loop {
        let stall = limits
            .stall
            .map(|stall| (Instant::now() + stall, BodyError::Stalled(stall)));
        let end = match (stall, limits.must_end_by(start, buffer.len())) {
            (Some(a), Some(b)) => Some(if a.0 <= b.0 { a } else { b }),
            (a, b) => a.or(b),
        };
        let next = poll_fn(|cx| chunks.as_mut().poll_next(cx));
        let next = match end {
            Some((at, error)) => tokio::time::timeout_at(at, next).await.map_err(|_| error)?,
            None => next.await,
        };
        match next {
            None => return Ok((buffer.finish(), charge)),
            Some(Ok(chunk)) => {
                let incoming = chunk.remaining();
                if incoming > buffer.limit.saturating_sub(buffer.len()) {
                    return Err(BodyError::TooLarge);
                }
                if !charge.grow_to(buffer.held_after(incoming)) {
                    return Err(BodyError::OverBudget);
                }
                buffer.push(chunk).map_err(|_| BodyError::TooLarge)?;
            }
            Some(Err(error)) => return Err(BodyError::Read(error.to_string())),
        }
    }
}

/// Why a body could not be read, for the log line; the answer is its [`Rejection`].
#[derive(Debug)]
pub(super) enum BodyError {
    TooLarge,
    OverBudget,
    Stalled(Duration),
    TooSlow(u32),
    Deadline(Duration),
    Read(String),
}

impl std::fmt::Display for BodyError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::TooLarge => f.write_str("the body grew past the limit"),
            Self::OverBudget => f.write_str("the memory for bodies in flight is used up"),
            Self::Stalled(after) => write!(f, "the body stalled for more than {after:?}"),
            Self::TooSlow(rate) => write!(f, "the body arrived slower than {rate} bytes/s"),
            Self::Deadline(after) => write!(f, "the body was not complete after {after:?}"),
            Self::Read(error) => write!(f, "the body could not be read: {error}"),
        }
    }
}

impl BodyError {
    pub(super) fn rejection(&self) -> Rejection {
        match self {
            Self::TooLarge => Rejection::PayloadTooLarge,
            Self::OverBudget => Rejection::Overloaded,
            Self::Stalled(_) | Self::TooSlow(_) | Self::Deadline(_) => Rejection::BodyTimeout,
            Self::Read(_) => Rejection::BodyReadFailed,
        }
    }
}

#[cfg(test)]
mod tests {

    #[test]
    fn a_huge_declared_length_reserves_little_and_the_limit_still_holds() {
        let mut body = BodyBuffer::new(8, Some(1 << 30));
        body.push(Bytes::from_static(b"{\"a\":")).unwrap();
        assert_eq!(
            body.push(Bytes::from_static(b"1234}")),
            Err(Rejection::PayloadTooLarge)
        );
    }

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
