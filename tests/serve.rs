//! `policyc serve`, started on `127.0.0.1:0` and spoken to over HTTP:
//! decisions equal to `eval`'s, reloads under load, pushed decisions on a
//! test clock, shutdown, the decision log, and bad input.

#[allow(dead_code)]
#[path = "support/binary.rs"]
mod binary;
#[path = "support/http.rs"]
mod http;
#[allow(dead_code)]
mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use http::{Events, Server};
use serde_json::Value;

const TOKEN: &str = "s3cret-token";

/// A fresh folder for one test's files.
fn folder(name: &str) -> PathBuf {
    let dir = binary::temp(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| unreachable!("{e}"));
    dir
}

/// The Beijing policy (with the libraries it uses) and its facts copied
/// into `dir`, and the token file.
fn setup(dir: &Path) -> (PathBuf, PathBuf, PathBuf) {
    let policy = dir.join("beijing.policy");
    let facts = dir.join("facts.json");
    let token = dir.join("token");
    std::fs::write(&policy, support::read(support::POLICY)).unwrap_or_else(|e| unreachable!("{e}"));
    binary::copy_libraries(dir);
    std::fs::write(&facts, support::read(support::FACTS)).unwrap_or_else(|e| unreachable!("{e}"));
    std::fs::write(&token, format!("{TOKEN}\n")).unwrap_or_else(|e| unreachable!("{e}"));
    (policy, facts, token)
}

/// Writes `text` to `path` as a new file renamed over the old one.
fn replace(path: &Path, text: &str) {
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, text).unwrap_or_else(|e| unreachable!("{e}"));
    std::fs::rename(&tmp, path).unwrap_or_else(|e| unreachable!("{e}"));
}

fn path_str(p: &Path) -> String {
    p.display().to_string()
}

/// The query of an instant.
fn at(now: &str) -> String {
    now.replace('+', "%2B")
}

/// A decision over HTTP with what the service adds taken off, after
/// checking it.
fn plain(mut decision: Value) -> Value {
    let id = decision["decision_id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert_eq!(id.len(), 36, "a UUID: {decision}");
    assert_eq!(&id[14..15], "7", "a UUIDv7: {id}");
    let revisions = &decision["revisions"];
    assert!(
        revisions["policy"]
            .as_str()
            .is_some_and(|r| r.starts_with("sha256:"))
    );
    assert!(
        revisions["facts"]
            .as_str()
            .is_some_and(|r| r.starts_with("sha256:"))
    );
    if let Value::Object(map) = &mut decision {
        map.remove("decision_id");
        map.remove("revisions");
    }
    decision
}

/// `eval`'s decisions of `input` (JSON Lines) at `now` with `flags`.
fn eval(now: &str, input: &str, flags: &[&str]) -> Vec<Value> {
    run("eval", now, input, flags)
}

/// `policyc COMMAND` of the Beijing policy and facts on `input` at `now`,
/// with `flags`: its output lines.
fn run(command: &str, now: &str, input: &str, flags: &[&str]) -> Vec<Value> {
    let mut args = vec![
        command,
        support::POLICY,
        "--facts",
        support::FACTS,
        "--now",
        now,
        "--input",
        "-",
    ];
    args.extend(flags);
    binary::lines(&binary::run(&args, input))
}

/// The service on `policies` (a file or folder) and `facts`, with `extra`.
fn start(policies: &Path, facts: &Path, extra: &[&str]) -> Server {
    let (policies, facts) = (path_str(policies), path_str(facts));
    let mut args = vec!["--policies", &policies, "--facts", &facts];
    args.extend(extra);
    Server::start(&args)
}

fn beijing_server(extra: &[&str]) -> Server {
    let mut args = vec!["--policies", support::POLICY, "--facts", support::FACTS];
    args.extend(extra);
    Server::start(&args)
}

#[test]
fn every_example_case_decided_over_http_equals_eval() {
    let server = beijing_server(&[]);
    let (policy, _) = support::beijing();
    let mut cases = support::cases(&policy, &support::read("examples/beijing/cases.jsonl"));
    cases.extend(support::cases(
        &policy,
        &support::read("tests/corpus/decide/beijing-boundaries.jsonl"),
    ));
    assert!(cases.len() > 20);
    for case in &cases {
        let now = case.json["now"].as_str().unwrap_or_default();
        for (query, flags) in [
            ("", vec!["--next-change"]),
            (
                "&next_change=false&witnesses=true&remedies=true",
                vec!["--witnesses", "--remedies"],
            ),
        ] {
            let r = server.post(
                &format!("/v1/policies/beijing_entry/decide?now={}{query}", at(now)),
                &case.person,
            );
            assert_eq!(r.status, 200, "{}: {}", case.name, r.text());
            assert_eq!(r.header("content-type"), Some("application/json"));
            let expected = eval(now, &case.person, &flags);
            assert_eq!(vec![plain(r.json())], expected, "{}", case.name);
        }
    }
    // The explanation, as `explain --format json` gives it.
    let case = &cases[1];
    let now = case.json["now"].as_str().unwrap_or_default();
    let r = server.post(
        &format!(
            "/v1/policies/beijing_entry/decide?now={}&explain=true&lang=en",
            at(now)
        ),
        &case.person,
    );
    let explain = run(
        "explain",
        now,
        &case.person,
        &["--format", "json", "--lang", "en"],
    );
    assert_eq!(vec![plain(r.json())], explain);
}

#[test]
fn a_batch_is_streamed_in_order_with_errors_in_place_as_eval_gives_it() {
    let server = beijing_server(&["--max-line-bytes", "4000"]);
    let people = support::read("examples/beijing/people.jsonl");
    let mut input = String::new();
    for (i, line) in people.lines().enumerate() {
        input.push_str(line);
        input.push('\n');
        if i == 2 {
            input.push_str("{\"stays\": [{\"region\": \"15292\"}]}\n");
            input.push_str("not json\n");
            input.push_str(&format!("{{\"id\": \"{}\"}}\n", "x".repeat(5000)));
        }
    }
    let now = "2021-11-01T10:00:00+08:00";
    let r = server.request(
        "POST",
        &format!("/v1/policies/beijing_entry/decide?now={}", at(now)),
        &[("content-type", "application/x-ndjson")],
        input.as_bytes(),
    );
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-type"), Some("application/x-ndjson"));
    let got: Vec<Value> = r
        .text()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| unreachable!("{e}: {l}")))
        .map(|v: Value| {
            if v.get("decision_id").is_some() {
                plain(v)
            } else {
                v
            }
        })
        .collect();
    let expected = eval(now, &input, &["--next-change", "--max-line-bytes", "4000"]);
    assert_eq!(got.len(), people.lines().count() + 3);
    assert_eq!(got, expected);
    assert_eq!(got[3]["line"], 4);
    assert!(
        got[5]["error"]
            .as_str()
            .is_some_and(|e| e.contains("longer than 4000 bytes"))
    );
}

/// The version a decision was made by, and its revision.
fn revision(decision: &Value) -> (String, String) {
    (
        decision["policy"]["version"]
            .as_str()
            .unwrap_or_default()
            .to_owned(),
        decision["revisions"]["policy"]
            .as_str()
            .unwrap_or_default()
            .to_owned(),
    )
}

/// The revision serving `file` in the status, and whether it has failed.
fn serving(server: &Server) -> (String, bool, String) {
    let status = server.get("/v1/status").json();
    let policy = &status["policies"][0];
    (
        policy["revision"].as_str().unwrap_or_default().to_owned(),
        !status["failures"].as_array().is_none_or(Vec::is_empty),
        policy["facts_revision"]
            .as_str()
            .unwrap_or_default()
            .to_owned(),
    )
}

/// Waits (briefly) until `done` holds of the status.
fn until(server: &Server, what: &str, mut done: impl FnMut(&(String, bool, String)) -> bool) {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let s = serving(server);
        if done(&s) {
            return;
        }
        assert!(Instant::now() < deadline, "{what}: {s:?}");
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// A response seen under load: when its request started, its version,
/// revision and status.
type Seen = (Instant, String, String, u16);

#[test]
fn reloads_under_load_never_fail_a_request_nor_serve_a_broken_version() {
    let dir = folder("reload");
    let (policy, facts, token) = setup(&dir);
    let original = support::read(support::POLICY);
    let server = start(&dir, &facts, &["--admin-token-file", &path_str(&token)]);
    let person = r#"{"id": "L", "stays": [{"phone": "1", "region": "152923", "from": "2021-10-24T08:00:00+08:00", "to": "2021-10-26T18:00:00+08:00"}]}"#;
    // Each response: when its request started, and its version and revision.
    let seen: Arc<Mutex<Vec<Seen>>> = Arc::default();
    let stop = Arc::new(AtomicBool::new(false));
    let clients: Vec<_> = (0..2)
        .map(|_| {
            let (seen, stop, addr) = (Arc::clone(&seen), Arc::clone(&stop), server.addr);
            std::thread::spawn(move || {
                let mut conn = http::Conn::new(addr);
                while !stop.load(Ordering::SeqCst) {
                    let started = Instant::now();
                    let r = conn.request(
                        "POST",
                        "/v1/policies/beijing_entry/decide?now=2021-11-01T10:00:00%2B08:00",
                        &[("content-type", "application/json")],
                        person.as_bytes(),
                    );
                    let (version, rev) = if r.status == 200 {
                        revision(&r.json())
                    } else {
                        Default::default()
                    };
                    seen.lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .push((started, version, rev, r.status));
                }
            })
        })
        .collect();
    // The revisions that were served, by version; and when each took over.
    let mut good: BTreeMap<String, String> = BTreeMap::new();
    let mut swaps: Vec<(Instant, Instant, String)> = Vec::new();
    let mut broken = BTreeSet::new();
    let began = Instant::now();
    let mut i = 0;
    while began.elapsed() < Duration::from_secs(4) || i < 6 {
        i += 1;
        if i % 4 == 0 {
            // A broken version, by rename and in place: never served.
            let text = original.replace("outcomes green < popup", "outcomes green < < popup");
            if i % 8 == 0 {
                replace(&policy, &text)
            } else {
                std::fs::write(&policy, &text).unwrap_or_default()
            }
            broken.insert(i);
            until(&server, "the broken version fails", |(_, failed, _)| {
                *failed
            });
            continue;
        }
        let version = format!("v{i}");
        let text = original.replace("version \"2021-10-30\"", &format!("version \"{version}\""));
        let written = Instant::now();
        if i % 2 == 0 {
            std::fs::write(&policy, &text).unwrap_or_default()
        } else {
            replace(&policy, &text)
        }
        if i % 3 == 0 {
            // The facts change too.
            let facts_text = support::read(support::FACTS)
                .replace("\"620102\"", &format!("\"620102\", \"1{i:05}\""));
            replace(&facts, &facts_text);
        }
        let mut rev = String::new();
        until(&server, "the new version serves", |(r, failed, _)| {
            !failed && !good.values().any(|g| g == r) && !r.is_empty() && {
                rev = r.clone();
                true
            }
        });
        good.insert(version.clone(), rev);
        swaps.push((written, Instant::now(), version));
    }
    // The admin endpoint reloads too.
    reload(&server);
    stop.store(true, Ordering::SeqCst);
    for c in clients {
        let _ = c.join();
    }
    let seen = seen.lock().unwrap_or_else(|e| e.into_inner());
    assert!(
        seen.len() > 50,
        "the clients decided only {} times",
        seen.len()
    );
    let revisions: BTreeSet<&String> = good.values().collect();
    for (started, version, rev, status) in seen.iter() {
        assert_eq!(*status, 200, "a request failed");
        if version == "2021-10-30" {
            continue;
        }
        // One revision, and one that was announced as good for its version.
        assert_eq!(good.get(version), Some(rev), "{version} served as {rev}");
        assert!(revisions.contains(rev));
        // A request started after a swap was seen, and before the next
        // write, uses the new version.
        for pair in swaps.windows(2) {
            let ((_, seen_at, v), (next_write, _, _)) = (&pair[0], &pair[1]);
            if started > seen_at && started < next_write {
                assert_eq!(version, v, "a request after the swap to {v} used {version}");
            }
        }
    }
    let status = server.get("/metrics").text();
    assert!(status.contains("policyc_reloads_succeeded_total"));
    assert!(swaps.len() >= 4 && !broken.is_empty());
}

/// `POST /v1/reload` with the admin token: the status after it.
fn reload(server: &Server) -> http::Response {
    let r = server.request(
        "POST",
        "/v1/reload",
        &[("authorization", &format!("Bearer {TOKEN}"))],
        b"",
    );
    assert_eq!(r.status, 200, "{}", r.text());
    r
}

/// Sets or advances the service's test clock (`body` as the endpoint
/// takes it); its instant after.
fn set_clock(server: &Server, body: &str) -> String {
    let r = server.request(
        "POST",
        "/v1/test/clock",
        &[
            ("authorization", &format!("Bearer {TOKEN}")),
            ("content-type", "application/json"),
        ],
        body.as_bytes(),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    r.json()["now"].as_str().unwrap_or_default().to_owned()
}

#[test]
fn a_watch_stream_gets_each_change_at_its_instant() {
    let dir = folder("watch");
    let (policy, facts, token) = setup(&dir);
    let token = path_str(&token);
    let server = start(
        &policy,
        &facts,
        &[
            "--admin-token-file",
            &token,
            "--test-clock",
            "2021-11-01T02:00:00Z",
        ],
    );
    let clock = |body: &str| set_clock(&server, body);
    let exposed = r#"{"id": "W", "stays": [{"phone": "1", "region": "152923", "from": "2021-10-24T08:00:00+08:00", "to": "2021-10-26T18:00:00+08:00"}]}"#;
    let clean = r#"{"id": "C", "stays": [{"phone": "1", "region": "130102", "from": "2021-10-25T08:00:00+08:00", "to": "2021-10-27T18:00:00+08:00"}]}"#;
    let mut watched = Events::open(server.addr, "/v1/policies/beijing_entry/watch", exposed)
        .unwrap_or_else(|r| unreachable!("{}: {}", r.status, r.text()));
    let mut other = Events::open(server.addr, "/v1/policies/beijing_entry/watch", clean)
        .unwrap_or_else(|r| unreachable!("{}: {}", r.status, r.text()));
    let first = watched.next().unwrap_or_else(|| unreachable!());
    assert_eq!(first.name, "decision");
    assert_eq!(first.data["reason"], "initial");
    assert_eq!(first.data["decision"]["outcome"], "popup");
    assert_eq!(first.data["decision"]["now"], "2021-11-01T10:00:00+08:00");
    let change = first.data["decision"]["next_change"].clone();
    let instant = change["at"].as_str().unwrap_or_default().to_owned();
    assert_eq!(instant, "2021-11-09T18:00:00+08:00");
    assert_eq!(
        other.next().map(|e| e.data["decision"]["outcome"].clone()),
        Some("green".into())
    );
    // A second before: nothing.
    clock(r#"{"set": "2021-11-09T09:59:59Z"}"#);
    assert!(watched.next_within(Duration::from_millis(300)).is_none());
    // At the instant: the decision of `next_change`.
    assert_eq!(
        clock(r#"{"set": "2021-11-09T10:00:00Z"}"#),
        "2021-11-09T10:00:00Z"
    );
    let pushed = watched.next().unwrap_or_else(|| unreachable!());
    assert_eq!(pushed.data["reason"], "next_change");
    assert_eq!(pushed.data["decision"]["outcome"], change["outcome"]);
    assert!(
        pushed.data["decision"]["now"]
            .as_str()
            .is_some_and(|n| n.starts_with("2021-11-09T18:00:00")),
        "{pushed:?}"
    );
    // New facts: the clean traveller's county has a case now.
    let new_facts = support::read(support::FACTS).replace("\"620102\"", "\"620102\", \"130102\"");
    replace(&facts, &new_facts);
    let pushed = other.next().unwrap_or_else(|| unreachable!());
    assert_eq!(pushed.data["reason"], "facts");
    assert_eq!(pushed.data["decision"]["outcome"], "popup");
    // A new version of the policy with another message.
    let text = support::read(support::POLICY).replace("请按照防疫要求暂缓来京", "请暂缓来京");
    replace(&policy, &text);
    let pushed = other.next().unwrap_or_else(|| unreachable!());
    assert_eq!(pushed.data["reason"], "policy");
    assert_eq!(pushed.data["decision"]["message"], "请暂缓来京");
    assert_eq!(watch_streams(&server), "2");
    // SIGTERM: each stream ends with a last event, and the service exits.
    let mut server = server;
    server.signal("TERM");
    for events in [&mut watched, &mut other] {
        let last = events.next().unwrap_or_else(|| unreachable!());
        assert_eq!(
            (last.name.as_str(), &last.data["reason"]),
            ("end", &Value::from("shutdown"))
        );
        assert!(events.next().is_none());
    }
    assert_eq!(server.wait(), Some(0));
}

#[test]
fn sigterm_during_a_batch_finishes_it() {
    for threads in ["1", "2"] {
        sigterm_during_a_batch_on(threads);
    }
}

/// A batch that waits for its first answers before it sends the rest,
/// SIGTERM between: on `threads` threads.
fn sigterm_during_a_batch_on(threads: &str) {
    let server = beijing_server(&["--threads", threads]);
    let person = support::read("examples/beijing/people.jsonl")
        .lines()
        .next()
        .unwrap_or_default()
        .to_owned();
    let mut conn = server.connect();
    conn.send_head(
        "POST",
        "/v1/policies/beijing_entry/decide?now=2021-11-01T10:00:00%2B08:00",
        &[("content-type", "application/x-ndjson")],
        None,
    );
    let half = format!("{person}\n").repeat(50);
    conn.send_chunk(half.as_bytes()).unwrap_or_default();
    let (status, _) = conn.head();
    assert_eq!(status, 200);
    let mut answers = String::new();
    while answers.lines().count() < 50 {
        answers.push_str(&String::from_utf8_lossy(
            &conn.chunk().unwrap_or_else(|| unreachable!()),
        ));
    }
    let mut server = server;
    server.signal("TERM");
    std::thread::sleep(Duration::from_millis(200));
    conn.send_chunk(half.as_bytes()).unwrap_or_default();
    conn.send_chunk(b"").unwrap_or_default();
    while let Some(chunk) = conn.chunk() {
        answers.push_str(&String::from_utf8_lossy(&chunk));
    }
    assert_eq!(answers.lines().count(), 100);
    assert!(answers.lines().all(|l| l.contains("\"outcome\":\"green\"")));
    assert_eq!(server.wait(), Some(0));
}

#[test]
fn kill_9_while_logging_leaves_whole_lines_and_a_restart_serves_again() {
    let dir = folder("log");
    let log = dir.join("decisions.jsonl");
    let args = [
        "--policies",
        support::POLICY,
        "--facts",
        support::FACTS,
        "--decision-log",
        &path_str(&log),
    ];
    let server = Server::start(&args);
    let people = support::read("examples/beijing/people.jsonl");
    let one = server.post(
        "/v1/policies/beijing_entry/decide?now=2021-11-01T10:00:00%2B08:00",
        people.lines().nth(1).unwrap_or_default(),
    );
    let id = one.json()["decision_id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let many = people.repeat(3000);
    let addr = server.addr;
    let blast = std::thread::spawn(move || {
        // The answers are read, as a client does, until the service dies.
        let _ = http::Conn::new(addr).request_streaming(
            "POST",
            "/v1/policies/beijing_entry/decide",
            &[("content-type", "application/x-ndjson")],
            many.into_bytes(),
        );
    });
    // Once the log grows, the service is killed mid-write.
    let deadline = Instant::now() + Duration::from_secs(20);
    while std::fs::metadata(&log).map_or(0, |m| m.len()) < 200_000 {
        assert!(Instant::now() < deadline, "the log does not grow");
        std::thread::sleep(Duration::from_millis(5));
    }
    let mut server = server;
    server.signal("KILL");
    let _ = server.wait();
    let _ = blast.join();
    let text = std::fs::read_to_string(&log).unwrap_or_default();
    assert!(text.ends_with('\n'), "a torn last line");
    let lines: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| unreachable!("{e}: {l}")))
        .collect();
    assert!(lines.len() > 100);
    let first = &lines[0];
    assert_eq!(first["decision_id"], Value::from(id));
    assert_eq!(first["policy"]["name"], "beijing_entry");
    assert_eq!(first["outcome"], "popup");
    assert_eq!(first["rule"], "county_exposure");
    assert_eq!(
        first["input"]["phones"][0]["number"], "***",
        "a private field is masked"
    );
    assert_eq!(first["input"]["stays"][0]["phone"], "***");
    assert_eq!(first["input"]["stays"][0]["region"], "152923");
    assert!(
        first["input_digest"]
            .as_str()
            .is_some_and(|d| d.starts_with("sha256:"))
    );
    // A crash of another kind may leave half a line: it is cut on restart.
    let mut torn = text.clone();
    torn.push_str("{\"decision_id\": \"01");
    std::fs::write(&log, torn).unwrap_or_default();
    let server = Server::start(&args);
    let r = server.post(
        "/v1/policies/beijing_entry/decide",
        people.lines().next().unwrap_or_default(),
    );
    assert_eq!(r.status, 200);
    let mut server = server;
    server.signal("TERM");
    assert_eq!(server.wait(), Some(0));
    let after = std::fs::read_to_string(&log).unwrap_or_default();
    assert!(after.starts_with(&text));
    let rest: Vec<&str> = after[text.len()..].lines().collect();
    assert_eq!(rest.len(), 1, "{rest:?}");
    assert_eq!(
        serde_json::from_str::<Value>(rest[0])
            .map(|v| v["decision_id"].clone())
            .ok(),
        Some(r.json()["decision_id"].clone())
    );
}

#[test]
fn bad_input_gets_a_clear_error_with_the_status_that_fits() {
    let dir = folder("bad");
    let (_, _, token) = setup(&dir);
    let server = beijing_server(&[
        "--max-body-bytes",
        "2000",
        "--read-timeout",
        "1s",
        "--idle-timeout",
        "2s",
        "--admin-token-file",
        &path_str(&token),
    ]);
    let decide = "/v1/policies/beijing_entry/decide";
    let code = |r: &http::Response| r.json()["code"].as_str().unwrap_or_default().to_owned();
    // Too large.
    let r = server.post(decide, &format!("{{\"id\": \"{}\"}}", "x".repeat(3000)));
    assert_eq!(
        (r.status, code(&r).as_str()),
        (413, "policy::serve::too_large")
    );
    // Not JSON, and bad data with its path.
    let r = server.post(decide, "{\"stays\": [");
    assert_eq!(
        (r.status, code(&r).as_str()),
        (400, "policy::data::invalid"),
        "{}",
        r.text()
    );
    let r = server.post(
        decide,
        r#"{"stays": [{"phone": "1", "region": "15292", "from": "2021-10-24"}]}"#,
    );
    assert_eq!(r.status, 400);
    assert!(
        r.json()["error"]
            .as_str()
            .is_some_and(|e| e.contains("stays[0].region")),
        "{}",
        r.text()
    );
    assert!(r.json()["help"].is_string());
    // An unknown policy, a bad query, an unknown route.
    let r = server.post("/v1/policies/beijing_entri/decide", "{}");
    assert_eq!(
        (r.status, code(&r).as_str()),
        (404, "policy::serve::unknown_policy")
    );
    assert!(
        r.json()["help"]
            .as_str()
            .is_some_and(|h| h.contains("beijing_entry"))
    );
    assert_eq!(
        server.post(&format!("{decide}?now=yesterday"), "{}").status,
        400
    );
    assert_eq!(
        server
            .post(&format!("{decide}?nxt_change=true"), "{}")
            .status,
        400
    );
    assert_eq!(server.get("/v2/nothing").status, 404);
    // Admin: no token, a wrong one.
    let r = server.request("POST", "/v1/reload", &[], b"");
    assert_eq!(
        (r.status, code(&r).as_str()),
        (401, "policy::serve::no_token")
    );
    let r = server.request(
        "POST",
        "/v1/reload",
        &[("authorization", "Bearer nope")],
        b"",
    );
    assert_eq!(r.status, 401);
    // A test clock only with `--test-clock`.
    let r = server.request(
        "POST",
        "/v1/test/clock",
        &[("authorization", &format!("Bearer {TOKEN}"))],
        b"{\"advance\": \"1d\"}",
    );
    assert_eq!(r.status, 404);
    // A slow client: its body stalls; it is given up, and others are served meanwhile.
    let mut slow = server.connect();
    slow.send_head(
        "POST",
        decide,
        &[("content-type", "application/json")],
        Some(100),
    );
    let _ = slow.send_raw(b"{\"id\":");
    let started = Instant::now();
    assert_eq!(server.post(decide, "{}").status, 200);
    let r = slow.response();
    assert_eq!(r.status, 408, "{}", r.text());
    assert!(started.elapsed() < Duration::from_secs(10));
    // A head that never ends does not stop the service either, and its
    // connection is closed once idle.
    let mut stalled = server.connect();
    let _ = stalled.send_raw(b"POST /v1/policies/beijing_entry/decide HTTP/1.1\r\nhost: x\r\n");
    assert_eq!(server.get("/health/live").status, 200);
    let started = Instant::now();
    assert!(stalled.closed(), "an idle connection stays open");
    assert!(started.elapsed() < Duration::from_secs(10));
    // Without a token file, the admin endpoints are closed.
    let open = beijing_server(&[]);
    assert_eq!(open.request("POST", "/v1/reload", &[], b"").status, 403);
    // Not loopback unless told.
    let o = binary::run(
        &[
            "serve",
            "--policies",
            support::POLICY,
            "--addr",
            "0.0.0.0:0",
        ],
        "",
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(binary::stderr(&o).contains("not a loopback address"));
}

#[test]
fn a_policy_that_does_not_load_leaves_the_service_not_ready_with_its_diagnostics() {
    let dir = folder("notready");
    let (policy, facts, _) = setup(&dir);
    std::fs::write(
        dir.join("broken.policy"),
        "policy broken\ntimezone \"UTC\"\noutcomes green\notherwise gren\n",
    )
    .unwrap_or_default();
    let failing_test = support::read(support::POLICY)
        .replace("policy beijing_entry", "policy beijing_other")
        .replace(
            "expect green\n  expect rules none",
            "expect popup\n  expect rules none",
        );
    std::fs::write(dir.join("tested.policy"), failing_test).unwrap_or_default();
    let server = Server::start(&["--policies", &path_str(&dir), "--facts", &path_str(&facts)]);
    assert_eq!(server.get("/health/live").status, 200);
    assert_eq!(server.get("/health/ready").status, 503);
    let status = server.get("/v1/status").json();
    assert_eq!(status["ready"], false);
    let failures = status["failures"].as_array().cloned().unwrap_or_default();
    // The diagnostics as `--error-format json` gives them, pinned (the
    // folder and the instants, which change from run to run, left out).
    let mut pinned = String::new();
    for f in &failures {
        let f = f.to_string().replace(&path_str(&dir), "DIR");
        let mut f: Value = serde_json::from_str(&f).unwrap_or_default();
        f["since"] = Value::from("SINCE");
        pinned.push_str(&serde_json::to_string_pretty(&f).unwrap_or_default());
        pinned.push('\n');
    }
    insta::assert_snapshot!(pinned);
    let files: Vec<&str> = failures.iter().filter_map(|f| f["file"].as_str()).collect();
    assert!(
        files.iter().any(|f| f.ends_with("broken.policy"))
            && files.iter().any(|f| f.ends_with("tested.policy")),
        "{status}"
    );
    let codes: Vec<&str> = failures
        .iter()
        .flat_map(|f| f["diagnostics"].as_array().into_iter().flatten())
        .filter_map(|d| d["code"].as_str())
        .collect();
    assert!(codes.contains(&"policy::serve::test_failed"), "{codes:?}");
    assert!(
        codes.iter().any(|c| c.starts_with("policy::check")),
        "{codes:?}"
    );
    assert!(
        failures
            .iter()
            .flat_map(|f| f["diagnostics"].as_array().into_iter().flatten())
            .all(|d| d["severity"] == "error" && d["message"].is_string())
    );
    // SIGHUP reads every file again: one more reload that fails.
    let failed_reloads = || {
        let text = server.get("/metrics").text();
        text.lines()
            .find_map(|l| l.strip_prefix("policyc_reloads_failed_total "))
            .and_then(|n| n.parse::<u64>().ok())
            .unwrap_or_default()
    };
    let before = failed_reloads();
    server.signal("HUP");
    let deadline = Instant::now() + Duration::from_secs(20);
    while failed_reloads() == before {
        assert!(Instant::now() < deadline, "SIGHUP did not reload");
        std::thread::sleep(Duration::from_millis(10));
    }
    // The good one serves; a name that may be the broken one's is 503.
    assert_eq!(
        server
            .post("/v1/policies/beijing_entry/decide", "{}")
            .status,
        200
    );
    assert_eq!(server.post("/v1/policies/broken/decide", "{}").status, 503);
    // Fixed, it loads, and the service is ready.
    std::fs::remove_file(dir.join("broken.policy")).unwrap_or_default();
    std::fs::remove_file(dir.join("tested.policy")).unwrap_or_default();
    let _ = policy;
    let deadline = Instant::now() + Duration::from_secs(20);
    while server.get("/health/ready").status != 200 {
        assert!(
            Instant::now() < deadline,
            "never ready: {}",
            server.get("/v1/status").text()
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[test]
fn metrics_count_requests_decisions_and_the_log() {
    let dir = folder("metrics");
    let log = dir.join("log.jsonl");
    let server = beijing_server(&["--decision-log", &path_str(&log), "--max-body-bytes", "100"]);
    let people = support::read("examples/beijing/people.jsonl");
    let decide = "/v1/policies/beijing_entry/decide?now=2021-11-01T10:00:00%2B08:00";
    assert_eq!(server.post(decide, "{}").status, 200);
    assert_eq!(server.post(decide, &"x".repeat(200)).status, 413);
    let batch = server.request(
        "POST",
        decide,
        &[("content-type", "application/x-ndjson")],
        people.as_bytes(),
    );
    assert_eq!(batch.status, 200);
    let text = server.get("/metrics").text();
    let value = |name: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(name).and_then(|v| v.strip_prefix(' ')))
            .unwrap_or_else(|| unreachable!("no `{name}` in\n{text}"))
            .to_owned()
    };
    assert_eq!(
        value("policyc_decisions_total{policy=\"beijing_entry\",outcome=\"green\"}"),
        "4"
    );
    assert_eq!(
        value("policyc_decisions_total{policy=\"beijing_entry\",outcome=\"popup\"}"),
        "6"
    );
    assert_eq!(
        value("policyc_requests_total{route=\"decide\",status=\"413\"}"),
        "1"
    );
    assert_eq!(
        value("policyc_requests_total{route=\"batch\",status=\"200\"}"),
        "1"
    );
    assert_eq!(
        value("policyc_request_seconds_count{route=\"decide\"}"),
        "2"
    );
    assert_eq!(value("policyc_reloads_succeeded_total"), "1");
    assert_eq!(value("policyc_reloads_failed_total"), "0");
    assert_eq!(value("policyc_watch_streams"), "0");
    assert_eq!(value("policyc_decision_log_dropped_total"), "0");
    assert!(
        value("policyc_last_activation_timestamp_seconds")
            .parse::<i64>()
            .is_ok_and(|t| t > 1_600_000_000)
    );
    assert!(
        value("policyc_decision_log_queue_depth")
            .parse::<u64>()
            .is_ok()
    );
}

#[test]
fn a_failed_update_left_longer_than_max_stale_makes_the_service_not_ready() {
    let dir = folder("stale");
    let (policy, facts, _) = setup(&dir);
    let server = start(&policy, &facts, &["--max-stale", "1s"]);
    assert_eq!(server.get("/health/ready").status, 200);
    let good = support::read(support::POLICY);
    replace(
        &policy,
        &good.replace("outcomes green < popup", "outcomes green <"),
    );
    until(&server, "the update fails", |(_, failed, _)| *failed);
    // Still serving the old revision, and ready until the limit.
    assert_eq!(
        server
            .post("/v1/policies/beijing_entry/decide", "{}")
            .status,
        200
    );
    let failed_at = Instant::now();
    let deadline = failed_at + Duration::from_secs(20);
    while server.get("/health/ready").status == 200 {
        assert!(Instant::now() < deadline);
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(failed_at.elapsed() >= Duration::from_millis(900));
    assert_eq!(server.get("/v1/status").json()["ready"], false);
    replace(&policy, &good);
    until(&server, "the fix loads", |(_, failed, _)| !*failed);
    assert_eq!(server.get("/health/ready").status, 200);
}

/// The decision log's lines and the metric of lines dropped, once the
/// service has stopped on SIGTERM after a batch of `n`.
fn logged(dir: &Path, n: usize, mode: &str) -> (usize, u64) {
    let log = dir.join(format!("log-{mode}.jsonl"));
    let log_arg = path_str(&log);
    let mut server = beijing_server(&[
        "--decision-log",
        &log_arg,
        "--decision-log-queue",
        "1",
        "--decision-log-full",
        mode,
    ]);
    let person = r#"{"id": "Q"}"#;
    let batch = format!("{person}\n").repeat(n);
    let r = server.connect().request_streaming(
        "POST",
        "/v1/policies/beijing_entry/decide",
        &[("content-type", "application/x-ndjson")],
        batch.into_bytes(),
    );
    assert_eq!(r.text().lines().count(), n);
    let metrics = server.get("/metrics").text();
    let dropped = metrics
        .lines()
        .find_map(|l| l.strip_prefix("policyc_decision_log_dropped_total "))
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| unreachable!("{metrics}"));
    server.signal("TERM");
    assert_eq!(server.wait(), Some(0));
    let text = std::fs::read_to_string(&log).unwrap_or_default();
    (text.lines().count(), dropped)
}

#[test]
fn every_decision_is_logged_or_counted_as_dropped() {
    let dir = folder("full");
    // Blocking on a full queue (the default) loses nothing.
    assert_eq!(logged(&dir, 3000, "block"), (3000, 0));
    // Dropping loses only what it counts.
    let (lines, dropped) = logged(&dir, 3000, "drop");
    assert_eq!(
        lines as u64 + dropped,
        3000,
        "{lines} logged, {dropped} dropped"
    );
}

/// A request of a test: the service, method, path, headers and body.
type Ask<'a> = (
    &'a Server,
    &'a str,
    String,
    Vec<(&'a str, &'a str)>,
    &'a str,
);

#[test]
fn error_answers_say_what_is_wrong_and_what_to_do() {
    let dir = folder("errors");
    let (_, _, token) = setup(&dir);
    let token = path_str(&token);
    let server = beijing_server(&["--max-body-bytes", "200", "--admin-token-file", &token]);
    let closed = beijing_server(&[]);
    let decide = "/v1/policies/beijing_entry/decide";
    let bearer = format!("Bearer {TOKEN}");
    let wrong = "Bearer wrong".to_owned();
    let big = format!("{{\"id\": \"{}\"}}", "x".repeat(300));
    let cases: Vec<Ask> = vec![
        (&server, "POST", decide.into(), vec![], big.as_str()),
        (&server, "POST", decide.into(), vec![], "{\"stays\": ["),
        (
            &server,
            "POST",
            decide.into(),
            vec![],
            r#"{"stays": [{"phone": "1", "region": "15292", "from": "2021-10-24"}]}"#,
        ),
        (
            &server,
            "POST",
            decide.into(),
            vec![],
            r#"{"tests": [{"sampled_at": "2021-10-31", "result": "negtive"}]}"#,
        ),
        (
            &server,
            "POST",
            "/v1/policies/beijing_entri/decide".into(),
            vec![],
            "{}",
        ),
        (
            &server,
            "POST",
            format!("{decide}?now=yesterday"),
            vec![],
            "{}",
        ),
        (
            &server,
            "POST",
            format!("{decide}?nxt_change=true"),
            vec![],
            "{}",
        ),
        (
            &server,
            "POST",
            format!("{decide}?explain=true&lang=fr"),
            vec![],
            "{}",
        ),
        (
            &server,
            "POST",
            "/v1/policies/beijing_entry/watch?now=2021-11-01".into(),
            vec![],
            "{}",
        ),
        (&server, "GET", "/v2/nothing".into(), vec![], ""),
        (&server, "POST", "/v1/reload".into(), vec![], ""),
        (
            &server,
            "POST",
            "/v1/reload".into(),
            vec![("authorization", wrong.as_str())],
            "",
        ),
        (
            &server,
            "POST",
            "/v1/test/clock".into(),
            vec![("authorization", bearer.as_str())],
            "{\"advance\": \"1d\"}",
        ),
        (&closed, "POST", "/v1/reload".into(), vec![], ""),
    ];
    let mut out = String::new();
    for (server, method, path, headers, body) in cases {
        let r = server.request(method, &path, &headers, body.as_bytes());
        out.push_str(&format!("{method} {path}\n{} {}\n\n", r.status, r.text()));
    }
    insta::assert_snapshot!(out);
}

/// A person tested negative on 2 November 2021 at 22:00.
const TESTED: &str =
    r#"{"id": "m", "tests": [{"sampled_at": "2021-11-02T22:00", "result": "negative"}]}"#;

/// The service on the policies of `dir`, with an admin token and the
/// test clock at `start`.
fn clocked(dir: &Path, start: &str) -> Server {
    let token = dir.join("token");
    std::fs::write(&token, TOKEN).unwrap_or_default();
    Server::start(&[
        "--policies",
        &path_str(dir),
        "--admin-token-file",
        &path_str(&token),
        "--test-clock",
        start,
    ])
}

/// The decision of `person` at `now` over HTTP (with `next_change`, the
/// default), checked equal to `eval POLICIES --next-change`'s.
fn decided_as_eval(server: &Server, policies: &str, person: &str, now: &str) -> Value {
    let r = server.post(
        &format!("/v1/policies/entry/decide?now={}", at(now)),
        person,
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let decision = plain(r.json());
    let o = binary::run(
        &[
            "eval",
            policies,
            "--input",
            "-",
            "--now",
            now,
            "--next-change",
        ],
        person,
    );
    assert_eq!(binary::lines(&o), vec![decision.clone()], "at {now}");
    decision
}

/// Dated versions of one policy served as one (issue 11 items 1 and 3):
/// each request is decided by the version in force at its `now`, as
/// `eval DIR` decides it; a watch stream is told at the instant the next
/// version takes effect; a version that cannot stand beside the others
/// fails to load, shown in the status, and the others keep serving.
#[test]
fn dated_versions_decide_by_the_one_in_force_and_a_watch_is_told_when_the_next_takes_effect() {
    let dir = folder("versions");
    let versions = "tests/fixtures/versions/entry";
    for day in ["2021-10-30", "2021-11-05"] {
        let text = support::read(format!("{versions}/{day}.policy"));
        std::fs::write(dir.join(format!("{day}.policy")), text).unwrap_or_default();
    }
    let server = clocked(&dir, "2021-11-04T22:30:00Z");
    // Tested on 2 November at 22:00: 72 hours admit it until 5 November
    // 22:00, but from midnight on the 5th 48 hours are the rule.
    let person = TESTED;
    for (now, version, outcome) in [
        ("2021-11-04T23:59:59", "2021-10-30", "admitted"),
        ("2021-11-05T00:00", "2021-11-05", "refused"),
    ] {
        let path = format!(
            "/v1/policies/entry/decide?next_change=false&now={}",
            at(now)
        );
        let r = server.post(&path, person);
        assert_eq!(r.status, 200, "{}", r.text());
        let decision = plain(r.json());
        assert_eq!(decision["policy"]["version"], version, "at {now}");
        assert_eq!(decision["outcome"], outcome, "at {now}");
        let o = binary::run(&["eval", versions, "--input", "-", "--now", now], person);
        assert_eq!(binary::lines(&o), vec![decision], "at {now}");
    }
    // With `next_change` (the default), a single decision gives the change
    // the next version brings, at the instant it takes effect, as `eval
    // DIR --next-change` gives it.
    let decision = decided_as_eval(&server, versions, person, "2021-11-04T23:59:59");
    assert_eq!(decision["next_change"]["at"], "2021-11-05T00:00:00+01:00");
    assert_eq!(decision["next_change"]["outcome"], "refused");
    // Before the first version: none in force.
    let r = server.post("/v1/policies/entry/decide?now=2021-10-01", person);
    assert_eq!(r.status, 400, "{}", r.text());
    assert_eq!(r.json()["code"], "policy::serve::not_in_force");
    // A watch: admitted now, refused at midnight when the rules change.
    let mut watched = Events::open(server.addr, "/v1/policies/entry/watch", person)
        .unwrap_or_else(|r| unreachable!("{}: {}", r.status, r.text()));
    let first = watched.next().unwrap_or_else(|| unreachable!());
    assert_eq!(first.data["reason"], "initial");
    assert_eq!(first.data["decision"]["outcome"], "admitted");
    assert_eq!(first.data["decision"]["policy"]["version"], "2021-10-30");
    assert_eq!(
        first.data["decision"]["next_change"]["at"],
        "2021-11-05T00:00:00+01:00"
    );
    let clock = |to: &str| set_clock(&server, &format!("{{\"set\": \"{to}\"}}"));
    clock("2021-11-04T22:59:59Z");
    assert!(watched.next_within(Duration::from_millis(300)).is_none());
    clock("2021-11-04T23:00:00Z");
    let pushed = watched.next().unwrap_or_else(|| unreachable!());
    assert_eq!(pushed.data["reason"], "version");
    assert_eq!(pushed.data["decision"]["outcome"], "refused");
    assert_eq!(pushed.data["decision"]["policy"]["version"], "2021-11-05");
    assert_eq!(pushed.data["decision"]["now"], "2021-11-05T00:00:00+01:00");
    // A third version taking effect with the second: refused, shown in
    // the status; the two keep serving.
    let again = support::read(format!("{versions}/2021-11-05.policy"))
        .replace("version \"2021-11-05\"", "version \"2021-11-05b\"");
    std::fs::write(dir.join("again.policy"), again).unwrap_or_default();
    let r = reload(&server);
    let status = r.json();
    let failures = status["failures"].as_array().cloned().unwrap_or_default();
    assert_eq!(failures.len(), 1, "{status}");
    assert!(
        failures[0]["file"]
            .as_str()
            .is_some_and(|f| f.ends_with("again.policy")),
        "{status}"
    );
    assert_eq!(
        failures[0]["diagnostics"][0]["code"], "policy::versions::ambiguous",
        "{status}"
    );
    let served: Vec<&Value> = (status["policies"].as_array().into_iter().flatten())
        .map(|p| &p["version"])
        .collect();
    assert_eq!(
        served,
        [&Value::from("2021-10-30"), &Value::from("2021-11-05")]
    );
    let r = server.post("/v1/policies/entry/decide?now=2021-11-06T10:00", person);
    assert_eq!(r.json()["policy"]["version"], "2021-11-05");
    // No event for a reload that changes nothing served.
    assert!(watched.next_within(Duration::from_millis(300)).is_none());
}

/// A later version that reads records otherwise (a field more) is still
/// followed: the record is decoded again for it alone, and the change it
/// brings is the decision's `next_change`, over HTTP as from `eval DIR
/// --next-change`.
#[test]
fn a_later_version_with_another_input_still_gives_its_change() {
    let dir = folder("versions-input");
    let versions = "tests/fixtures/versions/entry";
    let first = support::read(format!("{versions}/2021-10-30.policy"));
    std::fs::write(dir.join("2021-10-30.policy"), first).unwrap_or_default();
    let second = support::read(format!("{versions}/2021-11-05.policy"))
        .replace("  id: text?\n", "  id: text?\n  vaccinated: bool?\n");
    assert!(second.contains("vaccinated"));
    std::fs::write(dir.join("2021-11-05.policy"), second).unwrap_or_default();
    let server = Server::start(&["--policies", &path_str(&dir)]);
    let person = TESTED;
    let decision = decided_as_eval(&server, &path_str(&dir), person, "2021-11-04T12:00");
    assert_eq!(decision["outcome"], "admitted");
    assert_eq!(decision["next_change"]["at"], "2021-11-05T00:00:00+01:00");
    assert_eq!(decision["next_change"]["outcome"], "refused");
}

/// On the system clock, a watch stream's push comes from a timer at its
/// instant: a stay in a case county that leaves the 14-day window a
/// second and a half from now is pushed just after that instant, not
/// before and not a tick later.
#[test]
fn on_the_system_clock_a_push_comes_at_its_instant() {
    let server = Server::start(&[
        "--policies",
        "policies/beijing-2021-10-30.policy",
        "--facts",
        "examples/beijing/facts.json",
    ]);
    let instant = jiff::Timestamp::now() + jiff::SignedDuration::from_millis(1500);
    let to = instant - jiff::SignedDuration::from_hours(14 * 24);
    let person = format!(
        r#"{{"id": "w", "stays": [{{"phone": "1", "region": "152923", "from": "2021-10-24T08:00:00+08:00", "to": "{to}"}}]}}"#
    );
    let mut watched = Events::open(server.addr, "/v1/policies/beijing_entry/watch", &person)
        .unwrap_or_else(|r| unreachable!("{}: {}", r.status, r.text()));
    let first = watched.next().unwrap_or_else(|| unreachable!());
    assert_eq!(first.data["decision"]["outcome"], "popup");
    let pushed = watched.next().unwrap_or_else(|| unreachable!());
    let arrived = jiff::Timestamp::now();
    assert_eq!(pushed.data["reason"], "next_change");
    assert_eq!(pushed.data["decision"]["outcome"], "green");
    let late = arrived.duration_since(instant);
    assert!(!late.is_negative(), "pushed {late} before its instant");
    // Loose for a loaded machine: the bench measures the real lateness.
    assert!(
        late < jiff::SignedDuration::from_millis(500),
        "pushed {late} after its instant"
    );
}

/// A version with `until` and none after it: a decision before the end
/// gives the end as its `next_change` (no decision after it), as `eval
/// DIR --next-change` does; after it every decision is a 400
/// `policy::serve::not_in_force`; a watch stream ends at that instant.
#[test]
fn a_policy_that_ends_says_so_in_next_change_and_refuses_to_decide_after() {
    let dir = folder("versions-until");
    let text = support::read("tests/fixtures/versions/entry/2021-10-30.policy").replace(
        "effective from 2021-10-30T00:00",
        "effective from 2021-10-30T00:00 until 2021-11-05T00:00",
    );
    assert!(text.contains("until"));
    std::fs::write(dir.join("2021-10-30.policy"), text).unwrap_or_default();
    let server = clocked(&dir, "2021-11-04T12:00:00Z");
    // Admitted until 5 November 22:00 by its rule, but the policy ends first.
    let person = TESTED;
    let decision = decided_as_eval(&server, &path_str(&dir), person, "2021-11-04T13:00");
    assert_eq!(decision["outcome"], "admitted");
    assert_eq!(
        decision["next_change"],
        serde_json::json!({"at": "2021-11-05T00:00:00+01:00", "outcome": null, "rule": null, "ends": true})
    );
    let r = server.post("/v1/policies/entry/decide?now=2021-11-05T00:00", person);
    assert_eq!(r.status, 400, "{}", r.text());
    assert_eq!(r.json()["code"], "policy::serve::not_in_force");
    let mut watched = Events::open(server.addr, "/v1/policies/entry/watch", person)
        .unwrap_or_else(|r| unreachable!("{}: {}", r.status, r.text()));
    let first = watched.next().unwrap_or_else(|| unreachable!());
    assert_eq!(first.data["decision"]["next_change"]["ends"], true);
    set_clock(&server, r#"{"set": "2021-11-04T22:59:59Z"}"#);
    assert!(watched.next_within(Duration::from_millis(300)).is_none());
    set_clock(&server, r#"{"set": "2021-11-04T23:00:00Z"}"#);
    let last = watched.next().unwrap_or_else(|| unreachable!());
    assert_eq!(last.name, "end");
    assert_eq!(last.data["reason"], "ended");
    // The stream's end is the end of its body: the connection goes on.
    assert!(watched.next().is_none());
    let mut conn = watched.into_conn();
    let r = conn.request(
        "POST",
        "/v1/policies/entry/decide?now=2021-11-04T13:00",
        &[],
        person.as_bytes(),
    );
    assert_eq!(r.status, 200, "{}", r.text());
}

/// The number of open watch streams in the metrics.
fn watch_streams(server: &Server) -> String {
    let metrics = server.get("/metrics").text();
    let line = metrics
        .lines()
        .find_map(|l| l.strip_prefix("policyc_watch_streams "));
    line.unwrap_or_default().to_owned()
}

/// The head and the first event of a watch opened on `conn`: the status,
/// the header names, and the event's text with its decision's id taken
/// out.
fn first_event(
    conn: &mut http::Conn,
    path: &str,
    body: &str,
    chunked: bool,
) -> (u16, BTreeSet<String>, String) {
    conn.send_head("POST", path, &[], (!chunked).then_some(body.len()));
    if chunked {
        let (a, b) = body.split_at(body.len() / 2);
        for part in [a, b, ""] {
            let _ = conn.send_chunk(part.as_bytes());
        }
    } else {
        let _ = conn.send_raw(body.as_bytes());
    }
    let (status, headers) = conn.head();
    let names = headers.into_iter().map(|(n, _)| n).collect();
    let event = String::from_utf8(conn.chunk().unwrap_or_default()).unwrap_or_default();
    let (head, data) = event.split_once("data: ").unwrap_or_default();
    let mut data: Value = serde_json::from_str(data.trim_end()).unwrap_or_default();
    assert!(data["decision"]["decision_id"].is_string(), "{event}");
    data["decision"]["decision_id"] = Value::Null;
    let tail = &event[event.len().saturating_sub(2)..];
    (status, names, format!("{head}data: {data}{tail}"))
}

/// A watch opened as the first request of a connection with a
/// `Content-Length` is served without hyper's buffers; one with a chunked
/// body, or after another request on its connection, by hyper: the
/// answers are the same, errors included.
#[test]
fn a_watch_is_answered_alike_whichever_way_it_comes() {
    let server = beijing_server(&["--test-clock", "2021-11-01T02:00:00Z"]);
    let path = "/v1/policies/beijing_entry/watch";
    let person = r#"{"id": "W", "stays": [{"phone": "1", "region": "152923", "from": "2021-10-24T08:00:00+08:00", "to": "2021-10-26T18:00:00+08:00"}]}"#;
    let (mut one, mut two) = (server.connect(), server.connect());
    let direct = first_event(&mut one, path, person, false);
    let chunked = first_event(&mut two, path, person, true);
    let mut conn = server.connect();
    assert_eq!(conn.request("GET", "/health/live", &[], b"").status, 200);
    let after = first_event(&mut conn, path, person, false);
    assert_eq!(direct.0, 200);
    assert!(
        direct.2.starts_with("event: decision\ndata: {"),
        "{}",
        direct.2
    );
    assert!(direct.2.contains("\"reason\":\"initial\""), "{}", direct.2);
    assert!(direct.2.ends_with("}\n\n"), "{}", direct.2);
    assert_eq!(direct, chunked);
    assert_eq!(direct, after);
    assert_eq!(watch_streams(&server), "3");
    // Errors: an unknown policy, a bad query, bad data.
    for (path, body) in [
        ("/v1/policies/bejing_entry/watch", person),
        ("/v1/policies/beijing_entry/watch?now=2021-11-01", person),
        ("/v1/policies/beijing_entry/watch?bad=1", person),
        (path, "{\"id\": 1}"),
    ] {
        let mut answers = Vec::new();
        for chunked in [false, true] {
            let mut conn = server.connect();
            conn.send_head("POST", path, &[], (!chunked).then_some(body.len()));
            if chunked {
                let _ = conn.send_chunk(body.as_bytes());
                let _ = conn.send_chunk(b"");
            } else {
                let _ = conn.send_raw(body.as_bytes());
            }
            let r = conn.response();
            answers.push((
                r.status,
                r.header("content-type").map(str::to_owned),
                r.text(),
            ));
        }
        assert_ne!(answers[0].0, 200, "{path} {body}");
        assert_eq!(answers[0], answers[1], "{path} {body}");
    }
}

/// A library that a policy uses from outside the `--policies` folder is
/// watched too: when it changes, the policy using it reloads (a new
/// revision, with the library's new definitions), and a watch stream is
/// told.
#[test]
fn a_library_outside_the_policies_folder_is_watched() {
    let dir = folder("outside-library");
    let (policies, shared) = (dir.join("policies"), dir.join("shared"));
    for d in [&policies, &shared] {
        std::fs::create_dir_all(d).unwrap_or_else(|e| unreachable!("{e}"));
    }
    let library = shared.join("common.policy");
    let rules =
        |red: &str| format!("library common\ninput person {{ a: bool }}\nlet red = {red}\n");
    std::fs::write(&library, rules("person.a")).unwrap_or_else(|e| unreachable!("{e}"));
    std::fs::write(
        policies.join("p.policy"),
        "policy p\nuse \"../shared/common.policy\"\noutcomes green < red\nrule r when red then red\notherwise green\n",
    )
    .unwrap_or_else(|e| unreachable!("{e}"));
    let server = Server::start(&["--policies", &path_str(&policies)]);
    let before = serving(&server);
    assert!(!before.0.is_empty() && !before.1, "{before:?}");
    let person = r#"{"a": false}"#;
    let r = server.post("/v1/policies/p/decide", person);
    assert_eq!(
        (r.status, &r.json()["outcome"]),
        (200, &Value::from("green"))
    );
    let mut watched = Events::open(server.addr, "/v1/policies/p/watch", person)
        .unwrap_or_else(|r| unreachable!("{}: {}", r.status, r.text()));
    let first = watched.next().unwrap_or_else(|| unreachable!());
    assert_eq!(first.data["decision"]["outcome"], "green");
    replace(&library, &rules("not person.a"));
    until(&server, "the library's change reloads the policy", |s| {
        s.0 != before.0
    });
    let r = server.post("/v1/policies/p/decide", person);
    assert_eq!((r.status, &r.json()["outcome"]), (200, &Value::from("red")));
    let pushed = watched.next().unwrap_or_else(|| unreachable!());
    assert_eq!(
        (&pushed.data["reason"], &pushed.data["decision"]["outcome"]),
        (&Value::from("policy"), &Value::from("red"))
    );
}

/// A library named only by a version that failed to load is watched too:
/// the new version uses a library from outside the `--policies` folder
/// that is not there yet, so it fails and the previous one serves; when
/// the library is written, the new version loads without a SIGHUP.
#[test]
fn a_library_of_a_failed_version_is_watched() {
    let dir = folder("failed-library");
    let (policies, shared) = (dir.join("policies"), dir.join("shared"));
    for d in [&policies, &shared] {
        std::fs::create_dir_all(d).unwrap_or_else(|e| unreachable!("{e}"));
    }
    let policy = policies.join("p.policy");
    std::fs::write(
        &policy,
        "policy p\ninput person { a: bool }\noutcomes green < red\nrule r when person.a then red\notherwise green\n",
    )
    .unwrap_or_else(|e| unreachable!("{e}"));
    let server = Server::start(&["--policies", &path_str(&policies)]);
    let before = serving(&server);
    assert!(!before.0.is_empty() && !before.1, "{before:?}");
    replace(
        &policy,
        "policy p\nuse \"../shared/common.policy\"\noutcomes green < red\nrule r when red then red\notherwise green\n",
    );
    until(&server, "the version using a missing library fails", |s| {
        s.1 && s.0 == before.0
    });
    replace(
        &shared.join("common.policy"),
        "library common\ninput person { a: bool }\nlet red = not person.a\n",
    );
    until(
        &server,
        "the library's arrival loads the new version",
        |s| !s.1 && s.0 != before.0,
    );
    let r = server.post("/v1/policies/p/decide", r#"{"a": false}"#);
    assert_eq!((r.status, &r.json()["outcome"]), (200, &Value::from("red")));
}
