//! A JSON Lines batch over HTTP: the request body is read as it comes, by
//! the library's stream engine ([`crate::stream::run`], on `--threads`
//! threads, with a hook that stamps and logs each decision), and the
//! answers are sent back in order as they are made, so that memory stays
//! bounded by a few batches of lines whatever the batch's length.
//! Answers are sent in blocks: a block goes out when it is full, or once
//! the body has had nothing more for [`DRY`] (so a client that sends a
//! line and waits gets its answer within about that); the body is read
//! in the chunks hyper gives, without copying them into a buffer of its
//! own.

use std::io::{self, BufRead, Read, Write};
use std::num::NonZeroUsize;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Wake, Waker};
use std::time::{Duration, Instant};

use axum::body::{Body, Bytes};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse as _, Response};
use futures_util::StreamExt as _;
use tokio::sync::mpsc;

use super::State;
use super::catalog::Serving;
use super::http::{ApiError, Ask, Decided, log_line, write_stamp};
use crate::Decision;
use crate::stream::{Options, StreamError};

/// How many bytes of answers make a block.
const BLOCK: usize = 64 << 10;

/// How long the body may have nothing more before the answers made so
/// far are sent: a client that sends a line and waits gets its answer
/// about this late, and one that sends as fast as it can, whose chunks
/// come within it, gets its answers in full blocks.
const DRY: Duration = Duration::from_millis(1);

/// Answers a batch: validates what can be known before the first line,
/// then streams.
pub fn respond(
    state: Arc<State>,
    loaded: Serving,
    ask: Ask,
    now: i64,
    body: Body,
) -> Result<Response, ApiError> {
    ask.with_decider(&loaded, now, |_| ())?;
    let (chunks, from_body) = mpsc::channel::<io::Result<Bytes>>(8);
    let (answers, to_client) = mpsc::channel::<io::Result<Bytes>>(8);
    let idle = state.config.read_timeout;
    tokio::spawn(async move {
        let mut stream = body.into_data_stream();
        loop {
            let next = match tokio::time::timeout(idle, stream.next()).await {
                Err(_) => Some(Err(io::Error::new(
                    io::ErrorKind::TimedOut,
                    format!(
                        "the body sent nothing for {} s; the rest is not read",
                        idle.as_secs_f64()
                    ),
                ))),
                Ok(next) => next.map(|r| r.map_err(io::Error::other)),
            };
            let Some(next) = next else { break };
            let failed = next.is_err();
            if chunks.send(next).await.is_err() || failed {
                break;
            }
        }
    });
    tokio::task::spawn_blocking(move || decide_all(&state, &loaded, &ask, now, from_body, answers));
    let stream = futures_util::stream::unfold(to_client, |mut rx| async move {
        rx.recv().await.map(|item| (item, rx))
    });
    Ok((
        StatusCode::OK,
        [(header::CONTENT_TYPE, "application/x-ndjson")],
        Body::from_stream(stream),
    )
        .into_response())
}

/// The answers not yet sent, and where they go.
struct Outbox {
    pending: Vec<u8>,
    answers: mpsc::Sender<io::Result<Bytes>>,
    /// The client is gone.
    closed: bool,
}

impl Outbox {
    fn send(&mut self) {
        if self.pending.is_empty() || self.closed {
            return;
        }
        let next = Vec::with_capacity(BLOCK + 4096);
        let block = Bytes::from(std::mem::replace(&mut self.pending, next));
        self.closed = self.answers.blocking_send(Ok(block)).is_err();
    }
}

/// The answers' side, shared by the reader (which sends what is made
/// before it waits for more of the body) and the writer of the answers.
#[derive(Clone)]
struct Shared {
    outbox: Arc<Mutex<Outbox>>,
    /// The reader waits for more of the body: each answer written meanwhile
    /// goes out at once.
    waiting: Arc<AtomicBool>,
}

impl Shared {
    /// Sends what is made, always (`force`) or when it makes a block or
    /// the reader waits.
    fn send(&self, force: bool) {
        if let Ok(mut out) = self.outbox.lock()
            && (force || out.pending.len() >= BLOCK || self.waiting.load(Ordering::SeqCst))
        {
            out.send();
        }
    }
}

/// Where [`crate::stream::run`] writes the answers, in order.
struct Answers(Shared);

impl Write for Answers {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let Ok(mut out) = self.0.outbox.lock() else {
            return Err(io::Error::other("the answers are lost"));
        };
        if out.closed {
            return Err(io::Error::new(
                io::ErrorKind::BrokenPipe,
                "the client is gone",
            ));
        }
        out.pending.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.0.send(false);
        Ok(())
    }
}

/// The body as a reader, chunk by chunk as hyper gives them (no copy
/// into a buffer of its own). When the body has nothing more, it waits up
/// to [`DRY`] for the next chunk, then sends the answers made so far
/// before it waits on.
struct BodyReader {
    chunks: mpsc::Receiver<io::Result<Bytes>>,
    chunk: Bytes,
    /// A read error, given once the chunks before it are read.
    failed: Option<io::Error>,
    /// The body has ended (or failed).
    ended: bool,
    shared: Shared,
}

impl BodyReader {
    /// The next chunk, waiting for it as the module says; `None` at the
    /// body's end.
    fn next(&mut self) -> Option<io::Result<Bytes>> {
        match self.chunks.try_recv() {
            Ok(next) => return Some(next),
            Err(mpsc::error::TryRecvError::Disconnected) => return None,
            Err(mpsc::error::TryRecvError::Empty) => {}
        }
        if let Some(next) = recv_until(&mut self.chunks, Some(Instant::now() + DRY)) {
            return next;
        }
        // Waiting first, then sending: an answer written in between goes
        // out with the writer's own flush.
        self.shared.waiting.store(true, Ordering::SeqCst);
        self.shared.send(true);
        let next = recv_until(&mut self.chunks, None).flatten();
        self.shared.waiting.store(false, Ordering::SeqCst);
        next
    }
}

impl BufRead for BodyReader {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        while self.chunk.is_empty() && !self.ended {
            match self.next() {
                None => self.ended = true,
                Some(Ok(chunk)) => self.chunk = chunk,
                Some(Err(e)) => {
                    self.ended = true;
                    self.failed = Some(e);
                }
            }
        }
        if self.chunk.is_empty()
            && let Some(e) = self.failed.take()
        {
            return Err(e);
        }
        Ok(&self.chunk[..])
    }

    fn consume(&mut self, n: usize) {
        let n = n.min(self.chunk.len());
        let _ = self.chunk.split_to(n);
    }
}

impl Read for BodyReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let chunk = self.fill_buf()?;
        let n = chunk.len().min(buf.len());
        buf[..n].copy_from_slice(&chunk[..n]);
        self.consume(n);
        Ok(n)
    }
}

/// Wakes the thread that waits in [`recv_until`].
struct Unpark(std::thread::Thread);

impl Wake for Unpark {
    fn wake(self: Arc<Self>) {
        self.0.unpark();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.0.unpark();
    }
}

/// The next item of `chunks` (`Some(None)` at their end), waiting on this
/// thread until `deadline` if one is given (then `None` if nothing came).
fn recv_until<T>(chunks: &mut mpsc::Receiver<T>, deadline: Option<Instant>) -> Option<Option<T>> {
    let waker = Waker::from(Arc::new(Unpark(std::thread::current())));
    let mut cx = Context::from_waker(&waker);
    loop {
        if let Poll::Ready(next) = chunks.poll_recv(&mut cx) {
            return Some(next);
        }
        match deadline {
            None => std::thread::park(),
            Some(at) => {
                let now = Instant::now();
                if now >= at {
                    return None;
                }
                std::thread::park_timeout(at - now);
            }
        }
    }
}

/// Decides every record of the body in order, by the stream engine on
/// `--threads` threads, on a thread that may block.
fn decide_all(
    state: &State,
    loaded: &Serving,
    ask: &Ask,
    now: i64,
    chunks: mpsc::Receiver<io::Result<Bytes>>,
    answers: mpsc::Sender<io::Result<Bytes>>,
) {
    let shared = Shared {
        outbox: Arc::new(Mutex::new(Outbox {
            pending: Vec::with_capacity(BLOCK + 4096),
            answers,
            closed: false,
        })),
        waiting: Arc::new(AtomicBool::new(false)),
    };
    let reader = BodyReader {
        chunks,
        chunk: Bytes::new(),
        failed: None,
        ended: false,
        shared: shared.clone(),
    };
    let name = loaded.name();
    let stamp_and_log = |decision: &Decision<'_>, input: &str, out: &mut String| {
        let id = write_stamp(loaded, out);
        state.metrics.decided(name, decision.outcome, 1);
        if let Some(log) = &state.log {
            log.write_blocking(log_line(loaded, &Decided::of(decision, id), input));
        }
    };
    let options = Options {
        max_line_bytes: state.config.max_line_bytes,
        flush_each: true,
        jobs: NonZeroUsize::new(state.config.threads).unwrap_or(NonZeroUsize::MIN),
    };
    let _ = ask.with_decider(loaded, now, |decider| {
        let decider = decider.with_hook(&stamp_and_log);
        let done = crate::stream::run(&decider, reader, Answers(shared.clone()), options, |_| {});
        if let Err(StreamError::Read(e)) = done {
            let end = ApiError::new(
                StatusCode::REQUEST_TIMEOUT,
                "policy::serve::body",
                e.to_string(),
            );
            if let Ok(mut out) = shared.outbox.lock() {
                out.pending.extend_from_slice(end.body().as_bytes());
                out.pending.push(b'\n');
            }
        }
    });
    shared.send(true);
}
