//! Pushed decisions: `POST /v1/policies/{name}/watch` answers a stream of
//! server-sent events, the decision now and then a new one each time it
//! changes: at its `next_change` instant (a timer on the service's clock),
//! when the facts change, or when a new version of the policy takes
//! effect. SIGTERM ends each stream with a last event.

use std::convert::Infallible;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Instant;

use axum::body::Body;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State as Shared};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse as _, Response};
use tokio::sync::mpsc;

use super::State;
use super::catalog::Loaded;
use super::http::{ApiError, Ask, Decided, in_force, log_line, read_body, stamp};
use crate::DataError;
use crate::decision::NextChange;

/// One decision of a watched person.
struct Pushed {
    /// The decision's JSON.
    text: String,
    /// What the person is told: outcome, payload and deciding rule; a new
    /// event is sent when it differs.
    key: String,
    /// When it changes with no new data.
    next_at: Option<i64>,
    /// The instant it was made at: the next is never made earlier, so a
    /// stream never goes back to a decision it has left.
    now: i64,
    decided: Option<Decided>,
}

/// Decides `input` at `now` under `loaded`, with `next_change`.
fn decide(loaded: &Loaded, ask: &Ask, now: i64, input: &str) -> Result<Pushed, ApiError> {
    let mut seen = None;
    let mut key = String::new();
    let mut next_at = None;
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
            if let NextChange::At { at, .. } = decision.next_change {
                next_at = Some(at);
            }
        })
    })?;
    let text = text.map_err(|e: DataError| ApiError::data(loaded, &e))?;
    Ok(Pushed {
        text: text.trim_end().to_owned(),
        key,
        next_at,
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

/// `POST /v1/policies/{name}/watch`.
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

async fn open(
    state: &Arc<State>,
    name: String,
    query: Result<Query<Ask>, QueryRejection>,
    body: Body,
) -> Result<Response, ApiError> {
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
    let loaded = in_force(state, &name, state.clock.now())?;
    let config = &state.config;
    let bytes = read_body(body, config.max_body_bytes, config.read_timeout).await?;
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
    let (events, receive) = mpsc::channel::<Event>(4);
    state.metrics.watch_streams.fetch_add(1, Ordering::Relaxed);
    let open = Open(Arc::clone(state));
    tokio::spawn(follow(open, name, ask, input, loaded, first, events));
    let stream = futures_util::stream::unfold(receive, |mut rx| async move {
        rx.recv().await.map(|e| (Ok::<Event, Infallible>(e), rx))
    });
    Ok(Sse::new(stream)
        .keep_alive(KeepAlive::default())
        .into_response())
}

/// The event for one decision, sent for `reason`.
fn event(reason: &str, pushed: &Pushed) -> Event {
    Event::default().event("decision").data(format!(
        "{{\"reason\":\"{reason}\",\"decision\":{}}}",
        pushed.text
    ))
}

/// The last event of a stream.
fn end(reason: &str) -> Event {
    Event::default()
        .event("end")
        .data(format!("{{\"reason\":\"{reason}\"}}"))
}

/// Logs one pushed decision and sends it; `false` once the client is gone.
async fn send(
    state: &State,
    loaded: &Loaded,
    input: &str,
    reason: &str,
    pushed: &Pushed,
    events: &mpsc::Sender<Event>,
) -> bool {
    if let (Some(log), Some(decided)) = (&state.log, &pushed.decided) {
        log.write(log_line(loaded, decided, input)).await;
    }
    events.send(event(reason, pushed)).await.is_ok()
}

/// Follows one watched person until the client goes, the policy goes or
/// the service stops.
async fn follow(
    open: Open,
    name: String,
    ask: Ask,
    input: String,
    mut loaded: Arc<Loaded>,
    first: Pushed,
    events: mpsc::Sender<Event>,
) {
    let state = Arc::clone(&open.0);
    let mut changes = state.changes.subscribe();
    changes.mark_unchanged();
    let mut stopping = state.stopping();
    if !send(&state, &loaded, &input, "initial", &first, &events).await {
        return;
    }
    let mut current = first;
    current.text = String::new();
    // The decision just after `current.next_at`, made ahead of the
    // instant: at the instant it is only sent, so that thousands of streams
    // changing at one instant are all told at once.
    let mut upcoming: Option<Pushed> = None;
    loop {
        if upcoming.is_none()
            && let Some(at) = current.next_at
        {
            // The others waking at this instant send theirs first.
            tokio::task::yield_now().await;
            upcoming = decide_after(&loaded, &ask, at.saturating_add(1).max(current.now), &input);
        }
        let version_at =
            (state.catalog().policies.get(&name)).and_then(|v| v.next_after(current.now));
        let reason;
        let pushed;
        tokio::select! {
            biased;
            _ = async { stopping.wait_for(|s| *s).await.is_ok() } => {
                let _ = events.send(end("shutdown")).await;
                return;
            }
            () = events.closed() => return,
            changed = changes.changed() => {
                if changed.is_err() {
                    return;
                }
                let now = state.clock.now().max(current.now);
                let Some(next) = state.policy(&name, now) else {
                    let _ = events.send(end("removed")).await;
                    return;
                };
                reason = if next.revision != loaded.revision {
                    "policy"
                } else if next.facts_revision != loaded.facts_revision {
                    "facts"
                } else {
                    continue;
                };
                loaded = next;
                upcoming = None;
                pushed = decide(&loaded, &ask, now, &input);
            }
            // A later version takes effect (before the decision's own
            // change, or with it: the new rules decide from that instant).
            () = state.clock.sleep_until(version_at), if version_at.is_some_and(|v| current.next_at.is_none_or(|n| v <= n)) => {
                let now = version_at.unwrap_or_default().max(current.now);
                let Some(next) = state.policy(&name, now) else {
                    let _ = events.send(end("removed")).await;
                    return;
                };
                reason = "version";
                loaded = next;
                upcoming = None;
                pushed = decide(&loaded, &ask, now, &input);
            }
            () = state.clock.sleep_until(current.next_at) => {
                reason = "next_change";
                pushed = match upcoming.take() {
                    Some(p) => Ok(p),
                    // The decision changes just after its instant.
                    None => {
                        let at = current.next_at.unwrap_or_default();
                        let now = state.clock.now().max(at.saturating_add(1)).max(current.now);
                        decide(&loaded, &ask, now, &input)
                    }
                };
            }
        }
        let mut pushed = match pushed {
            Ok(mut p) => {
                if p.next_at.is_some_and(|at| at <= p.now) {
                    p.next_at = None;
                }
                p
            }
            Err(e) => {
                let _ = events
                    .send(Event::default().event("error").data(e.body()))
                    .await;
                return;
            }
        };
        if pushed.key != current.key
            && !send(&state, &loaded, &input, reason, &pushed, &events).await
        {
            return;
        }
        pushed.text = String::new();
        current = pushed;
    }
}

/// The decision at `now`, made ahead of time; `None` if it cannot be
/// made (then it is made, and its error sent, at the instant).
fn decide_after(loaded: &Loaded, ask: &Ask, now: i64, input: &str) -> Option<Pushed> {
    decide(loaded, ask, now, input).ok()
}
