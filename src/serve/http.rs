//! The HTTP routes: decisions, status, health, reload, metrics.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Body;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State as Shared};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use futures_util::StreamExt as _;
use serde::{Deserialize, Serialize};

use super::catalog::{Catalog, Loaded, Serving};
use super::{State, batch, watch};
use crate::stream::{Decider, Output};
use crate::{DataError, Decision, Extras};

/// Every route of the service.
pub fn router(state: Arc<State>) -> Router {
    Router::new()
        .route("/v1/policies/{name}/decide", post(decide))
        .route("/v1/policies/{name}/watch", post(watch::watch))
        .route("/v1/status", get(status))
        .route("/v1/reload", post(reload))
        .route("/v1/test/clock", post(test_clock))
        .route("/health/live", get(live))
        .route("/health/ready", get(ready))
        .route("/metrics", get(metrics))
        .fallback(not_found)
        .with_state(state)
}

/// An error answer: the status, and the body `{"error", "code", "help"}`
/// (with `line` and `column` for bad data).
#[derive(Debug, Clone)]
pub struct ApiError {
    /// The HTTP status.
    pub status: StatusCode,
    /// A stable code, as diagnostics have.
    pub code: &'static str,
    /// What is wrong.
    pub message: String,
    /// What to do instead.
    pub help: Option<String>,
    /// Where in the body, for bad data.
    pub line: Option<usize>,
    /// The column in that line.
    pub column: Option<usize>,
}

impl ApiError {
    /// An error with no place.
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            code,
            message: message.into(),
            help: None,
            line: None,
            column: None,
        }
    }

    /// The same, with a help.
    pub fn help(mut self, help: impl Into<String>) -> ApiError {
        self.help = Some(help.into());
        self
    }

    /// A body that sent nothing for `idle`.
    pub fn timeout(idle: Duration) -> ApiError {
        ApiError::new(
            StatusCode::REQUEST_TIMEOUT,
            "policy::serve::timeout",
            format!("the body sent nothing for {} s", idle.as_secs_f64()),
        )
    }

    /// A person record that could not be decided.
    pub fn data(loaded: &Loaded, e: &DataError) -> ApiError {
        ApiError {
            status: StatusCode::BAD_REQUEST,
            code: "policy::data::invalid",
            message: e.message.clone(),
            help: Some(loaded.policy.data_help(e, false)),
            line: e.line,
            column: e.column,
        }
    }

    /// The JSON body.
    pub fn body(&self) -> String {
        #[derive(Serialize)]
        struct Body<'e> {
            error: &'e str,
            code: &'e str,
            #[serde(skip_serializing_if = "Option::is_none")]
            help: Option<&'e str>,
            #[serde(skip_serializing_if = "Option::is_none")]
            line: Option<usize>,
            #[serde(skip_serializing_if = "Option::is_none")]
            column: Option<usize>,
        }
        serde_json::to_string(&Body {
            error: &self.message,
            code: self.code,
            help: self.help.as_deref(),
            line: self.line,
            column: self.column,
        })
        .unwrap_or_default()
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        json(self.status, self.body())
    }
}

/// A JSON answer.
pub fn json(status: StatusCode, body: String) -> Response {
    (status, [(header::CONTENT_TYPE, "application/json")], body).into_response()
}

/// What a decision request asks for, in its query string.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Ask {
    /// The instant to decide at; default: the service's clock.
    pub now: Option<String>,
    /// `next_change` (default on).
    pub next_change: Option<bool>,
    /// `timeline`.
    #[serde(default)]
    pub timeline: bool,
    /// `remedies`.
    #[serde(default)]
    pub remedies: bool,
    /// `witnesses`.
    #[serde(default)]
    pub witnesses: bool,
    /// The explanation (as `explain --format json`) instead of the
    /// decision.
    #[serde(default)]
    pub explain: bool,
    /// The language to explain in.
    pub lang: Option<String>,
}

impl Ask {
    /// The query, or a 400 saying what is wrong with it.
    pub fn of(query: Result<Query<Ask>, QueryRejection>) -> Result<Ask, ApiError> {
        query.map(|Query(a)| a).map_err(|e| {
            let text = e.body_text();
            let why = text
                .strip_prefix("Failed to deserialize query string: ")
                .unwrap_or(&text);
            let message = format!("the query string cannot be read: {why}");
            ApiError::new(StatusCode::BAD_REQUEST, "policy::serve::query", message).help(
                "the query may give `now`, `next_change`, `timeline`, `remedies`, `witnesses` (`true` or `false`), `explain` and `lang`",
            )
        })
    }

    /// The query of `uri`, as [`Ask::of`] reads it.
    pub fn of_uri(uri: &axum::http::Uri) -> Result<Ask, ApiError> {
        match uri.query() {
            None => Ok(Ask::default()),
            Some(query) => match Ask::plain(query) {
                Some(ask) => Ok(ask),
                None => Ask::of(Query::try_from_uri(uri)),
            },
        }
    }

    /// The query when it is as clients write it: each name known and
    /// given once with `=`, `true` or `false` for the flags, values
    /// percent-encoded without `+`; read without the general reader
    /// (which costs more than the rest of a request's handling but the
    /// decision). `None` for any other query: [`Ask::of`] then reads it,
    /// or says what is wrong with it.
    fn plain(query: &str) -> Option<Ask> {
        let flag = |value: String| match value.as_str() {
            "true" => Some(true),
            "false" => Some(false),
            _ => None,
        };
        let mut ask = Ask::default();
        let mut seen = 0u8;
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            let (key, value) = pair.split_once('=')?;
            let value = percent_decoded(value)?;
            let bit = match key {
                "now" => {
                    ask.now = Some(value);
                    1
                }
                "next_change" => {
                    ask.next_change = Some(flag(value)?);
                    2
                }
                "timeline" => {
                    ask.timeline = flag(value)?;
                    4
                }
                "remedies" => {
                    ask.remedies = flag(value)?;
                    8
                }
                "witnesses" => {
                    ask.witnesses = flag(value)?;
                    16
                }
                "explain" => {
                    ask.explain = flag(value)?;
                    32
                }
                "lang" => {
                    ask.lang = Some(value);
                    64
                }
                _ => return None,
            };
            if seen & bit != 0 {
                return None;
            }
            seen |= bit;
        }
        Some(ask)
    }

    /// The extras asked for.
    pub fn extras(&self) -> Extras {
        Extras {
            next_change: self.next_change.unwrap_or(true),
            timeline: self.timeline,
            remedies: self.remedies,
            witnesses: self.witnesses,
        }
    }

    /// The instant to decide at.
    pub fn now(&self, loaded: &Loaded, clock: i64) -> Result<i64, ApiError> {
        let Some(text) = &self.now else {
            return Ok(clock);
        };
        loaded.policy.instant(text).map_err(|e| {
            ApiError::new(
                StatusCode::BAD_REQUEST,
                "policy::serve::now",
                format!("`{text}` is not an instant ({})", e.reason()),
            )
            .help("give `now` like `2021-11-01T10:00:00+08:00`, `2021-11-01T10:00` or `2021-11-01`")
        })
    }

    /// Runs `f` with a decider for `loaded` at `now`, or says why there is
    /// none (an unknown language, facts too old at `now`).
    pub fn with_decider<R>(
        &self,
        loaded: &Serving,
        now: i64,
        f: impl FnOnce(&Decider<'_>) -> R,
    ) -> Result<R, ApiError> {
        if let Some(e) = loaded.stale_at(now) {
            return Err(ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "policy::facts::expired",
                e.to_string(),
            )
            .help("give the service newer facts; it reloads them when their files change"));
        }
        let policy = &loaded.policy;
        if self.explain {
            let words = policy.words(self.lang.as_deref()).map_err(|e| {
                let error = ApiError::new(
                    StatusCode::BAD_REQUEST,
                    "policy::serve::lang",
                    e.to_string(),
                );
                match miette::Diagnostic::help(&e) {
                    Some(help) => error.help(help.to_string()),
                    None => error,
                }
            })?;
            let decider = Decider::new(
                policy,
                &loaded.facts,
                now,
                self.extras(),
                Output::ExplainJson(&words),
            );
            return Ok(f(&decider));
        }
        let mut decider = Decider::new(policy, &loaded.facts, now, self.extras(), Output::Json);
        if let Some(over) = &loaded.over_time {
            decider = decider.with_versions(&over.versions, &over.facts);
        }
        Ok(f(&decider))
    }
}

/// `text` with its `%XX` escapes decoded; `None` if it has a `+` (a
/// space, to the general reader) or a bad escape, or is not UTF-8 once
/// decoded.
fn percent_decoded(text: &str) -> Option<String> {
    if !text.contains('%') {
        return (!text.contains('+')).then(|| text.to_owned());
    }
    let mut out = Vec::with_capacity(text.len());
    let mut bytes = text.bytes();
    while let Some(b) = bytes.next() {
        match b {
            b'+' => return None,
            b'%' => {
                let hex = |d: u8| char::from(d).to_digit(16);
                let high = hex(bytes.next()?)?;
                let low = hex(bytes.next()?)?;
                out.push(u8::try_from(high * 16 + low).ok()?);
            }
            _ => out.push(b),
        }
    }
    String::from_utf8(out).ok()
}

/// What the decision log and the counters need of one decision.
#[derive(Debug, Clone)]
pub struct Decided {
    /// Its UUIDv7.
    pub id: String,
    /// The outcome.
    pub outcome: String,
    /// The deciding rule.
    pub rule: Option<String>,
    /// The instant it was decided at.
    pub now: i64,
}

/// A hook for [`Decider::decide_then`] that stamps each decision with its
/// `decision_id` and `revisions`, and keeps what the log needs in `seen`.
pub fn stamp<'a>(
    loaded: &'a Loaded,
    seen: &'a mut Option<Decided>,
) -> impl FnMut(&Decision<'_>, &mut String) + 'a {
    move |decision, out| {
        let id = write_stamp(loaded, out);
        *seen = Some(Decided::of(decision, id));
    }
}

/// Appends a decision's `decision_id` (a new UUIDv7) and `revisions` to
/// its JSON object; gives the id.
pub fn write_stamp(loaded: &Loaded, out: &mut String) -> uuid::Uuid {
    let id = decision_id();
    out.push_str(",\"decision_id\":\"");
    out.push_str(
        id.hyphenated()
            .encode_lower(&mut uuid::Uuid::encode_buffer()),
    );
    out.push_str("\",\"revisions\":{\"policy\":\"");
    out.push_str(&loaded.revision);
    out.push_str("\",\"facts\":\"");
    out.push_str(&loaded.facts_revision);
    out.push_str("\"}");
    id
}

thread_local! {
    /// The random bits of this thread's next decision id: a random start
    /// (one system call per thread), then one more for each id.
    static NEXT_ID: std::cell::Cell<Option<u128>> = const { std::cell::Cell::new(None) };
}

/// A new decision id: a UUIDv7 (RFC 9562), its 48-bit millisecond
/// timestamp followed by 74 bits that each thread starts at random and
/// counts up by one for each id (§6.2, method 2), so that ids stay
/// unique and in order on a thread without a system call for each
/// (`Uuid::now_v7` asks the system for random bits every time).
pub fn decision_id() -> uuid::Uuid {
    const BITS: u128 = (1 << 74) - 1;
    let bits = NEXT_ID.with(|next| {
        let bits = next.get().unwrap_or_else(|| {
            // The random bits of a UUIDv7 made the usual way.
            let u = uuid::Uuid::now_v7().as_u128();
            (((u >> 64) & 0xFFF) << 62) | (u & ((1 << 62) - 1))
        });
        next.set(Some(bits.wrapping_add(1) & BITS));
        bits
    });
    let millis = jiff::Timestamp::now().as_millisecond();
    // The top 12 bits are rand_a, the other 62 rand_b: of the 80 bits the
    // builder is given, it drops the 4 above rand_a and the 2 above rand_b
    // for the version and the variant.
    let (a, b) = (bits >> 62, bits & ((1 << 62) - 1));
    let random = ((a << 64) | b).to_be_bytes();
    let mut ten = [0u8; 10];
    ten.copy_from_slice(&random[6..16]);
    uuid::Builder::from_unix_timestamp_millis(u64::try_from(millis).unwrap_or(0), &ten).into_uuid()
}

impl Decided {
    /// What the log needs of `decision`, whose id is `id`.
    pub fn of(decision: &Decision<'_>, id: uuid::Uuid) -> Decided {
        Decided {
            id: id.to_string(),
            outcome: decision.outcome.to_owned(),
            rule: decision.deciding_rule().map(str::to_owned),
            now: decision.now,
        }
    }
}

/// The decision log's line for one decision of `input`.
pub fn log_line(loaded: &Loaded, decided: &Decided, input: &str) -> String {
    #[derive(Serialize)]
    struct Line<'a> {
        decision_id: &'a str,
        time: String,
        now: String,
        policy: PolicyRef<'a>,
        facts_revision: &'a str,
        input_digest: String,
        outcome: &'a str,
        rule: Option<&'a str>,
        input: serde_json::Value,
    }
    #[derive(Serialize)]
    struct PolicyRef<'a> {
        name: &'a str,
        version: Option<&'a str>,
        revision: &'a str,
    }
    let program = loaded.policy.program();
    let input_json = serde_json::from_str(input).unwrap_or(serde_json::Value::Null);
    serde_json::to_string(&Line {
        decision_id: &decided.id,
        time: jiff::Timestamp::now().to_string(),
        now: crate::time::format_instant(decided.now, &program.timezone),
        policy: PolicyRef {
            name: &program.name,
            version: program.version.as_deref(),
            revision: &loaded.revision,
        },
        facts_revision: &loaded.facts_revision,
        input_digest: super::catalog::digest([input.as_bytes()]),
        outcome: &decided.outcome,
        rule: decided.rule.as_deref(),
        input: super::log::masked(input_json, &program.input),
    })
    .unwrap_or_default()
}

/// The version of `name` in force at `now` in `catalog`, or why there
/// is none (a 400 when the policy is served but has no version in force
/// then).
pub fn in_force(
    state: &State,
    catalog: &Catalog,
    name: &str,
    now: i64,
) -> Result<Serving, ApiError> {
    let found = find(state, catalog, name)?;
    catalog.get(name, now).ok_or_else(|| {
        let tz = &found.policy.program().timezone;
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "policy::serve::not_in_force",
            format!(
                "no version of policy `{name}` is in force at `{}`",
                crate::time::format_instant(now, tz)
            ),
        )
        .help("give a `now` at which a version is in force: `GET /v1/status` lists them")
    })
}

/// A revision of `name` in `catalog`, the one in force now if there is
/// one (to read a request's `now` in its zone), or 404 (503 while a
/// policy has not loaded: the unknown name may be its).
pub fn find<'c>(state: &State, catalog: &'c Catalog, name: &str) -> Result<&'c Loaded, ApiError> {
    let now = state.clock.now();
    let versions = catalog.policies.get(name);
    let any = versions.and_then(|v| v.at(now).or_else(|| v.all().last()));
    any.map(|l| &**l).ok_or_else(|| {
        if state.ready() {
            let known: Vec<&str> = catalog.policies.keys().map(String::as_str).collect();
            ApiError::new(
                StatusCode::NOT_FOUND,
                "policy::serve::unknown_policy",
                format!("there is no policy `{name}`"),
            )
            .help(
                match crate::suggest::help_for(name, known.iter().copied()) {
                    Some(help) => help,
                    None => format!("the policies served are {}", known.join(", ")),
                },
            )
        } else {
            ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "policy::serve::not_ready",
                format!("policy `{name}` is not loaded, and not every policy has loaded yet"),
            )
            .help("`GET /v1/status` shows what failed to load")
        }
    })
}

/// Reads a whole body of at most `limit` bytes, giving up when it sends
/// nothing for `idle`.
pub async fn read_body(body: Body, limit: usize, idle: Duration) -> Result<Vec<u8>, ApiError> {
    let too_large = || {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "policy::serve::too_large",
            format!("the body is larger than {limit} bytes, the limit"),
        )
        .help("send one record per request, or many as `application/x-ndjson`; `--max-body-bytes` sets the limit")
    };
    let mut stream = body.into_data_stream();
    let mut out = Vec::new();
    loop {
        match tokio::time::timeout(idle, stream.next()).await {
            Err(_) => return Err(ApiError::timeout(idle)),
            Ok(None) => return Ok(out),
            Ok(Some(Err(e))) => {
                return Err(ApiError::new(
                    StatusCode::BAD_REQUEST,
                    "policy::serve::body",
                    format!("the body could not be read: {e}"),
                ));
            }
            Ok(Some(Ok(chunk))) => {
                if out.len() + chunk.len() > limit {
                    return Err(too_large());
                }
                out.extend_from_slice(&chunk);
            }
        }
    }
}

/// Whether the body is JSON Lines.
pub fn is_ndjson(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim_start().starts_with("application/x-ndjson"))
}

/// `POST /v1/policies/{name}/decide`. The request is taken whole, so
/// that its query and headers are read where they are, not copied.
async fn decide(
    Shared(state): Shared<Arc<State>>,
    Path(name): Path<String>,
    request: axum::extract::Request,
) -> Response {
    let started = Instant::now();
    let batch = is_ndjson(request.headers());
    let route = if batch { "batch" } else { "decide" };
    let ask = Ask::of_uri(request.uri());
    let body = request.into_body();
    let response = match decide_or_fail(&state, &name, ask, batch, body).await {
        Ok(r) => r,
        Err(e) => e.into_response(),
    };
    state
        .metrics
        .request(route, response.status().as_u16(), started.elapsed());
    response
}

async fn decide_or_fail(
    state: &Arc<State>,
    name: &str,
    ask: Result<Ask, ApiError>,
    batch: bool,
    body: Body,
) -> Result<Response, ApiError> {
    let ask = ask?;
    // One revision of the catalog answers the whole request.
    let loaded = {
        let catalog = state.catalog();
        let now = ask.now(find(state, &catalog, name)?, state.clock.now())?;
        (in_force(state, &catalog, name, now)?, now)
    };
    let (loaded, now) = loaded;
    if batch {
        return batch::respond(Arc::clone(state), loaded, ask, now, body);
    }
    let config = &state.config;
    let bytes = read_body(body, config.max_body_bytes, config.read_timeout).await?;
    // What the log needs is kept only when there is a log.
    let mut seen = None;
    let decided = ask.with_decider(&loaded, now, |decider| {
        let text = std::str::from_utf8(&bytes).map_err(|_| DataError {
            message: "the body is not valid UTF-8".into(),
            line: None,
            column: None,
        })?;
        decider.decide_then(text, &mut |decision, out| {
            let id = write_stamp(&loaded, out);
            state.metrics.decided(name, decision.outcome, 1);
            if state.log.is_some() {
                seen = Some(Decided::of(decision, id));
            }
        })
    })?;
    let text = decided.map_err(|e| ApiError::data(&loaded, &e))?;
    if let (Some(seen), Some(log)) = (&seen, &state.log) {
        let input = String::from_utf8_lossy(&bytes);
        log.write(log_line(&loaded, seen, &input)).await;
    }
    Ok(json(StatusCode::OK, text))
}

/// `GET /v1/status`: every policy with its revision and since when, and
/// every failed update with its diagnostics.
async fn status(Shared(state): Shared<Arc<State>>) -> Response {
    let catalog = state.catalog();
    let tz = jiff::tz::TimeZone::UTC;
    let policies: Vec<serde_json::Value> = catalog
        .policies
        .values()
        .flat_map(|v| v.all())
        .map(|l| {
            let program = l.policy.program();
            serde_json::json!({
                "name": program.name,
                "version": program.version,
                "file": l.file,
                "revision": l.revision,
                "facts_revision": l.facts_revision,
                "since": crate::time::format_instant(l.since, &tz),
            })
        })
        .collect();
    let failures: Vec<serde_json::Value> = state
        .failures
        .lock()
        .map(|f| {
            f.values()
                .map(|f| {
                    serde_json::json!({
                        "file": f.file,
                        "since": crate::time::format_instant(f.since, &tz),
                        "diagnostics": f.diagnostics,
                    })
                })
                .collect()
        })
        .unwrap_or_default();
    let body = serde_json::json!({
        "ready": state.ready(),
        "generation": catalog.generation,
        "policies": policies,
        "failures": failures,
    });
    json(StatusCode::OK, body.to_string())
}

/// `GET /health/live`: the process answers.
async fn live() -> Response {
    json(StatusCode::OK, "{\"live\":true}".into())
}

/// `GET /health/ready`: every policy has loaded (and no failed update is
/// older than `--max-stale`).
async fn ready(Shared(state): Shared<Arc<State>>) -> Response {
    if state.ready() {
        json(StatusCode::OK, "{\"ready\":true}".into())
    } else {
        json(StatusCode::SERVICE_UNAVAILABLE, "{\"ready\":false}".into())
    }
}

/// `GET /metrics`.
async fn metrics(Shared(state): Shared<Arc<State>>) -> Response {
    let log = state.log.as_ref().map(|l| {
        (
            l.depth(),
            l.dropped.load(std::sync::atomic::Ordering::Relaxed),
            l.failed.load(std::sync::atomic::Ordering::Relaxed),
        )
    });
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        state.metrics.render(log),
    )
        .into_response()
}

/// Lets an admin request through: it must carry `Authorization: Bearer`
/// and the token of `--admin-token-file`.
fn admin(state: &State, headers: &HeaderMap) -> Result<(), ApiError> {
    let Some(token) = &state.config.admin_token else {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "policy::serve::no_admin",
            "the admin endpoints are closed",
        )
        .help("start the service with `--admin-token-file FILE` to open them"));
    };
    let given = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    match given {
        Some(g) if g.trim() == token => Ok(()),
        Some(_) => Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "policy::serve::bad_token",
            "the admin token is wrong",
        )
        .help("send the token of `--admin-token-file` as `Authorization: Bearer TOKEN`")),
        None => Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "policy::serve::no_token",
            "an admin request needs the admin token",
        )
        .help("send the token of `--admin-token-file` as `Authorization: Bearer TOKEN`")),
    }
}

/// `POST /v1/reload`: reads every file again now; answers the status.
async fn reload(Shared(state): Shared<Arc<State>>, headers: HeaderMap) -> Response {
    if let Err(e) = admin(&state, &headers) {
        return e.into_response();
    }
    state.reload().await;
    status(Shared(state)).await
}

/// What `POST /v1/test/clock` asks: set the test clock to an instant, or
/// move it on by a duration.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ClockMove {
    set: Option<String>,
    advance: Option<String>,
}

/// `POST /v1/test/clock` (only with `--test-clock`): moves the clock.
async fn test_clock(Shared(state): Shared<Arc<State>>, headers: HeaderMap, body: Body) -> Response {
    let moved = async {
        admin(&state, &headers)?;
        if !state.clock.is_test() {
            return Err(ApiError::new(
                StatusCode::NOT_FOUND,
                "policy::serve::no_test_clock",
                "the service runs on the system clock",
            ));
        }
        let bad = |m: String| ApiError::new(StatusCode::BAD_REQUEST, "policy::serve::clock", m);
        let bytes = read_body(body, 4096, state.config.read_timeout).await?;
        let ask: ClockMove = serde_json::from_slice(&bytes).map_err(|e| bad(e.to_string()))?;
        let utc = jiff::tz::TimeZone::UTC;
        let to = match (ask.set, ask.advance) {
            (Some(at), None) => {
                crate::time::parse_instant(&at, &utc, crate::time::Resolve::default())
                    .map_err(|e| bad(format!("`{at}` is not an instant ({})", e.reason())))?
            }
            (None, Some(by)) => {
                let by = crate::time::parse_duration(&by)
                    .ok_or_else(|| bad(format!("`{by}` is not a duration like `14d`")))?;
                state
                    .clock
                    .now()
                    .saturating_add(by.saturating_mul(1_000_000))
            }
            _ => {
                return Err(bad(
                    "give `set` (an instant) or `advance` (a duration)".into()
                ));
            }
        };
        let now = state.clock.set(to);
        Ok(crate::time::format_instant(now, &utc))
    };
    match moved.await {
        Ok(now) => json(
            StatusCode::OK,
            serde_json::json!({ "now": now }).to_string(),
        ),
        Err(e) => e.into_response(),
    }
}

/// Any other path.
async fn not_found() -> Response {
    ApiError::new(StatusCode::NOT_FOUND, "policy::serve::no_route", "there is no such endpoint")
        .help("the endpoints are `POST /v1/policies/NAME/decide`, `POST /v1/policies/NAME/watch`, `GET /v1/status`, `POST /v1/reload`, `GET /health/live`, `GET /health/ready` and `GET /metrics`")
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every field of an `Ask`, to compare two.
    fn fields(a: &Ask) -> String {
        format!(
            "{:?} {:?} {} {} {} {} {:?}",
            a.now, a.next_change, a.timeline, a.remedies, a.witnesses, a.explain, a.lang
        )
    }

    #[test]
    fn a_plain_query_is_read_as_the_general_reader_reads_it() {
        let read = |q: &str| {
            let uri: axum::http::Uri = format!("/p?{q}")
                .parse()
                .unwrap_or_else(|e| unreachable!("{e}"));
            Ask::of(Query::try_from_uri(&uri))
        };
        for q in [
            "",
            "now=2021-11-01T10:00:00%2B08:00",
            "now=2021-11-01T10:00:00%2B08:00&next_change=false",
            "next_change=true&timeline=true&remedies=false&witnesses=true&explain=true&lang=zh",
            "&&now=2021-11-01&&",
            "now=%E5%8C%97%e4%ba%ac",
            "lang=",
        ] {
            let plain = Ask::plain(q).unwrap_or_else(|| unreachable!("`{q}` is plain"));
            let general = read(q).unwrap_or_else(|e| unreachable!("`{q}`: {}", e.message));
            assert_eq!(fields(&plain), fields(&general), "{q}");
        }
        // Anything else goes to the general reader, which reads it or
        // says what is wrong.
        for q in [
            "now=a+b",
            "explain",
            "explain=yes",
            "next_change=1",
            "nexT_change=true",
            "now=1&now=2",
            "now=%2",
            "now=%zz",
            "now=%ff",
            "n%6Fw=1",
        ] {
            assert!(Ask::plain(q).is_none(), "{q}");
        }
        assert!(read("now=a+b").is_ok_and(|a| a.now.as_deref() == Some("a b")));
        assert!(read("now=1&now=2").is_err());
    }

    #[test]
    fn decision_ids_are_uuid_v7_in_order_on_a_thread() {
        let before = jiff::Timestamp::now().as_millisecond();
        let ids: Vec<uuid::Uuid> = (0..1000).map(|_| decision_id()).collect();
        let after = jiff::Timestamp::now().as_millisecond();
        for pair in ids.windows(2) {
            assert!(pair[0] < pair[1], "{} then {}", pair[0], pair[1]);
        }
        for id in &ids {
            assert_eq!(id.get_version_num(), 7);
            assert_eq!(id.get_variant(), uuid::Variant::RFC4122);
            let (secs, nanos) = id.get_timestamp().map_or((0, 0), |t| t.to_unix());
            let millis = i64::try_from(secs).unwrap_or(0) * 1000 + i64::from(nanos / 1_000_000);
            assert!((before..=after).contains(&millis), "{id}");
        }
        // Another thread starts at a random place of its own.
        let other = std::thread::spawn(decision_id).join();
        assert!(other.is_ok_and(|o| !ids.contains(&o)));
    }
}
