//! A listener that keeps at most `max` RPC connections open (CometBFT's
//! `max_open_connections`) and never lets idle ones lock clients out:
//!
//! - a connection that moves no byte for `idle_timeout` is closed (CometBFT's HTTP server
//!   closes on its 10 s read timeout);
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
    start: Instant,
    open: Vec<Weak<Activity>>,
}

impl LimitedListener {
    /// Wraps `inner`; `max` 0 means no limit; a connection quiet for `idle_timeout` closes.
    pub fn new(inner: TcpListener, max: usize, idle_timeout: Duration) -> Self {
        let max = if max == 0 {
            Semaphore::MAX_PERMITS
        } else {
            max.min(Semaphore::MAX_PERMITS)
        };
        LimitedListener {
            inner,
            slots: Arc::new(Semaphore::new(max)),
            idle_timeout,
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
                idle: Box::pin(tokio::time::sleep(self.idle_timeout)),
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
    idle: Pin<Box<tokio::time::Sleep>>,
    _slot: OwnedSemaphorePermit,
}

impl LimitedStream {
    fn touched(&mut self) {
        self.activity
            .last_ms
            .store(LimitedListener::now_ms(self.start), Ordering::Release);
        let deadline = tokio::time::Instant::now() + self.idle_timeout;
        self.idle.as_mut().reset(deadline);
    }

    /// Passes a write's outcome through, counting written bytes as activity.
    fn wrote(&mut self, polled: Poll<io::Result<usize>>) -> Poll<io::Result<usize>> {
        if let Poll::Ready(Ok(n)) = polled {
            if n > 0 {
                self.touched();
            }
        }
        polled
    }

    /// An error when the connection was evicted or stayed idle too long.
    fn closed(&mut self, cx: &mut Context<'_>) -> Option<io::Error> {
        if self.activity.evicted.load(Ordering::Acquire) {
            return Some(io::Error::new(
                io::ErrorKind::ConnectionAborted,
                "evicted: the RPC server is full and this connection was the quietest",
            ));
        }
        if self.idle.as_mut().poll(cx).is_ready() {
            return Some(io::Error::new(
                io::ErrorKind::TimedOut,
                "connection idle past the RPC idle timeout",
            ));
        }
        None
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
                    this.touched();
                }
                Poll::Ready(Ok(()))
            }
            Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
            Poll::Pending => {
                if let Ok(mut w) = this.activity.waker.lock() {
                    *w = Some(cx.waker().clone());
                }
                match this.closed(cx) {
                    Some(e) => Poll::Ready(Err(e)),
                    None => Poll::Pending,
                }
            }
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
        this.wrote(polled)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let polled = Pin::new(&mut this.stream).poll_write_vectored(cx, bufs);
        this.wrote(polled)
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
