//! A listener that keeps at most `max` RPC connections open (CometBFT's
//! `max_open_connections`) and never lets idle ones lock clients out:
//!
//! - a connection that moves no byte for `idle_timeout` is closed (CometBFT's HTTP server
//!   closes on its 10 s read timeout);
//! - a request must be answered (the first reply byte written) within `request_deadline` of its
//!   first byte, so a client trickling its headers or body a byte at a time cannot hold a
//!   connection (the header and request read timeout);
//! - when every slot is taken, a new client evicts the connection that has been quiet the
//!   longest (at least [`EVICTABLE_AFTER`]), so hundreds of idle or half-sent connections
//!   cannot keep a client waiting for their timeout. A connection busy moving bytes is never
//!   evicted; when none is quiet, the new client waits for a slot.

use std::future::Future as _;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// How long a connection must have been quiet before a new client may evict it.
pub const EVICTABLE_AFTER: Duration = Duration::from_millis(500);

/// What the listener and a connection share: when it last moved a byte, and the eviction flag.
struct Activity {
    /// Milliseconds since the listener started.
    last_ms: AtomicU64,
    evicted: AtomicBool,
    /// The reader's waker, so an eviction takes effect at once.
    waker: Mutex<Option<Waker>>,
}

/// A TCP listener with a bound on open connections and idle eviction.
pub struct LimitedListener {
    inner: TcpListener,
    slots: Arc<Semaphore>,
    idle_timeout: Duration,
    request_deadline: Duration,
    start: Instant,
    open: Vec<Weak<Activity>>,
}

impl LimitedListener {
    /// Wraps `inner`; `max` 0 means no limit; a connection quiet for `idle_timeout`, or one
    /// whose request is not answered within `request_deadline` of its first byte, closes.
    pub fn new(
        inner: TcpListener,
        max: usize,
        idle_timeout: Duration,
        request_deadline: Duration,
    ) -> Self {
        let max = if max == 0 {
            Semaphore::MAX_PERMITS
        } else {
            max.min(Semaphore::MAX_PERMITS)
        };
        LimitedListener {
            inner,
            slots: Arc::new(Semaphore::new(max)),
            idle_timeout,
            request_deadline,
            start: Instant::now(),
            open: Vec::new(),
        }
    }

    fn now_ms(start: Instant) -> u64 {
        u64::try_from(start.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    /// Evicts the connection quiet the longest (if quiet long enough); whether one was.
    fn evict_quietest(&mut self) -> bool {
        self.open.retain(|w| w.strong_count() > 0);
        let now = Self::now_ms(self.start);
        let limit = u64::try_from(EVICTABLE_AFTER.as_millis()).unwrap_or(u64::MAX);
        let quietest = self
            .open
            .iter()
            .filter_map(Weak::upgrade)
            .filter(|a| !a.evicted.load(Ordering::Acquire))
            .filter(|a| now.saturating_sub(a.last_ms.load(Ordering::Acquire)) >= limit)
            .min_by_key(|a| a.last_ms.load(Ordering::Acquire));
        let Some(a) = quietest else {
            return false;
        };
        a.evicted.store(true, Ordering::Release);
        if let Some(w) = a.waker.lock().ok().and_then(|mut w| w.take()) {
            w.wake();
        }
        true
    }
}

impl axum::serve::Listener for LimitedListener {
    type Io = LimitedStream;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (LimitedStream, SocketAddr) {
        let (stream, addr) = axum::serve::Listener::accept(&mut self.inner).await;
        let slot = loop {
            if let Ok(slot) = self.slots.clone().try_acquire_owned() {
                break slot;
            }
            if !self.evict_quietest() {
                // Every open connection is busy: wait for one to finish (or go quiet).
                tokio::select! {
                    Ok(slot) = self.slots.clone().acquire_owned() => break slot,
                    _ = tokio::time::sleep(EVICTABLE_AFTER) => continue,
                }
            }
            // The evicted connection releases its slot as soon as its task sees the error.
            match tokio::time::timeout(EVICTABLE_AFTER, self.slots.clone().acquire_owned()).await {
                Ok(Ok(slot)) => break slot,
                _ => continue,
            }
        };
        let activity = Arc::new(Activity {
            last_ms: AtomicU64::new(Self::now_ms(self.start)),
            evicted: AtomicBool::new(false),
            waker: Mutex::new(None),
        });
        // Closed connections leave only a dead weak reference: drop those, so the list stays
        // as long as the open connections.
        self.open.retain(|w| w.strong_count() > 0);
        self.open.push(Arc::downgrade(&activity));
        (
            LimitedStream {
                stream,
                activity,
                start: self.start,
                idle_timeout: self.idle_timeout,
                request_deadline: self.request_deadline,
                unanswered_since: None,
                deadline: Box::pin(tokio::time::sleep(self.idle_timeout)),
                _slot: slot,
            },
            addr,
        )
    }

    fn local_addr(&self) -> io::Result<SocketAddr> {
        self.inner.local_addr()
    }
}

/// An accepted connection; its slot frees when it is dropped.
pub struct LimitedStream {
    stream: TcpStream,
    activity: Arc<Activity>,
    start: Instant,
    idle_timeout: Duration,
    request_deadline: Duration,
    /// When the first byte not yet answered arrived.
    unanswered_since: Option<tokio::time::Instant>,
    /// The idle timeout, or the request deadline when that comes first.
    deadline: Pin<Box<tokio::time::Sleep>>,
    _slot: OwnedSemaphorePermit,
}

impl LimitedStream {
    /// Bytes moved: the connection is active; a read starts (or continues) a request that
    /// must be answered in time, a write answers it.
    fn moved(&mut self, wrote: bool) {
        self.activity
            .last_ms
            .store(LimitedListener::now_ms(self.start), Ordering::Release);
        let now = tokio::time::Instant::now();
        if wrote {
            self.unanswered_since = None;
        } else if self.unanswered_since.is_none() {
            self.unanswered_since = Some(now);
        }
        let idle = now + self.idle_timeout;
        let deadline = self
            .unanswered_since
            .map_or(idle, |since| idle.min(since + self.request_deadline));
        self.deadline.as_mut().reset(deadline);
    }

    /// Passes a write's outcome through: written bytes count as activity; a write that cannot
    /// proceed fails once the connection is evicted or past its deadline.
    fn wrote(
        &mut self,
        cx: &mut Context<'_>,
        polled: Poll<io::Result<usize>>,
    ) -> Poll<io::Result<usize>> {
        match polled {
            Poll::Ready(Ok(n)) if n > 0 => {
                self.moved(true);
                polled
            }
            Poll::Pending => self.pending(cx),
            other => other,
        }
    }

    /// A read or write that cannot proceed: pending, unless the connection was evicted or
    /// its deadline passed (then an error, which closes it).
    fn pending<T>(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<T>> {
        if let Ok(mut w) = self.activity.waker.lock() {
            *w = Some(cx.waker().clone());
        }
        if self.activity.evicted.load(Ordering::Acquire) {
            return Poll::Ready(Err(io::Error::new(
                io::ErrorKind::ConnectionAborted,
                "evicted: the RPC server is full and this connection was the quietest",
            )));
        }
        if self.deadline.as_mut().poll(cx).is_ready() {
            return Poll::Ready(Err(io::Error::new(
                io::ErrorKind::TimedOut,
                "connection idle past the RPC idle timeout, or a request not answered in time",
            )));
        }
        Poll::Pending
    }
}

impl AsyncRead for LimitedStream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        match Pin::new(&mut this.stream).poll_read(cx, buf) {
            Poll::Ready(Ok(())) => {
                if buf.filled().len() > before {
                    this.moved(false);
                }
                Poll::Ready(Ok(()))
            }
            Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
            Poll::Pending => this.pending(cx),
        }
    }
}

impl AsyncWrite for LimitedStream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let polled = Pin::new(&mut this.stream).poll_write(cx, buf);
        this.wrote(cx, polled)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let polled = Pin::new(&mut this.stream).poll_write_vectored(cx, bufs);
        this.wrote(cx, polled)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_shutdown(cx)
    }
}
