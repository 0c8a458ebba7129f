//! A JSON Lines batch over HTTP: the request body is read as it comes, by
//! the library's stream engine ([`Records`], [`crate::stream::Decider`]),
//! and each answer is sent back in order as soon as it is made, so that
//! memory stays bounded by a few lines whatever the batch's length.
//! Answers are sent in blocks; a block goes out whenever the body has
//! nothing more yet, so a client that sends a line and waits gets its
//! answer.

use std::collections::BTreeMap;
use std::io::{self, BufReader, Read};
use std::sync::{Arc, Mutex};

use axum::body::{Body, Bytes};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse as _, Response};
use futures_util::StreamExt as _;
use tokio::sync::mpsc;

use super::State;
use super::catalog::Loaded;
use super::http::{ApiError, Ask, log_line, stamp};
use crate::stream::{Body as RecordBody, Records};

/// How many bytes of answers make a block.
const BLOCK: usize = 32 << 10;

/// Answers a batch: validates what can be known before the first line,
/// then streams.
pub fn respond(
    state: Arc<State>,
    loaded: Arc<Loaded>,
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
    pending: String,
    answers: mpsc::Sender<io::Result<Bytes>>,
    /// The client is gone.
    closed: bool,
}

impl Outbox {
    fn send(&mut self) {
        if self.pending.is_empty() || self.closed {
            return;
        }
        let block = Bytes::from(std::mem::take(&mut self.pending));
        self.closed = self.answers.blocking_send(Ok(block)).is_err();
    }
}

/// The body as a reader; before it waits for more of the body, it sends
/// the answers made so far.
struct BodyReader {
    chunks: mpsc::Receiver<io::Result<Bytes>>,
    chunk: Bytes,
    outbox: Arc<Mutex<Outbox>>,
}

impl Read for BodyReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.chunk.is_empty() {
            let next = match self.chunks.try_recv() {
                Ok(next) => Some(next),
                Err(mpsc::error::TryRecvError::Disconnected) => None,
                Err(mpsc::error::TryRecvError::Empty) => {
                    if let Ok(mut out) = self.outbox.lock() {
                        out.send();
                    }
                    self.chunks.blocking_recv()
                }
            };
            match next {
                None => return Ok(0),
                Some(chunk) => self.chunk = chunk?,
            }
        }
        let n = self.chunk.len().min(buf.len());
        buf[..n].copy_from_slice(&self.chunk[..n]);
        self.chunk = self.chunk.slice(n..);
        Ok(n)
    }
}

/// Decides every record of the body in order, on a thread that may block.
fn decide_all(
    state: &State,
    loaded: &Loaded,
    ask: &Ask,
    now: i64,
    chunks: mpsc::Receiver<io::Result<Bytes>>,
    answers: mpsc::Sender<io::Result<Bytes>>,
) {
    let outbox = Arc::new(Mutex::new(Outbox {
        pending: String::with_capacity(BLOCK + 4096),
        answers,
        closed: false,
    }));
    let reader = BodyReader {
        chunks,
        chunk: Bytes::new(),
        outbox: Arc::clone(&outbox),
    };
    let records = Records::new(
        BufReader::with_capacity(1 << 16, reader),
        state.config.max_line_bytes,
    );
    let mut outcomes: BTreeMap<String, u64> = BTreeMap::new();
    let _ = ask.with_decider(loaded, now, |decider| {
        for record in records {
            let record = match record {
                Ok(record) => record,
                Err(e) => {
                    let end = ApiError::new(
                        StatusCode::REQUEST_TIMEOUT,
                        "policy::serve::body",
                        e.to_string(),
                    );
                    if let Ok(mut out) = outbox.lock() {
                        out.pending.push_str(&end.body());
                        out.pending.push('\n');
                    }
                    break;
                }
            };
            let input = match &record.body {
                RecordBody::Bytes(b) if state.log.is_some() => {
                    Some(String::from_utf8_lossy(b).into_owned())
                }
                _ => None,
            };
            let mut seen = None;
            let answer = decider.answer_then(record, &mut stamp(loaded, &mut seen));
            if let Some(seen) = &seen {
                *outcomes.entry(seen.outcome.clone()).or_default() += 1;
                if let (Some(log), Some(input)) = (&state.log, &input) {
                    log.write_blocking(log_line(loaded, seen, input));
                }
            }
            let Ok(mut out) = outbox.lock() else { break };
            out.pending.push_str(&answer.text);
            if out.pending.len() >= BLOCK {
                out.send();
            }
            if out.closed {
                break;
            }
        }
    });
    // Counted before the last answers go, so that a client that has them
    // all sees them counted.
    let name = loaded.name();
    for (outcome, n) in outcomes {
        state.metrics.decided(name, &outcome, n);
    }
    if let Ok(mut out) = outbox.lock() {
        out.send();
    }
}
