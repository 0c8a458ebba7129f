//! `policyc serve`: the live decision service.
//!
//! Decisions over HTTP in the format of `policyc eval`, one at a time or
//! as a streamed JSON Lines batch ([`http`], [`batch`]); decisions pushed
//! as server-sent events when they change ([`watch`]); policies and facts
//! reloaded without a restart, as whole revisions ([`catalog`]); every
//! decision recorded in the decision log ([`log`]); counters at
//! `/metrics` ([`metrics`]). A request takes the revision in use once and
//! is decided by it alone.

pub mod batch;
pub mod catalog;
pub mod clock;
pub mod direct;
pub mod http;
pub mod idle;
pub mod log;
pub mod metrics;
pub mod watch;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use miette::Diagnostic;
use thiserror::Error;
use tokio::sync::watch as signal;

use catalog::{Catalog, Failure, Sources};
use clock::Clock;
use log::{DecisionLog, WhenFull};
use metrics::Metrics;

/// How the service runs.
#[derive(Debug, Clone)]
pub struct Config {
    /// The policies and facts it serves.
    pub sources: Sources,
    /// Where it listens.
    pub addr: SocketAddr,
    /// The decision log, if one is kept.
    pub decision_log: Option<PathBuf>,
    /// How many decision-log lines may wait to be written.
    pub log_queue: usize,
    /// What a decision does when they are that many.
    pub log_full: WhenFull,
    /// The token the admin endpoints ask for; without one they are closed.
    pub admin_token: Option<String>,
    /// The largest request body of one record, in bytes.
    pub max_body_bytes: usize,
    /// The longest line of a JSON Lines batch, in bytes.
    pub max_line_bytes: usize,
    /// How long a request body may send nothing before it is given up.
    pub read_timeout: Duration,
    /// How long a connection may be silent (nothing read or written)
    /// before it is closed.
    pub idle_timeout: Duration,
    /// Not ready once a failed update has stood this long.
    pub max_stale: Option<Duration>,
    /// The threads that serve.
    pub threads: usize,
    /// A test clock starting at this instant (microseconds), moved by
    /// `POST /v1/test/clock`.
    pub test_clock: Option<i64>,
}

/// Why the service could not start.
#[derive(Debug, Error, Diagnostic)]
pub enum ServeError {
    /// The address could not be listened on.
    #[error("cannot listen on `{addr}`: {reason}")]
    #[diagnostic(
        code(policyc::serve::listen),
        help("choose another `--addr`, or stop what listens there; port 0 takes a free one")
    )]
    Listen {
        /// The address.
        addr: SocketAddr,
        /// What failed.
        reason: String,
    },
    /// The decision log could not be opened.
    #[error("cannot open the decision log `{path}`: {reason}")]
    #[diagnostic(
        code(policyc::serve::decision_log),
        help("give `--decision-log` a file in a folder that exists and may be written")
    )]
    Log {
        /// The file.
        path: String,
        /// What failed.
        reason: String,
    },
    /// The runtime could not start.
    #[error("cannot start the service: {0}")]
    #[diagnostic(code(policyc::serve::start))]
    Start(String),
}

/// What every request shares.
pub struct State {
    catalog: RwLock<Arc<Catalog>>,
    /// The generation of each new catalog, for the watch streams.
    changes: signal::Sender<u64>,
    failures: Mutex<BTreeMap<String, Failure>>,
    /// Whether every policy file found has a revision serving.
    complete: AtomicBool,
    reloading: tokio::sync::Mutex<()>,
    config: Config,
    clock: Clock,
    metrics: Metrics,
    log: Option<DecisionLog>,
    /// Set once SIGTERM has come.
    stopping: signal::Sender<bool>,
    /// How many connections [`direct`] serves.
    direct: signal::Sender<usize>,
    /// The libraries that the policy files' `use`s named at the last
    /// reload, loaded or failed, for the files watcher.
    libraries: signal::Sender<Vec<PathBuf>>,
}

impl State {
    fn new(config: Config, log: Option<DecisionLog>) -> State {
        State {
            catalog: RwLock::new(Arc::new(Catalog::default())),
            changes: signal::Sender::new(0),
            failures: Mutex::new(BTreeMap::new()),
            complete: AtomicBool::new(false),
            reloading: tokio::sync::Mutex::new(()),
            clock: config.test_clock.map_or(Clock::System, Clock::test),
            config,
            metrics: Metrics::default(),
            log,
            stopping: signal::Sender::new(false),
            direct: signal::Sender::new(0),
            libraries: signal::Sender::new(Vec::new()),
        }
    }

    /// The catalog in use.
    pub fn catalog(&self) -> Arc<Catalog> {
        match self.catalog.read() {
            Ok(c) => Arc::clone(&c),
            Err(poisoned) => Arc::clone(&poisoned.into_inner()),
        }
    }

    /// The revision of `name` deciding at `now`.
    pub fn policy(&self, name: &str, now: i64) -> Option<catalog::Serving> {
        self.catalog().get(name, now)
    }

    /// Whether every policy has loaded and no failed update has stood
    /// longer than `--max-stale`.
    pub fn ready(&self) -> bool {
        if !self.complete.load(Ordering::SeqCst) {
            return false;
        }
        let Some(limit) = self.config.max_stale else {
            return true;
        };
        self.failures
            .lock()
            .map(|f| f.values().all(|f| f.since_instant.elapsed() <= limit))
            .unwrap_or(false)
    }

    /// Reads every policy and facts file again and swaps in the new
    /// revision if anything changed; one reload at a time.
    pub async fn reload(self: &Arc<Self>) {
        let _one = self.reloading.lock().await;
        let current = self.catalog();
        let failures = self.failures.lock().map(|f| f.clone()).unwrap_or_default();
        let now = self.clock.now();
        let state = Arc::clone(self);
        let done = tokio::task::spawn_blocking(move || {
            catalog::reload(&state.config.sources, &current, &failures, now)
        })
        .await;
        let Ok(done) = done else { return };
        if !done.failures.is_empty() {
            self.metrics.reloads_failed.fetch_add(1, Ordering::Relaxed);
        }
        if let Ok(mut f) = self.failures.lock() {
            *f = done.failures;
        }
        self.complete.store(done.complete, Ordering::SeqCst);
        let libraries = done.libraries;
        self.libraries.send_if_modified(|l| {
            let new = *l != libraries;
            *l = libraries;
            new
        });
        if let Some(next) = done.catalog {
            let generation = next.generation;
            match self.catalog.write() {
                Ok(mut c) => *c = Arc::new(next),
                Err(poisoned) => *poisoned.into_inner() = Arc::new(next),
            }
            self.metrics.reloads_ok.fetch_add(1, Ordering::Relaxed);
            self.metrics
                .last_activation
                .store(jiff::Timestamp::now().as_second(), Ordering::Relaxed);
            self.changes.send_replace(generation);
        }
    }

    /// Whether SIGTERM has come.
    pub fn stopping(&self) -> signal::Receiver<bool> {
        self.stopping.subscribe()
    }
}

/// Runs the service until SIGTERM (or Ctrl-C), telling `listening` where
/// it listens once it does.
///
/// Each of `--threads` threads runs a runtime of its own, and serves the
/// connections handed to it from their first byte to their last
/// ([`idle::accept_all`]): a request is read, decided and answered on one
/// thread, without the wakeups of threads that steal work from each
/// other. The calling thread is the first of them; it also accepts the
/// connections, watches the files and reloads.
pub fn run(config: Config, listening: impl FnOnce(SocketAddr)) -> Result<(), ServeError> {
    one_thread()
        .map_err(|e| ServeError::Start(e.to_string()))?
        .block_on(serve(config, listening))
}

/// A runtime that runs its tasks on the thread that drives it.
fn one_thread() -> std::io::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
}

/// The most threads that serve: more would only cost memory.
const MAX_THREADS: usize = 256;

/// How many accepted connections may wait for a thread to take them.
const QUEUED: usize = 1024;

/// Serves the connections `source` gives on this thread, until the
/// service stops.
async fn serve_thread(
    state: Arc<State>,
    app: axum::Router,
    source: tokio::sync::mpsc::Receiver<std::net::TcpStream>,
    addr: SocketAddr,
) -> std::io::Result<()> {
    let listener = idle::IdleListener::new(source, addr, Arc::clone(&state));
    let mut stopping = state.stopping();
    let stop = async move {
        let _ = stopping.wait_for(|s| *s).await;
    };
    axum::serve(listener, app)
        .with_graceful_shutdown(stop)
        .await
}

async fn serve(config: Config, listening: impl FnOnce(SocketAddr)) -> Result<(), ServeError> {
    let log = match &config.decision_log {
        Some(path) => Some(
            DecisionLog::open(path, config.log_queue, config.log_full).map_err(|e| {
                ServeError::Log {
                    path: path.display().to_string(),
                    reason: e.to_string(),
                }
            })?,
        ),
        None => None,
    };
    let addr = config.addr;
    let listener = listen(addr).map_err(|e| ServeError::Listen {
        addr,
        reason: e.to_string(),
    })?;
    let bound = listener.local_addr().map_err(|e| ServeError::Listen {
        addr,
        reason: e.to_string(),
    })?;
    let state = Arc::new(State::new(config, log));
    state.reload().await;
    let _ = files::watch(&state);
    tokio::spawn(on_hangup(Arc::clone(&state)));
    listening(bound);
    let app = http::router(Arc::clone(&state));
    tokio::spawn({
        let state = Arc::clone(&state);
        async move {
            terminated().await;
            state.stopping.send_replace(true);
        }
    });
    // The other threads, each serving the connections handed to it; a
    // thread that cannot start leaves the others to serve.
    let (mine, source) = tokio::sync::mpsc::channel(QUEUED);
    let mut threads = vec![mine];
    let mut others = Vec::new();
    for n in 1..state.config.threads.clamp(1, MAX_THREADS) {
        let (to, source) = tokio::sync::mpsc::channel(QUEUED);
        let (done, finished) = tokio::sync::oneshot::channel();
        let (state, app) = (Arc::clone(&state), app.clone());
        let started = std::thread::Builder::new()
            .name(format!("policyc-serve-{n}"))
            .spawn(move || {
                let served = one_thread()
                    .and_then(|rt| rt.block_on(serve_thread(state, app, source, bound)));
                let _ = done.send(served);
            });
        if started.is_err() {
            break;
        }
        threads.push(to);
        others.push(finished);
    }
    tokio::spawn(idle::accept_all(listener, threads, Arc::clone(&state)));
    let mut served = serve_thread(Arc::clone(&state), app, source, bound).await;
    for finished in others {
        let other = finished.await.unwrap_or(Ok(()));
        served = served.and(other);
    }
    // The watch streams served without hyper send their last event too.
    let _ = tokio::time::timeout(Duration::from_secs(5), direct::all_closed(&state)).await;
    if let Some(log) = &state.log {
        log.close().await;
    }
    served.map_err(|e| ServeError::Start(e.to_string()))
}

/// Listens on `addr` with room for 4,096 connections not yet taken (the
/// system may allow fewer), so that thousands of watch streams opening at
/// once are not refused.
fn listen(addr: SocketAddr) -> std::io::Result<tokio::net::TcpListener> {
    let socket = if addr.is_ipv4() {
        tokio::net::TcpSocket::new_v4()?
    } else {
        tokio::net::TcpSocket::new_v6()?
    };
    #[cfg(unix)]
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    socket.listen(4096)
}

/// Waits for SIGTERM or Ctrl-C.
async fn terminated() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = term.recv() => {}
                    _ = tokio::signal::ctrl_c() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

/// Reloads on each SIGHUP.
async fn on_hangup(state: Arc<State>) {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let Ok(mut hup) = signal(SignalKind::hangup()) else {
            return;
        };
        while hup.recv().await.is_some() {
            state.reload().await;
        }
    }
    #[cfg(not(unix))]
    drop(state);
}

mod files {
    //! Watching the policy and facts files: the folders they are in are
    //! watched (an atomic rename replaces a file, and a watch on the file
    //! itself would follow the old one), and a change to a `.policy` file
    //! or a facts file starts a reload.

    use std::path::{Path, PathBuf};
    use std::sync::{Arc, Mutex};
    use std::time::Duration;

    use notify::{RecursiveMode, Watcher as _};

    use super::State;

    /// Starts watching the files, and the libraries the policies use
    /// wherever they are (their folders are watched as reloads find
    /// them), until the service stops. `None` if the system gives no
    /// watcher (then SIGHUP and `POST /v1/reload` still reload).
    pub fn watch(state: &Arc<State>) -> Option<()> {
        let sources = &state.config.sources;
        let facts: Vec<PathBuf> = sources.facts.iter().map(|f| absolute(&f.path)).collect();
        let policies: Vec<PathBuf> = sources.policies.iter().map(|p| absolute(p)).collect();
        let (wake, mut woken) = tokio::sync::mpsc::channel::<()>(1);
        // The libraries used from outside the policies' folders, as the
        // last reload found them.
        let libraries: Arc<Mutex<Vec<PathBuf>>> = Arc::default();
        let interesting = {
            let (facts, policies) = (facts.clone(), policies.clone());
            let libraries = Arc::clone(&libraries);
            move |path: &Path| {
                facts.iter().any(|f| f == path)
                    || policies.iter().any(|p| p == path)
                    || path.extension().is_some_and(|e| e == "policy")
                        && policies.iter().any(|p| path.parent() == Some(p.as_path()))
                    || libraries.lock().is_ok_and(|l| l.iter().any(|l| l == path))
            }
        };
        let mut watcher =
            notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
                if let Ok(event) = event
                    && event.paths.iter().any(|p| interesting(p))
                {
                    let _ = wake.try_send(());
                }
            })
            .ok()?;
        let mut folders: Vec<PathBuf> = facts
            .iter()
            .chain(&policies)
            .filter_map(|p| {
                if p.is_dir() {
                    Some(p.clone())
                } else {
                    p.parent().map(Path::to_path_buf)
                }
            })
            .collect();
        folders.sort();
        folders.dedup();
        for folder in &folders {
            let _ = watcher.watch(folder, RecursiveMode::NonRecursive);
        }
        let state = Arc::clone(state);
        let mut used = state.libraries.subscribe();
        used.mark_changed();
        tokio::spawn(async move {
            loop {
                tokio::select! {
                    woke = woken.recv() => {
                        if woke.is_none() {
                            break;
                        }
                        // A writer that is not done yet gets a moment; the
                        // events of that moment make one reload.
                        tokio::time::sleep(Duration::from_millis(20)).await;
                        while woken.try_recv().is_ok() {}
                        state.reload().await;
                    }
                    changed = used.changed() => {
                        if changed.is_err() {
                            break;
                        }
                        let now: Vec<PathBuf> = used.borrow_and_update().iter().map(|l| absolute(l)).collect();
                        for folder in now.iter().filter_map(|l| l.parent()) {
                            if !folders.iter().any(|f| f == folder) {
                                let _ = watcher.watch(folder, RecursiveMode::NonRecursive);
                                folders.push(folder.to_path_buf());
                            }
                        }
                        if let Ok(mut l) = libraries.lock() {
                            *l = now;
                        }
                    }
                }
            }
            drop(watcher);
        });
        Some(())
    }

    fn absolute(path: &Path) -> PathBuf {
        std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf())
    }
}
