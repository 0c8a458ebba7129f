//! Connections that are closed once they have been silent too long: no
//! byte read or written for `--idle-timeout`. A client that sends half a
//! request head and stops, or leaves a keep-alive connection unused, then
//! frees its connection; a watch stream is never silent that long, as it
//! sends a keep-alive comment every 15 s.
//!
//! One task accepts the connections and hands each to one of the
//! service's threads, which serves it alone ([`accept_all`]).

use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio::time::{Instant, Sleep};

use super::State;
use super::direct::{self, Handoff};

/// A listener whose connections close when idle: one of the service's
/// threads, taking the connections [`accept_all`] hands it. Each new
/// connection is read first by [`direct::sniff`], which serves a watch
/// itself and hands everything else back here, for hyper.
pub struct IdleListener {
    /// The connections accepted for this thread, not yet taken.
    source: Option<mpsc::Receiver<std::net::TcpStream>>,
    /// Where the service listens.
    addr: SocketAddr,
    state: Arc<State>,
    handed: mpsc::Receiver<(Idle, SocketAddr)>,
    hand: Handoff,
}

impl IdleListener {
    /// Takes the connections of `source`, accepted on `addr`, for
    /// `state`'s service.
    pub fn new(
        source: mpsc::Receiver<std::net::TcpStream>,
        addr: SocketAddr,
        state: Arc<State>,
    ) -> IdleListener {
        let (hand, handed) = mpsc::channel(256);
        IdleListener {
            source: Some(source),
            addr,
            state,
            handed,
            hand,
        }
    }

    /// Starts serving a connection accepted for this thread: registered
    /// with this thread's runtime, then sniffed. `false` if it could not
    /// be (it is closed).
    fn start(&self, stream: std::net::TcpStream) -> bool {
        let Ok(stream) = stream
            .set_nonblocking(true)
            .and_then(|()| TcpStream::from_std(stream))
        else {
            return false;
        };
        let Ok(addr) = stream.peer_addr() else {
            return false;
        };
        let io = Idle::new(stream, self.state.config.idle_timeout);
        let (state, hand) = (Arc::clone(&self.state), self.hand.clone());
        tokio::spawn(direct::sniff(state, io, addr, hand));
        true
    }
}

impl axum::serve::Listener for IdleListener {
    type Io = Idle;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Idle, SocketAddr) {
        loop {
            let accepted = async {
                match &mut self.source {
                    Some(source) => source.recv().await,
                    // No more connections come: only those handed back.
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                Some(handed) = self.handed.recv() => return handed,
                accepted = accepted => match accepted {
                    Some(stream) => {
                        self.start(stream);
                    }
                    None => self.source = None,
                },
            }
        }
    }

    fn local_addr(&self) -> io::Result<SocketAddr> {
        Ok(self.addr)
    }
}

/// Accepts every connection of `listener` until the service stops, and
/// hands each to one of the service's threads (`threads`, each taking
/// them in its [`IdleListener`]) in turn, so that a connection is served
/// on one thread from its first byte to its last: nothing is handed from
/// thread to thread as a request is read, decided and answered. A thread
/// whose queue is full is passed over for the next.
pub async fn accept_all(
    listener: TcpListener,
    threads: Vec<mpsc::Sender<std::net::TcpStream>>,
    state: Arc<State>,
) {
    let mut stopping = state.stopping();
    let mut next = 0;
    if threads.is_empty() {
        return;
    }
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            _ = stopping.wait_for(|s| *s) => return,
        };
        let stream = match accepted {
            Ok((stream, _)) => stream,
            // Out of file descriptors, or a connection reset before
            // it was taken: wait a little and take the next.
            Err(_) => {
                tokio::time::sleep(Duration::from_millis(20)).await;
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        let Ok(stream) = stream.into_std() else {
            continue;
        };
        // The next thread whose queue has room; if none has, the next
        // one in turn, once it has.
        let n = threads.len();
        let mut left = Some(stream);
        for i in 0..n {
            let (Some(to), Some(stream)) = (threads.get((next + i) % n), left.take()) else {
                break;
            };
            match to.try_send(stream) {
                Ok(()) => {
                    next = (next + i + 1) % n;
                    break;
                }
                Err(
                    mpsc::error::TrySendError::Full(back) | mpsc::error::TrySendError::Closed(back),
                ) => left = Some(back),
            }
        }
        if let (Some(stream), Some(to)) = (left, threads.get(next)) {
            next = (next + 1) % n;
            // A thread that has stopped: the connection is closed.
            let _ = to.send(stream).await;
        }
    }
}

/// A connection with a deadline that each byte moves on, and the bytes
/// already read of it that are read again first ([`Idle::rewound`]).
pub struct Idle {
    stream: TcpStream,
    idle: Duration,
    deadline: Pin<Box<Sleep>>,
    again: Vec<u8>,
    at: usize,
}

impl Idle {
    pub(super) fn new(stream: TcpStream, idle: Duration) -> Idle {
        Idle {
            stream,
            idle,
            deadline: Box::pin(tokio::time::sleep(idle)),
            again: Vec::new(),
            at: 0,
        }
    }

    /// The same connection, `read` (the bytes last read of it) to be read
    /// again before the rest.
    pub fn rewound(self, read: Vec<u8>) -> Idle {
        Idle {
            again: read,
            at: 0,
            ..self
        }
    }

    /// Moves the deadline on after activity.
    fn active(&mut self) {
        let next = Instant::now() + self.idle;
        self.deadline.as_mut().reset(next);
    }

    /// An error once the deadline has passed; registers for it otherwise.
    fn expired(&mut self, cx: &mut Context<'_>) -> Option<io::Error> {
        self.deadline
            .as_mut()
            .poll(cx)
            .is_ready()
            .then(|| io::Error::new(io::ErrorKind::TimedOut, "the connection was idle too long"))
    }
}

impl Idle {
    /// A write by `write`: activity if it wrote, an error if it waits past
    /// the deadline.
    fn written(
        &mut self,
        cx: &mut Context<'_>,
        write: impl FnOnce(&mut TcpStream, &mut Context<'_>) -> Poll<io::Result<usize>>,
    ) -> Poll<io::Result<usize>> {
        match write(&mut self.stream, cx) {
            Poll::Ready(done) => {
                if done.as_ref().is_ok_and(|n| *n > 0) {
                    self.active();
                }
                Poll::Ready(done)
            }
            Poll::Pending => match self.expired(cx) {
                Some(e) => Poll::Ready(Err(e)),
                None => Poll::Pending,
            },
        }
    }
}

impl AsyncRead for Idle {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if this.at < this.again.len() {
            let n = buf.remaining().min(this.again.len() - this.at);
            buf.put_slice(&this.again[this.at..this.at + n]);
            this.at += n;
            if this.at == this.again.len() {
                (this.again, this.at) = (Vec::new(), 0);
            }
            return Poll::Ready(Ok(()));
        }
        let before = buf.filled().len();
        match Pin::new(&mut this.stream).poll_read(cx, buf) {
            Poll::Ready(done) => {
                if buf.filled().len() > before {
                    this.active();
                }
                Poll::Ready(done)
            }
            Poll::Pending => match this.expired(cx) {
                Some(e) => Poll::Ready(Err(e)),
                None => Poll::Pending,
            },
        }
    }
}

impl AsyncWrite for Idle {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.get_mut()
            .written(cx, |stream, cx| Pin::new(stream).poll_write(cx, buf))
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        self.get_mut().written(cx, |stream, cx| {
            Pin::new(stream).poll_write_vectored(cx, bufs)
        })
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
