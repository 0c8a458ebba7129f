//! Connections that are closed once they have been silent too long: no
//! byte read or written for `--idle-timeout`. A client that sends half a
//! request head and stops, or leaves a keep-alive connection unused, then
//! frees its connection; a watch stream is never silent that long, as it
//! sends a keep-alive comment every 15 s.

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

/// A listener whose connections close when idle. Each new connection is
/// read first by [`direct::sniff`], which serves a watch itself and hands
/// everything else back here, for hyper.
pub struct IdleListener {
    inner: TcpListener,
    state: Arc<State>,
    handed: mpsc::Receiver<(Idle, SocketAddr)>,
    hand: Handoff,
}

impl IdleListener {
    /// Listens on `inner` for `state`'s service.
    pub fn new(inner: TcpListener, state: Arc<State>) -> IdleListener {
        let (hand, handed) = mpsc::channel(256);
        IdleListener {
            inner,
            state,
            handed,
            hand,
        }
    }
}

impl axum::serve::Listener for IdleListener {
    type Io = Idle;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Idle, SocketAddr) {
        loop {
            tokio::select! {
                Some(handed) = self.handed.recv() => return handed,
                accepted = self.inner.accept() => match accepted {
                    Ok((stream, addr)) => {
                        let _ = stream.set_nodelay(true);
                        let io = Idle::new(stream, self.state.config.idle_timeout);
                        let (state, hand) = (Arc::clone(&self.state), self.hand.clone());
                        tokio::spawn(direct::sniff(state, io, addr, hand));
                    }
                    // Out of file descriptors, or a connection reset before
                    // it was taken: wait a little and take the next.
                    Err(_) => tokio::time::sleep(Duration::from_millis(20)).await,
                },
            }
        }
    }

    fn local_addr(&self) -> io::Result<SocketAddr> {
        self.inner.local_addr()
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
