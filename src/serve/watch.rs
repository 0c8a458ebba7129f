//! Pushed decisions: `POST /v1/policies/{name}/watch` answers a stream of
//! server-sent events, the decision now and then a new one each time it
//! changes: at its `next_change` instant (a timer on the service's clock),
//! when the facts change, or when a new version of the policy takes
//! effect. SIGTERM ends each stream with a last event.
//!
//! A stream is its response body and nothing else: no task and no channel
//! of its own. The connection's task polls it, and it waits on its timers
//! and on the service's signals only while polled. Between events it
//! keeps the person's record, the verdict it last sent (to send only
//! changes) and the instant of its next change; the decision after that
//! instant is made a little before it ([`super::clock::Clock::ahead`]) and kept only
//! until sent, so that the streams changing at one instant (a version
//! taking effect at midnight) have their decisions ready and are all told
//! at once.

use std::convert::Infallible;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use axum::body::Body;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State as Shared};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse as _, Response};
use futures_util::{Stream, StreamExt as _};
use tokio::sync::watch as signal;

use super::State;
use super::catalog::Serving;
use super::http::{ApiError, Ask, Decided, in_force, log_line, read_body, stamp};
use crate::DataError;
use crate::decision::NextChange;

/// One decision of a watched person.
struct Pushed {
    /// The decision's JSON.
    text: String,
    /// What the person is told: outcome, payload and deciding rule; a new
    /// event is sent when it differs.
    key: Box<str>,
    /// When it changes with no new data.
    next_at: Option<i64>,
    /// At `next_at` the policy ends: no version is in force after it.
    ends: bool,
    /// The instant it was made at: the next is never made earlier, so a
    /// stream never goes back to a decision it has left.
    now: i64,
    decided: Option<Decided>,
}

/// What a stream keeps of the decision it last sent.
struct Sent {
    key: Box<str>,
    next_at: Option<i64>,
    ends: bool,
    now: i64,
}

/// Decides `input` at `now` under `loaded`, with `next_change`.
fn decide(loaded: &Serving, ask: &Ask, now: i64, input: &str) -> Result<Pushed, ApiError> {
    let mut seen = None;
    let mut key = String::new();
    let mut next_at = None;
    let mut ends = false;
    let text = ask.with_decider(loaded, now, |decider| {
        let mut stamp = stamp(loaded, &mut seen);
        decider.decide_then(input, &mut |decision, out| {
            stamp(decision, out);
            key = format!(
                "{}|{:?}|{:?}",
                decision.outcome,
                decision.deciding_rule(),
                decision.payload
            );
            match decision.next_change {
                NextChange::At { at, .. } => next_at = Some(at),
                NextChange::Ends { at } => (next_at, ends) = (Some(at), true),
                NextChange::Never | NextChange::NotAsked => {}
            }
        })
    })?;
    let mut text = text.map_err(|e: DataError| ApiError::data(loaded, &e))?;
    text.truncate(text.trim_end().len());
    Ok(Pushed {
        text,
        key: key.into_boxed_str(),
        // A change not after the decision's instant is no change to wait for.
        next_at: next_at.filter(|at| *at > now),
        ends,
        decided: seen,
        now,
    })
}

/// Counts an open stream while it lives.
struct Open(Arc<State>);

impl Drop for Open {
    fn drop(&mut self) {
        self.0.metrics.watch_streams.fetch_sub(1, Ordering::Relaxed);
    }
}

/// `POST /v1/policies/{name}/watch`, as hyper hands it over: a watch
/// sent as the first request of its connection with a `Content-Length`
/// is served by [`super::direct`] instead, with the same answers.
pub async fn watch(
    Shared(state): Shared<Arc<State>>,
    Path(name): Path<String>,
    query: Result<Query<Ask>, QueryRejection>,
    body: Body,
) -> Response {
    let started = Instant::now();
    let response = match open(&state, name, query, body).await {
        Ok(r) => r,
        Err(e) => e.into_response(),
    };
    state
        .metrics
        .request("watch", response.status().as_u16(), started.elapsed());
    response
}

/// Numbers the streams, to spread the instants at which they work out
/// their next decisions.
static OPENED: AtomicU64 = AtomicU64::new(0);

async fn open(
    state: &Arc<State>,
    name: String,
    query: Result<Query<Ask>, QueryRejection>,
    body: Body,
) -> Result<Response, ApiError> {
    let (ask, loaded) = prepare(state, &name, query)?;
    let config = &state.config;
    let bytes = read_body(body, config.max_body_bytes, config.read_timeout).await?;
    let follow = begin(state, name, ask, loaded, bytes)?;
    let stream = messages(follow).map(|m| Ok::<Event, Infallible>(m.event()));
    Ok(Sse::new(stream)
        .keep_alive(KeepAlive::default())
        .into_response())
}

/// What a watch asks, and the version in force that answers it: the
/// errors that come before the body is read.
pub fn prepare(
    state: &State,
    name: &str,
    query: Result<Query<Ask>, QueryRejection>,
) -> Result<(Ask, Serving), ApiError> {
    let mut ask = Ask::of(query)?;
    ask.next_change = Some(true);
    if ask.now.is_some() {
        return Err(ApiError::new(
            axum::http::StatusCode::BAD_REQUEST,
            "policy::serve::query",
            "a watch follows the service's clock, so it takes no `now`",
        )
        .help("leave `now` out"));
    }
    let loaded = in_force(state, &state.catalog(), name, state.clock.now())?;
    Ok((ask, loaded))
}

/// The stream of a watch whose body is `bytes`, its first decision made.
pub fn begin(
    state: &Arc<State>,
    name: String,
    ask: Ask,
    loaded: Serving,
    bytes: Vec<u8>,
) -> Result<Follow, ApiError> {
    let input = String::from_utf8(bytes).map_err(|_| {
        ApiError::data(
            &loaded,
            &DataError {
                message: "the body is not valid UTF-8".into(),
                line: None,
                column: None,
            },
        )
    })?;
    let first = decide(&loaded, &ask, state.clock.now(), &input)?;
    state.metrics.watch_streams.fetch_add(1, Ordering::Relaxed);
    let mut changes = state.changes.subscribe();
    changes.mark_unchanged();
    Ok(Follow {
        stopping: state.stopping(),
        changes,
        open: Open(Arc::clone(state)),
        name: name.into_boxed_str(),
        ask,
        input: input.into_boxed_str(),
        loaded,
        sent: Sent {
            key: Box::from(""),
            next_at: None,
            ends: false,
            now: first.now,
        },
        pending: Some(("initial", Ok(first))),
        upcoming: None,
        seq: OPENED.fetch_add(1, Ordering::Relaxed),
        done: false,
    })
}

/// The events of a stream, until its last.
pub fn messages(follow: Follow) -> impl Stream<Item = Message> + Send {
    futures_util::stream::unfold(follow, |mut follow| async move {
        let message = follow.next().await?;
        Some((message, follow))
    })
}

/// One server-sent event: its name and its data (one line of JSON).
pub struct Message {
    kind: &'static str,
    data: String,
}

impl Message {
    /// The event as axum sends it.
    fn event(self) -> Event {
        Event::default().event(self.kind).data(self.data)
    }

    /// The event's bytes, as [`Message::event`] gives them.
    pub fn write(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(b"event: ");
        out.extend_from_slice(self.kind.as_bytes());
        out.push(b'\n');
        for line in self.data.split('\n') {
            out.extend_from_slice(b"data: ");
            out.extend_from_slice(line.as_bytes());
            out.push(b'\n');
        }
        out.push(b'\n');
    }
}

/// The comment axum's keep-alive sends (`KeepAlive::default()`), and how
/// often.
pub const KEEP_ALIVE: (&[u8], std::time::Duration) = (b":\n\n", std::time::Duration::from_secs(15));

/// The event for one decision, sent for `reason`.
fn event(reason: &str, decision: &str) -> Message {
    Message {
        kind: "decision",
        data: format!("{{\"reason\":\"{reason}\",\"decision\":{decision}}}"),
    }
}

/// The last event of a stream.
fn end(reason: &str) -> Message {
    Message {
        kind: "end",
        data: format!("{{\"reason\":\"{reason}\"}}"),
    }
}

/// One watched person, followed until the client goes (the body is
/// dropped), the policy goes or the service stops.
pub struct Follow {
    open: Open,
    name: Box<str>,
    ask: Ask,
    input: Box<str>,
    loaded: Serving,
    changes: signal::Receiver<u64>,
    stopping: signal::Receiver<bool>,
    /// The decision last sent.
    sent: Sent,
    /// A decision to send before waiting again, and why.
    pending: Option<(&'static str, Result<Pushed, ApiError>)>,
    /// The decision just after `sent.next_at`, made ahead of the instant.
    upcoming: Option<Pushed>,
    /// This stream's number.
    seq: u64,
    /// The last event has been sent.
    done: bool,
}

impl Follow {
    /// The next event: the next decision that differs from the one sent,
    /// or the last event.
    async fn next(&mut self) -> Option<Message> {
        if self.done {
            return None;
        }
        loop {
            let (reason, pushed) = match self.pending.take() {
                Some(p) => p,
                None => match self.wait().await {
                    Ok(p) => p,
                    Err(last) => {
                        self.done = true;
                        return last;
                    }
                },
            };
            let pushed = match pushed {
                Ok(p) => p,
                Err(e) => {
                    self.done = true;
                    return Some(Message {
                        kind: "error",
                        data: e.body(),
                    });
                }
            };
            let changed = *pushed.key != *self.sent.key;
            self.sent = Sent {
                key: pushed.key,
                next_at: pushed.next_at,
                ends: pushed.ends,
                now: pushed.now,
            };
            if !changed {
                continue;
            }
            let state = &self.open.0;
            if let (Some(log), Some(decided)) = (&state.log, &pushed.decided) {
                log.write(log_line(&self.loaded, decided, &self.input))
                    .await;
            }
            return Some(event(reason, &pushed.text));
        }
    }

    /// Waits for the next thing that may change the decision, and makes
    /// the decision after it; `Err` with the last event (if any) when the
    /// stream ends.
    async fn wait(&mut self) -> Result<(&'static str, Result<Pushed, ApiError>), Option<Message>> {
        let state = Arc::clone(&self.open.0);
        let clock = &state.clock;
        loop {
            let next_at = self.sent.next_at;
            let version_at = (state.catalog().policies.get(&*self.name))
                .and_then(|v| v.next_after(self.sent.now))
                // A later version takes effect before the decision's own
                // change, or with it: the new rules decide from that
                // instant.
                .filter(|v| next_at.is_none_or(|n| *v <= n));
            let ahead = next_at
                .filter(|_| self.upcoming.is_none() && version_at.is_none() && !self.sent.ends)
                .map(|at| clock.ahead(at, self.seq));
            tokio::select! {
                biased;
                _ = async { self.stopping.wait_for(|s| *s).await.is_ok() } => {
                    return Err(Some(end("shutdown")));
                }
                changed = self.changes.changed() => {
                    if changed.is_err() {
                        return Err(None);
                    }
                    let now = clock.now().max(self.sent.now);
                    let Some(next) = state.policy(&self.name, now) else {
                        return Err(Some(end("removed")));
                    };
                    let reason = if next.revision != self.loaded.revision {
                        "policy"
                    } else if next.facts_revision != self.loaded.facts_revision {
                        "facts"
                    } else {
                        continue;
                    };
                    self.loaded = next;
                    self.upcoming = None;
                    return Ok((reason, decide(&self.loaded, &self.ask, now, &self.input)));
                }
                () = clock.sleep_until(version_at) => {
                    let now = version_at.unwrap_or_default().max(self.sent.now);
                    let Some(next) = state.policy(&self.name, now) else {
                        return Err(Some(end("removed")));
                    };
                    self.loaded = next;
                    self.upcoming = None;
                    return Ok(("version", decide(&self.loaded, &self.ask, now, &self.input)));
                }
                () = clock.sleep_until(ahead) => {
                    // The decision just after the instant, ready for it;
                    // one that cannot be made is made (and its error
                    // sent) at the instant. The others due now go first.
                    tokio::task::yield_now().await;
                    let at = next_at.unwrap_or_default().saturating_add(1).max(self.sent.now);
                    self.upcoming = decide(&self.loaded, &self.ask, at, &self.input).ok();
                }
                () = clock.sleep_until(next_at) => {
                    if self.sent.ends {
                        return Err(Some(end("ended")));
                    }
                    let pushed = match self.upcoming.take() {
                        Some(p) => Ok(p),
                        None => {
                            let at = next_at.unwrap_or_default().saturating_add(1);
                            let now = clock.now().max(at).max(self.sent.now);
                            decide(&self.loaded, &self.ask, now, &self.input)
                        }
                    };
                    return Ok(("next_change", pushed));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_message_is_written_as_axum_writes_its_event() {
        let messages = [
            event("initial", "{\"outcome\":\"green\"}"),
            end("shutdown"),
            Message {
                kind: "error",
                data: "two\nlines".into(),
            },
        ];
        let mut ours = Vec::new();
        for m in &messages {
            m.write(&mut ours);
        }
        ours.extend_from_slice(KEEP_ALIVE.0);
        let events = messages
            .into_iter()
            .map(Message::event)
            .chain([Event::DEFAULT_KEEP_ALIVE])
            .map(Ok::<Event, Infallible>);
        let body = Sse::new(futures_util::stream::iter(events))
            .into_response()
            .into_body();
        let theirs = axum::body::to_bytes(body, usize::MAX).await;
        assert_eq!(
            String::from_utf8_lossy(&ours),
            String::from_utf8_lossy(&theirs.unwrap_or_default())
        );
        assert_eq!(KEEP_ALIVE.1, std::time::Duration::from_secs(15));
    }
}
