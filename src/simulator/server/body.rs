//! Response bodies, including the deliberately broken ones faults need.

use bytes::Bytes;
use hyper::body::{Body, Frame, SizeHint};
use std::pin::Pin;
use std::task::{Context, Poll};

/// Chunk streamed by `Huge` (static, so a 64 MiB reply costs no memory).
static FILLER: [u8; 65_536] = [b' '; 65_536];

#[derive(Debug, thiserror::Error)]
#[error("simulated connection drop")]
pub struct Dropped;

pub enum SimBody {
    Full(Option<Bytes>),
    /// `total` bytes of filler, announced up front.
    Huge {
        remaining: u64,
        total: u64,
    },
    /// Announces `announced` bytes, sends `first`, then fails (hyper then
    /// closes the connection mid-body).
    Broken {
        first: Option<Bytes>,
        announced: u64,
    },
}

impl SimBody {
    pub fn empty() -> Self {
        SimBody::Full(None)
    }

    pub fn full(b: impl Into<Bytes>) -> Self {
        let b = b.into();
        if b.is_empty() {
            SimBody::Full(None)
        } else {
            SimBody::Full(Some(b))
        }
    }
}

impl Body for SimBody {
    type Data = Bytes;
    type Error = Dropped;

    fn poll_frame(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Dropped>>> {
        let this = self.get_mut();
        match this {
            SimBody::Full(b) => Poll::Ready(b.take().map(|b| Ok(Frame::data(b)))),
            SimBody::Huge { remaining, .. } => {
                if *remaining == 0 {
                    return Poll::Ready(None);
                }
                let n = (*remaining).min(FILLER.len() as u64) as usize;
                *remaining -= n as u64;
                Poll::Ready(Some(Ok(Frame::data(Bytes::from_static(&FILLER[..n])))))
            }
            SimBody::Broken { first, .. } => match first.take() {
                Some(b) => Poll::Ready(Some(Ok(Frame::data(b)))),
                None => Poll::Ready(Some(Err(Dropped))),
            },
        }
    }

    fn is_end_stream(&self) -> bool {
        match self {
            SimBody::Full(b) => b.is_none(),
            SimBody::Huge { remaining, .. } => *remaining == 0,
            SimBody::Broken { .. } => false,
        }
    }

    fn size_hint(&self) -> SizeHint {
        match self {
            SimBody::Full(b) => SizeHint::with_exact(b.as_ref().map_or(0, |b| b.len() as u64)),
            SimBody::Huge { total, .. } => SizeHint::with_exact(*total),
            SimBody::Broken { announced, .. } => SizeHint::with_exact(*announced),
        }
    }
}
