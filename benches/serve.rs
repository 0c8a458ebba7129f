//! The load benchmark of `policyc serve` (issue 11, item 8): the service
//! started from the release binary on `127.0.0.1:0`, and clients of our
//! own over loopback, each phase bounded in time.
//!
//! ```text
//! cargo bench --bench serve              # every phase, about a minute
//! cargo bench --bench serve -- --quick   # shorter phases
//! cargo bench --bench serve -- --only=batch   # one phase: single, batch,
//!                                 # reload, watch, live or instructions
//! POLICYC_BENCH_SERVERS=old=/tmp/policyc-old,new=target/release/policyc \
//!     cargo bench --bench serve -- --only=single  # two builds, in turn
//! ```
//!
//! It measures, at 1 and 2 server threads: single decisions over
//! keep-alive connections (throughput, p50/p99, server CPU per decision
//! against `eval`'s), with and without `next_change`, and p99 at half the
//! maximum load; a JSON Lines batch against `eval --jobs N`; 1,000 reloads
//! under load (failed requests, decisions by a revision never announced);
//! and 10,000 open watch streams: on the system clock, each changing at
//! its own instant (memory, and each push's lateness after its instant),
//! and on the test clock, all changing at one instant (how long until
//! every push has arrived). Where valgrind is installed, it also counts
//! the instructions of a single decision against `eval`'s under callgrind,
//! a measure the machine's other load does not move.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeSet;
use std::io::Write as _;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

#[allow(dead_code)]
#[path = "../tests/support/binary.rs"]
mod binary;
#[path = "../tests/support/http.rs"]
mod http;
#[path = "support/population.rs"]
mod population;

use http::{Conn, Server};

const POLICY: &str = "policies/beijing-2021-10-30.policy";
const FACTS: &str = "examples/beijing/facts.json";
const NOW: &str = "2021-11-01T10:00:00%2B08:00";

/// How many watch streams are opening at a time: the opens are paced so
/// that the listen queue never overflows.
const OPENING: usize = 128;

/// The sum of fields `fields` (0 is the state) of a `/proc/.../stat`, in
/// clock ticks, as seconds.
fn stat_seconds(path: &str, fields: std::ops::Range<usize>) -> f64 {
    let stat = std::fs::read_to_string(path).unwrap_or_default();
    let all: Vec<&str> = stat
        .rsplit(')')
        .next()
        .unwrap_or("")
        .split_whitespace()
        .collect();
    let ticks: f64 = all.get(fields).map_or(0.0, |f| {
        f.iter().filter_map(|x| x.parse::<f64>().ok()).sum()
    });
    ticks / 100.0
}

/// CPU seconds a process has used (user + system).
fn cpu(pid: u32) -> f64 {
    stat_seconds(&format!("/proc/{pid}/stat"), 11..13)
}

/// CPU seconds used by the children this process has waited for.
fn children_cpu() -> f64 {
    stat_seconds("/proc/self/stat", 13..15)
}

/// The times the threads of a process have waited (voluntary context
/// switches, summed over its threads): each a handoff or a wakeup.
fn waits(pid: u32) -> u64 {
    let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
        return 0;
    };
    tasks
        .filter_map(|t| std::fs::read_to_string(t.ok()?.path().join("status")).ok())
        .filter_map(|status| {
            status
                .lines()
                .find_map(|l| l.strip_prefix("voluntary_ctxt_switches:"))
                .and_then(|v| v.trim().parse::<u64>().ok())
        })
        .sum()
}

/// Resident memory of a process, in MB.
fn rss_mb(pid: u32) -> f64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next()?.parse::<f64>().ok())
        .unwrap_or(0.0)
        / 1024.0
}

/// p50 and p99 of latencies, in microseconds.
fn percentiles(mut all: Vec<Duration>) -> (f64, f64) {
    all.sort();
    let at = |q: f64| {
        all.get(((all.len() as f64 - 1.0) * q) as usize)
            .map_or(0.0, |d| d.as_secs_f64() * 1e6)
    };
    (at(0.50), at(0.99))
}

/// Decides `people` in a closed loop on `clients` keep-alive connections
/// for `time`, each pacing itself to `rate` requests a second if given.
/// Throughput, latencies, failures.
fn load(
    server: &Server,
    people: &[String],
    clients: usize,
    time: Duration,
    query: &str,
    rate: Option<f64>,
) -> (f64, Vec<Duration>, u64) {
    let path = format!("/v1/policies/beijing_entry/decide?now={NOW}{query}");
    requests(server, ("POST", &path), people, clients, time, rate)
}

/// `GET /health/live` in a closed loop, as [`load`] decides: the fixed
/// cost of one HTTP request, with no body and nothing decided.
fn empty_load(server: &Server, clients: usize, time: Duration) -> (f64, Vec<Duration>, u64) {
    requests(
        server,
        ("GET", "/health/live"),
        &[String::new()],
        clients,
        time,
        None,
    )
}

/// `request` with each of `bodies` in turn, as [`load`] describes.
fn requests(
    server: &Server,
    (method, path): (&str, &str),
    people: &[String],
    clients: usize,
    time: Duration,
    rate: Option<f64>,
) -> (f64, Vec<Duration>, u64) {
    let stop = Instant::now() + time;
    let failed = Arc::new(AtomicU64::new(0));
    let people = Arc::new(people.to_vec());
    let threads: Vec<_> = (0..clients)
        .map(|c| {
            let (addr, people, failed) = (server.addr, Arc::clone(&people), Arc::clone(&failed));
            let (method, path) = (method.to_owned(), path.to_owned());
            std::thread::spawn(move || {
                let mut conn = Conn::new(addr);
                let mut latencies = Vec::new();
                let gap = rate.map(|r| Duration::from_secs_f64(clients as f64 / r));
                let mut next = Instant::now();
                let mut i = c;
                while Instant::now() < stop {
                    if let Some(gap) = gap {
                        let now = Instant::now();
                        if next > now {
                            std::thread::sleep(next - now);
                        }
                        next += gap;
                    }
                    let person = &people[i % people.len()];
                    i += clients;
                    let started = Instant::now();
                    let r = conn.request(
                        &method,
                        &path,
                        &[("content-type", "application/json")],
                        person.as_bytes(),
                    );
                    latencies.push(started.elapsed());
                    if r.status != 200 {
                        failed.fetch_add(1, Ordering::Relaxed);
                    }
                }
                latencies
            })
        })
        .collect();
    let began = Instant::now();
    let all: Vec<Duration> = threads
        .into_iter()
        .flat_map(|t| t.join().unwrap())
        .collect();
    let took = began.elapsed().as_secs_f64();
    (all.len() as f64 / took, all, failed.load(Ordering::Relaxed))
}

/// `eval` of `file` with `flags` on `jobs` threads: its CPU seconds,
/// throughput and decisions.
fn eval(file: &str, flags: &[&str], jobs: &str) -> (f64, f64, usize) {
    let args = eval_args(file, flags, jobs);
    let (started, cpu_before) = (Instant::now(), children_cpu());
    let child = binary::spawn(&args);
    let output = binary::finish(child, Vec::new());
    let took = started.elapsed().as_secs_f64();
    let n = output.stdout.iter().filter(|b| **b == b'\n').count();
    (children_cpu() - cpu_before, n as f64 / took, n)
}

/// The arguments of `policyc eval` of `file` with `flags` on `jobs`
/// threads.
fn eval_args<'a>(file: &'a str, flags: &[&'a str], jobs: &'a str) -> Vec<&'a str> {
    let mut args = vec!["eval", POLICY, "--facts", FACTS, "--now"];
    args.extend(["2021-11-01T10:00:00+08:00", "--input", file, "--jobs", jobs]);
    args.extend(flags);
    args
}

/// The servers measured, each with the label its lines start with: the
/// `policyc` built with this bench (no label), or those named by
/// `POLICYC_BENCH_SERVERS=LABEL=PATH,LABEL=PATH` (another build, to compare
/// old and new in one run: each measurement is taken of each in turn).
fn programs() -> Vec<(String, std::path::PathBuf)> {
    let Ok(named) = std::env::var("POLICYC_BENCH_SERVERS") else {
        let built = std::path::PathBuf::from(env!("CARGO_BIN_EXE_policyc"));
        return vec![(String::new(), built)];
    };
    named
        .split(',')
        .filter(|n| !n.is_empty())
        .map(|n| match n.split_once('=') {
            Some((label, path)) => (format!("{label}: "), path.into()),
            None => panic!("POLICYC_BENCH_SERVERS: `{n}` is not LABEL=PATH"),
        })
        .collect()
}

/// What [`singles`] and [`batches`] compare with: `eval`'s numbers.
struct Reference {
    /// CPU per decision, µs, plain and with `--next-change`.
    cpu: f64,
    nc_cpu: f64,
    /// Throughput on 1 thread, plain and with `--next-change`.
    tput: f64,
    nc_tput: f64,
    /// The same on 2 threads.
    tput2: f64,
    nc_tput2: f64,
    /// The people `eval` decides (JSON Lines), for [`singles`] to measure
    /// its CPU again beside each of its cells.
    file: String,
}

fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    // `-- --only=PHASE` runs that phase alone: `single`, `batch`,
    // `reload`, `watch`, `live` or `instructions`.
    let only = std::env::args().find_map(|a| a.strip_prefix("--only=").map(str::to_owned));
    let (single, batch) = match only.as_deref() {
        Some("watch") => return watches(quick),
        Some("live") => return live_watches(quick),
        Some("reload") => {
            let people = population::population(1000, population::SEED);
            let people: Vec<String> = people.lines().map(str::to_owned).collect();
            return reloads(&people, quick);
        }
        Some("instructions") => return instructions(quick),
        Some("single") => (true, false),
        Some("batch") => (false, true),
        None => (true, true),
        Some(other) => {
            panic!("no phase `{other}`: give single, batch, reload, watch, live or instructions")
        }
    };
    let phase = Duration::from_millis(if quick { 800 } else { 2000 });
    let people_n = if quick { 5_000 } else { 20_000 };
    let text = population::population(people_n, population::SEED);
    let people: Vec<String> = text.lines().map(str::to_owned).collect();
    // The batches (and `eval`, the reference) decide the people five
    // times over: long enough for CPU time, counted in ticks of 10 ms, to
    // be read within a few per cent.
    let batch_text = text.repeat(if quick { 1 } else { 5 });
    let file = binary::temp("serve-bench-people.jsonl");
    std::fs::write(&file, &batch_text).unwrap();
    let file = file.display().to_string();
    println!(
        "policyc serve load benchmark: {people_n} generated people; phases of {phase:?}; loopback only"
    );
    println!("(2 cores shared by everything on the machine: the numbers are indicative)\n");

    // eval, one thread: the reference CPU per decision.
    let (eval_s, tput, n) = eval(&file, &[], "1");
    let (eval_nc_s, nc_tput, _) = eval(&file, &["--next-change"], "1");
    let (cpu, nc_cpu) = (eval_s / n as f64 * 1e6, eval_nc_s / n as f64 * 1e6);
    println!(
        "eval --jobs 1: {tput:.0} decisions/s ({cpu:.1} µs each); with --next-change {nc_tput:.0}/s ({nc_cpu:.1} µs)"
    );
    let (_, nc_tput2, _) = eval(&file, &["--next-change"], "2");
    let (_, tput2, _) = eval(&file, &[], "2");
    println!("eval --jobs 2: {tput2:.0} decisions/s; with --next-change {nc_tput2:.0}/s\n");
    let reference = Reference {
        cpu,
        nc_cpu,
        tput,
        nc_tput,
        tput2,
        nc_tput2,
        file: file.clone(),
    };

    let programs = programs();
    for threads in ["1", "2"] {
        let servers: Vec<(&str, Server)> = programs
            .iter()
            .map(|(label, program)| {
                let args = ["--policies", POLICY, "--facts", FACTS, "--threads", threads];
                (label.as_str(), Server::start_program(program, &args))
            })
            .collect();
        let clients = if threads == "1" { 2 } else { 4 };
        for (_, server) in &servers {
            // Warm up.
            let _ = load(
                server,
                &people,
                clients,
                Duration::from_millis(200),
                "",
                None,
            );
        }
        if single {
            singles(&servers, threads, &people, phase, &reference);
        }
        if batch {
            batches(&servers, threads, &batch_text, &reference);
        }
        println!();
    }
    if only.is_none() {
        reloads(&people, quick);
        watches(quick);
        live_watches(quick);
        instructions(quick);
    }
}

/// Single decisions over keep-alive connections, by each of `servers` in
/// turn: the server CPU of an empty request, then of a decision with and
/// without `next_change` (throughput, latency, CPU against `eval`'s), and
/// latency at half that load.
fn singles(
    servers: &[(&str, Server)],
    threads: &str,
    people: &[String],
    phase: Duration,
    reference: &Reference,
) {
    let clients = if threads == "1" { 2 } else { 4 };
    // The fixed cost of one HTTP request: an empty one.
    let empty: Vec<f64> = servers
        .iter()
        .map(|(label, server)| {
            let pid = server.child.id();
            let (before, waited) = (cpu(pid), waits(pid));
            let (tput, lat, failed) = empty_load(server, clients, phase);
            let empty = (cpu(pid) - before) / lat.len() as f64 * 1e6;
            let waited = (waits(pid) - waited) as f64 / lat.len() as f64;
            println!(
                "{label}threads {threads}, empty requests (GET /health/live): {tput:.0} req/s, \
                 server CPU {empty:.1} µs/request, {waited:.2} waits a request, failed {failed}"
            );
            empty
        })
        .collect();
    for (name, query, flags) in [
        ("next_change", "", &["--next-change"][..]),
        ("no next_change", "&next_change=false", &[][..]),
    ] {
        for ((label, server), empty) in servers.iter().zip(&empty) {
            let pid = server.child.id();
            // `eval`'s CPU is taken again just before and after the cell,
            // so that the machine's drift moves both alike.
            let (eval_before, _, n_before) = eval(&reference.file, flags, "1");
            let (before, waited) = (cpu(pid), waits(pid));
            let (tput, lat, failed) = load(server, people, clients, phase, query, None);
            let used = cpu(pid) - before;
            let (eval_after, _, n_after) = eval(&reference.file, flags, "1");
            let eval_us = (eval_before + eval_after) / (n_before + n_after) as f64 * 1e6;
            let waited = (waits(pid) - waited) as f64 / lat.len() as f64;
            let per = used / lat.len() as f64 * 1e6;
            let (p50, p99) = percentiles(lat);
            println!(
                "{label}threads {threads}, single, {name}: {tput:.0} req/s, p50 {p50:.0} µs, p99 {p99:.0} µs, \
                 server CPU {per:.1} µs/decision ({:.1}× eval's {eval_us:.1} µs beside it, HTTP included; \
                 {:.1} µs once an empty request's is taken off: {:.1}×), {:.2} waits a request, failed {failed}",
                per / eval_us,
                per - empty,
                (per - empty) / eval_us,
                waited
            );
            let (half_tput, lat, failed) =
                load(server, people, clients, phase, query, Some(tput / 2.0));
            let (p50, p99) = percentiles(lat);
            println!(
                "{label}threads {threads}, single, {name}, half load ({half_tput:.0} req/s): p50 {p50:.0} µs, p99 {p99:.0} µs, failed {failed}"
            );
        }
    }
}

/// A JSON Lines batch of `batch` by each of `servers` in turn, with and
/// without `next_change`: throughput, and server CPU against `eval`'s.
fn batches(servers: &[(&str, Server)], threads: &str, batch: &str, reference: &Reference) {
    let batch_n = batch.lines().count();
    let one = threads == "1";
    for (name, query, tput, eval_us) in [
        (
            "next_change",
            "",
            if one {
                reference.nc_tput
            } else {
                reference.nc_tput2
            },
            reference.nc_cpu,
        ),
        (
            "no next_change",
            "&next_change=false",
            if one { reference.tput } else { reference.tput2 },
            reference.cpu,
        ),
    ] {
        for (label, server) in servers {
            let pid = server.child.id();
            let (before, waited) = (cpu(pid), waits(pid));
            let started = Instant::now();
            let r = server.connect().request_streaming(
                "POST",
                &format!("/v1/policies/beijing_entry/decide?now={NOW}{query}"),
                &[("content-type", "application/x-ndjson")],
                batch.as_bytes().to_vec(),
            );
            let took = started.elapsed().as_secs_f64();
            let used = cpu(pid) - before;
            let waited = waits(pid) - waited;
            let lines = r.body.iter().filter(|b| **b == b'\n').count();
            assert_eq!(lines, batch_n);
            let got = lines as f64 / took;
            let per = used / lines as f64 * 1e6;
            let against = if tput > 0.0 {
                format!(
                    " ({:.0} % of eval's {tput:.0}/s by wall time)",
                    got / tput * 100.0
                )
            } else {
                String::new()
            };
            // By CPU: what the machine's other load does not skew.
            println!(
                "{label}threads {threads}, batch of {lines}, {name}: {got:.0} decisions/s{against}; \
                 server CPU {per:.1} µs/decision against eval's {eval_us:.1} µs: \
                 {:.0} % of eval's throughput per CPU second; {:.1} waits per 1,000 decisions",
                eval_us / per * 100.0,
                waited as f64 / lines as f64 * 1e3
            );
        }
    }
}

/// The service on two threads with the admin token `t` (kept in `dir`).
fn admin_server(dir: &std::path::Path, policies: &str, extra: &[&str]) -> Server {
    let token = dir.join("token");
    std::fs::write(&token, "t").unwrap();
    let token = token.display().to_string();
    let mut args = vec![
        "--policies",
        policies,
        "--facts",
        FACTS,
        "--threads",
        "2",
        "--admin-token-file",
        &token,
    ];
    args.extend(extra);
    Server::start(&args)
}

/// 1,000 reloads (by rename, a broken version every tenth) under load.
fn reloads(people: &[String], quick: bool) {
    let dir = binary::temp("serve-bench-reload");
    // The policy uses libraries beside it.
    binary::copy_libraries(&dir);
    let policy = dir.join("beijing.policy");
    let original = std::fs::read_to_string(POLICY).unwrap();
    std::fs::write(&policy, &original).unwrap();
    let server = admin_server(&dir, &policy.display().to_string(), &[]);
    let stop = Arc::new(AtomicBool::new(false));
    let seen: Arc<Mutex<BTreeSet<(String, String)>>> = Arc::default();
    let failed = Arc::new(AtomicU64::new(0));
    let requests = Arc::new(AtomicU64::new(0));
    let clients: Vec<_> = (0..2)
        .map(|c| {
            let (addr, stop, seen, failed, requests) = (
                server.addr,
                stop.clone(),
                seen.clone(),
                failed.clone(),
                requests.clone(),
            );
            let people = people.to_vec();
            std::thread::spawn(move || {
                let mut conn = Conn::new(addr);
                let mut i = c;
                while !stop.load(Ordering::Relaxed) {
                    let r = conn.request(
                        "POST",
                        &format!("/v1/policies/beijing_entry/decide?now={NOW}&next_change=false"),
                        &[("content-type", "application/json")],
                        people[i % people.len()].as_bytes(),
                    );
                    i += 2;
                    requests.fetch_add(1, Ordering::Relaxed);
                    if r.status != 200 {
                        failed.fetch_add(1, Ordering::Relaxed);
                        continue;
                    }
                    let v = r.json();
                    let version = v["policy"]["version"].as_str().unwrap_or("").to_owned();
                    let revision = v["revisions"]["policy"].as_str().unwrap_or("").to_owned();
                    seen.lock().unwrap().insert((version, revision));
                }
            })
        })
        .collect();
    let target = if quick { 200 } else { 1000 };
    let started = Instant::now();
    let mut announced = BTreeSet::new();
    let (mut good, mut broken) = (0, 0);
    for i in 0..target {
        let text = if i % 10 == 9 {
            broken += 1;
            original.replace("outcomes green < popup", "outcomes green <")
        } else {
            good += 1;
            original.replace("version \"2021-10-30\"", &format!("version \"v{i}\""))
        };
        let tmp = dir.join("beijing.tmp");
        std::fs::write(&tmp, &text).unwrap();
        std::fs::rename(&tmp, &policy).unwrap();
        let r = server.request("POST", "/v1/reload", &[("authorization", "Bearer t")], b"");
        let status = r.json();
        let revision = status["policies"][0]["revision"]
            .as_str()
            .unwrap_or("")
            .to_owned();
        let version = if i % 10 == 9 {
            None
        } else {
            Some(format!("v{i}"))
        };
        if let Some(v) = version {
            announced.insert((v, revision));
        }
    }
    let took = started.elapsed().as_secs_f64();
    stop.store(true, Ordering::SeqCst);
    for c in clients {
        c.join().unwrap();
    }
    let seen = seen.lock().unwrap();
    let unannounced = seen
        .iter()
        .filter(|(v, _)| v != "2021-10-30" && !v.is_empty())
        .filter(|s| !announced.contains(*s))
        .count();
    let metrics = server.get("/metrics").text();
    let count = |name: &str| {
        metrics
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .unwrap_or("")
            .trim()
            .to_owned()
    };
    println!(
        "reloads: {target} in {took:.1} s ({good} good, {broken} broken) under load of {} requests: \
         failed requests {}, decisions by an unannounced revision {unannounced}; \
         metrics: succeeded {}, failed {}",
        requests.load(Ordering::Relaxed),
        failed.load(Ordering::Relaxed),
        count("policyc_reloads_succeeded_total "),
        count("policyc_reloads_failed_total "),
    );
    let _ = std::io::stdout().flush();
}

/// 10,000 open watch streams on the test clock: memory, and how long after
/// the clock reaches their `next_change` each push arrives.
fn watches(quick: bool) {
    let n = if quick { 2_000 } else { 10_000 };
    let dir = binary::temp("serve-bench-watch");
    let _ = std::fs::create_dir_all(&dir);
    let server = admin_server(&dir, POLICY, &["--test-clock", "2021-11-01T02:00:00Z"]);
    let pid = server.child.id();
    let idle = rss_mb(pid);
    let addr = server.addr;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let person = r#"{"id": "W", "stays": [{"phone": "1", "region": "152923", "from": "2021-10-24T08:00:00+08:00", "to": "2021-10-26T18:00:00+08:00"}]}"#;
    let (delays, memory) = runtime.block_on(async move {
        use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
        let opened = Arc::new(tokio::sync::Semaphore::new(0));
        let opening = Arc::new(tokio::sync::Semaphore::new(OPENING));
        let moved: Arc<Mutex<Option<Instant>>> = Arc::default();
        let mut tasks = Vec::new();
        for _ in 0..n {
            let (opened, moved) = (opened.clone(), moved.clone());
            let one = Arc::clone(&opening).acquire_owned().await.unwrap();
            tasks.push(tokio::spawn(async move {
                let mut s = tokio::net::TcpStream::connect(addr).await.ok()?;
                let req = format!(
                    "POST /v1/policies/beijing_entry/watch HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{person}",
                    person.len()
                );
                s.write_all(req.as_bytes()).await.ok()?;
                let mut got = Vec::new();
                let mut buf = [0u8; 4096];
                let count = |got: &[u8]| got.windows(15).filter(|w| w == b"event: decision").count();
                while count(&got) < 1 {
                    let k = s.read(&mut buf).await.ok()?;
                    if k == 0 { return None; }
                    got.extend_from_slice(&buf[..k]);
                }
                drop(one);
                opened.add_permits(1);
                while count(&got) < 2 {
                    let k = s.read(&mut buf).await.ok()?;
                    if k == 0 { return None; }
                    got.extend_from_slice(&buf[..k]);
                }
                let at = (*moved.lock().unwrap())?;
                Some(at.elapsed())
            }));
        }
        let _ = opened.acquire_many(n as u32).await;
        let memory = rss_mb(pid);
        // The instant of every stream's next_change: 2021-11-09T18:00+08:00.
        let body = r#"{"set": "2021-11-09T10:00:00Z"}"#;
        let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
        let req = format!(
            "POST /v1/test/clock HTTP/1.1\r\nhost: x\r\nauthorization: Bearer t\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
            body.len()
        );
        *moved.lock().unwrap() = Some(Instant::now());
        s.write_all(req.as_bytes()).await.unwrap();
        let mut delays = Vec::new();
        for t in tasks {
            if let Ok(Some(d)) = t.await {
                delays.push(d);
            }
        }
        (delays, memory)
    });
    let got = delays.len();
    let max = delays.iter().max().copied().unwrap_or_default();
    let (p50, p99) = percentiles(delays);
    println!(
        "watch, test clock: {n} open streams all changing at one instant: server memory {memory:.0} MB \
         ({idle:.0} MB idle); pushes received {got}, delay after the instant p50 {:.1} ms, p99 {:.1} ms, \
         max {:.1} ms (the last push: the time to tell them all)",
        p50 / 1e3,
        p99 / 1e3,
        max.as_secs_f64() * 1e3
    );
}

/// 10,000 open watch streams on the system clock, each person's decision
/// changing at an instant of its own (a stay in a case county leaving the
/// 14-day window), spread over a few seconds: the server's memory with
/// every stream open, and each push's lateness after its instant, from
/// the client's own clock (one machine, one clock).
fn live_watches(quick: bool) {
    let n: u32 = if quick { 2_000 } else { 10_000 };
    let server = Server::start(&["--policies", POLICY, "--facts", FACTS, "--threads", "2"]);
    let pid = server.child.id();
    let idle = rss_mb(pid);
    let addr = server.addr;
    let micros = |t: std::time::SystemTime| {
        t.duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_micros()).unwrap_or(0))
    };
    // The instants: from 8 s from now (the streams open meanwhile), over 4 s.
    let first = micros(std::time::SystemTime::now()) + 8_000_000;
    let spread = 4_000_000 / i64::from(n);
    let day = 86_400_000_000i64;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let (lateness, memory, opened_in, late_open) = runtime.block_on(async move {
        use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
        let opened = Arc::new(tokio::sync::Semaphore::new(0));
        let opening = Arc::new(tokio::sync::Semaphore::new(OPENING));
        let began = Instant::now();
        let mut tasks = Vec::new();
        for i in 0..n {
            let opened = opened.clone();
            let one = Arc::clone(&opening).acquire_owned().await.unwrap();
            let at = first + i64::from(i) * spread;
            let to = jiff::Timestamp::from_microsecond(at - 14 * day).unwrap();
            let person = format!(
                r#"{{"id": "W{i}", "stays": [{{"phone": "1", "region": "152923", "from": "2026-01-01T08:00:00Z", "to": "{to}"}}]}}"#
            );
            tasks.push(tokio::spawn(async move {
                let req = format!(
                    "POST /v1/policies/beijing_entry/watch HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{person}",
                    person.len()
                );
                let watched = async {
                    let mut s = tokio::net::TcpStream::connect(addr).await.ok()?;
                    s.write_all(req.as_bytes()).await.ok()?;
                    let mut got = Vec::new();
                    let mut buf = [0u8; 4096];
                    let count =
                        |got: &[u8]| got.windows(15).filter(|w| w == b"event: decision").count();
                    while count(&got) < 1 {
                        let k = s.read(&mut buf).await.ok()?;
                        if k == 0 {
                            return None;
                        }
                        got.extend_from_slice(&buf[..k]);
                    }
                    drop(one);
                    opened.add_permits(1);
                    while count(&got) < 2 {
                        let k = s.read(&mut buf).await.ok()?;
                        if k == 0 {
                            return None;
                        }
                        got.extend_from_slice(&buf[..k]);
                    }
                    Some(micros(std::time::SystemTime::now()) - at)
                };
                tokio::time::timeout(Duration::from_secs(30), watched)
                    .await
                    .ok()
                    .flatten()
            }));
        }
        let _ = tokio::time::timeout(Duration::from_secs(20), opened.acquire_many(n)).await;
        let opened_in = began.elapsed();
        let memory = rss_mb(pid);
        let late_open = micros(std::time::SystemTime::now()) > first;
        let mut lateness = Vec::new();
        for t in tasks {
            if let Ok(Some(d)) = t.await {
                lateness.push(d);
            }
        }
        (lateness, memory, opened_in, late_open)
    });
    let peak = std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.split_whitespace().next()?.parse::<f64>().ok())
        .unwrap_or(0.0)
        / 1024.0;
    let got = lateness.len();
    let max = lateness.iter().max().copied().unwrap_or_default();
    let min = lateness.iter().min().copied().unwrap_or_default();
    let within = lateness.iter().filter(|d| **d <= 10_000).count();
    let (p50, p99) = percentiles(
        lateness
            .into_iter()
            .map(|d| Duration::from_micros(d.max(0).unsigned_abs()))
            .collect(),
    );
    println!(
        "watch, system clock: {n} open streams (opened in {:.1} s{}): server memory {memory:.0} MB \
         ({idle:.0} MB idle, peak {peak:.0} MB); pushes received {got}, {within} within 10 ms; \
         lateness after the instant p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms (min {:.2} ms)",
        opened_in.as_secs_f64(),
        if late_open {
            ", after the first instant"
        } else {
            ""
        },
        p50 / 1e3,
        p99 / 1e3,
        max as f64 / 1e3,
        min as f64 / 1e3,
    );
}

/// Single decisions counted in instructions under callgrind, which the
/// machine's other load does not move (the kernel's share of a request is
/// not counted; the CPU cells of [`singles`] count it): the service on one
/// thread answers the first `few` and then the first `many` people, one
/// request each on one keep-alive connection, and so does `eval` as JSON
/// Lines; the difference of the two runs is what the people between cost,
/// free of starting and stopping. The same for empty requests (`GET
/// /health/live`), the fixed cost of one HTTP request.
fn instructions(quick: bool) {
    let valgrind = std::process::Command::new("valgrind")
        .arg("--version")
        .output();
    if !valgrind.is_ok_and(|v| v.status.success()) {
        println!("instructions: skipped, valgrind is not installed");
        return;
    }
    let (few, many) = if quick { (100, 600) } else { (200, 1200) };
    let text = population::population(many, population::SEED);
    let people: Vec<&str> = text.lines().collect();
    let program = std::path::PathBuf::from(env!("CARGO_BIN_EXE_policyc"));
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let callgrind = |name: &str| {
        let out = binary::temp(&format!("serve-bench-{name}.cg"));
        let under = vec![
            "valgrind".to_owned(),
            "--tool=callgrind".to_owned(),
            format!("--callgrind-out-file={}", out.display()),
        ];
        (under, out)
    };
    let per_person = |counts: [u64; 2]| (counts[1] - counts[0]) as f64 / (many - few) as f64;
    let eval_ir = |flags: &[&str]| {
        per_person([few, many].map(|n| {
            let file = binary::temp(&format!("serve-bench-ir-{n}.jsonl"));
            let lines: String = people[..n].iter().map(|p| format!("{p}\n")).collect();
            std::fs::write(&file, lines).unwrap();
            let (under, out) = callgrind(&format!("eval-{n}"));
            let file = file.display().to_string();
            let args = eval_args(&file, flags, "1");
            let status = std::process::Command::new(&under[0])
                .args(&under[1..])
                .arg(&program)
                .args(&args)
                .current_dir(root)
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::null())
                .status()
                .unwrap();
            assert!(status.success(), "eval under callgrind failed");
            totals(&out)
        }))
    };
    let served_ir = |method: &str, path: &str, body: bool| {
        per_person([few, many].map(|n| {
            let (under, out) = callgrind(&format!("serve-{n}"));
            let args = ["--policies", POLICY, "--facts", FACTS, "--threads", "1"];
            let mut server = Server::start_under(&under, &program, &args);
            let mut conn = server.connect();
            for person in &people[..n] {
                let body = if body { person.as_bytes() } else { b"" };
                let r = conn.request(method, path, &[("content-type", "application/json")], body);
                assert_eq!(r.status, 200, "{}", r.text());
            }
            drop(conn);
            server.signal("TERM");
            server.wait();
            totals(&out)
        }))
    };
    println!(
        "instructions (callgrind, one server thread, people {few} to {many} on one connection):"
    );
    let empty = served_ir("GET", "/health/live", false);
    println!(
        "  empty request (GET /health/live): {:.1}K instructions",
        empty / 1e3
    );
    for (name, query, flags) in [
        ("next_change", "", &["--next-change"][..]),
        ("no next_change", "&next_change=false", &[][..]),
    ] {
        let eval = eval_ir(flags);
        let path = format!("/v1/policies/beijing_entry/decide?now={NOW}{query}");
        let decided = served_ir("POST", &path, true);
        println!(
            "  single, {name}: {:.1}K a decision against eval's {:.1}K: {:.2}× with HTTP; \
             {:.1}K once an empty request's is taken off: {:.2}× eval's",
            decided / 1e3,
            eval / 1e3,
            decided / eval,
            (decided - empty) / 1e3,
            (decided - empty) / eval
        );
    }
}

/// The instructions a callgrind profile counted in all.
fn totals(profile: &std::path::Path) -> u64 {
    let text = std::fs::read_to_string(profile).unwrap();
    text.lines()
        .find_map(|l| {
            l.strip_prefix("totals:")
                .or_else(|| l.strip_prefix("summary:"))
        })
        .and_then(|n| n.split_whitespace().next()?.parse().ok())
        .unwrap_or_else(|| panic!("no totals in {}", profile.display()))
}
