//! A small HTTP/1.1 client for the tests of `policyc serve`, over loopback
//! only, and the service started on a free port of `127.0.0.1`.
//!
//! Written on `std::net` so that a test can also send what no library
//! client would: a body that stops half-way, a header that never ends.

#![allow(dead_code)]

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::{SocketAddr, TcpStream};
use std::process::Child;
use std::sync::mpsc;
use std::time::Duration;

/// How long one read may wait before the test fails.
pub const READ_PATIENCE: Duration = Duration::from_secs(20);

/// The service, running; killed when dropped.
pub struct Server {
    /// The process.
    pub child: Child,
    /// Where it listens.
    pub addr: SocketAddr,
}

impl Server {
    /// `policyc serve --addr 127.0.0.1:0` with `args`, once it listens.
    pub fn start<S: AsRef<str>>(args: &[S]) -> Server {
        Server::start_program(std::path::Path::new(env!("CARGO_BIN_EXE_policyc")), args)
    }

    /// The same, of the `policyc` at `program` (one built elsewhere, to
    /// compare with this one).
    pub fn start_program<S: AsRef<str>>(program: &std::path::Path, args: &[S]) -> Server {
        Server::start_under(&[], program, args)
    }

    /// The same, of the `policyc` at `program` run by the command `under`
    /// (a profiler: `valgrind --tool=callgrind ...`; none if empty).
    pub fn start_under<S: AsRef<str>>(
        under: &[String],
        program: &std::path::Path,
        args: &[S],
    ) -> Server {
        let mut all: Vec<String> = under.get(1..).unwrap_or_default().to_vec();
        if !under.is_empty() {
            all.push(program.display().to_string());
        }
        all.extend(["serve".into(), "--addr".into(), "127.0.0.1:0".into()]);
        all.extend(args.iter().map(|a| a.as_ref().to_owned()));
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let program = under.first().map_or(program, std::path::Path::new);
        let mut child = super::binary::spawn_program(program, root, &all);
        let stdout = child.stdout.take().unwrap_or_else(|| unreachable!());
        let (send, receive) = mpsc::channel();
        std::thread::spawn(move || {
            let mut lines = BufReader::new(stdout).lines();
            let first = lines.next();
            let _ = send.send(first);
            // The rest is drained, so the service never blocks on it.
            for _ in lines {}
        });
        let line = match receive.recv_timeout(super::binary::PATIENCE) {
            Ok(Some(Ok(line))) => line,
            other => {
                let _ = child.kill();
                let mut err = String::new();
                if let Some(mut e) = child.stderr.take() {
                    let _ = e.read_to_string(&mut err);
                }
                unreachable!("policyc serve did not start: {other:?}\n{err}")
            }
        };
        let addr = line
            .rsplit("http://")
            .next()
            .and_then(|a| a.trim().parse().ok())
            .unwrap_or_else(|| unreachable!("no address in `{line}`"));
        Server { child, addr }
    }

    /// A new connection to it.
    pub fn connect(&self) -> Conn {
        Conn::new(self.addr)
    }

    /// One request on a new connection.
    pub fn request(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> Response {
        self.connect().request(method, path, headers, body)
    }

    /// `GET path`.
    pub fn get(&self, path: &str) -> Response {
        self.request("GET", path, &[], b"")
    }

    /// `POST path` with a JSON body.
    pub fn post(&self, path: &str, body: &str) -> Response {
        self.request(
            "POST",
            path,
            &[("content-type", "application/json")],
            body.as_bytes(),
        )
    }

    /// Sends SIGTERM (or another signal) to it.
    pub fn signal(&self, name: &str) {
        let status = std::process::Command::new("kill")
            .args([format!("-{name}"), self.child.id().to_string()])
            .status();
        assert!(status.is_ok_and(|s| s.success()), "kill -{name} failed");
    }

    /// Waits for it to end, within the patience; its exit code.
    pub fn wait(&mut self) -> Option<i32> {
        let deadline = std::time::Instant::now() + super::binary::PATIENCE;
        while std::time::Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                return status.code();
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        unreachable!("policyc serve did not stop")
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A response.
#[derive(Debug, Clone)]
pub struct Response {
    /// The status code.
    pub status: u16,
    /// The headers, names in lower case.
    pub headers: Vec<(String, String)>,
    /// The body, de-chunked.
    pub body: Vec<u8>,
}

impl Response {
    /// The body as text.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// The body as JSON.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| unreachable!("not JSON ({e}): {}", self.text()))
    }

    /// A header's value.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// A keep-alive connection.
pub struct Conn {
    reader: BufReader<TcpStream>,
    writer: TcpStream,
}

impl Conn {
    /// Connects to `addr`.
    pub fn new(addr: SocketAddr) -> Conn {
        let stream = TcpStream::connect(addr).unwrap_or_else(|e| unreachable!("connect: {e}"));
        let _ = stream.set_nodelay(true);
        let _ = stream.set_read_timeout(Some(READ_PATIENCE));
        let writer = stream.try_clone().unwrap_or_else(|e| unreachable!("{e}"));
        Conn {
            reader: BufReader::new(stream),
            writer,
        }
    }

    /// Another handle that writes to the connection, for a thread that
    /// sends a body while this one reads the answers.
    pub fn writer(&self) -> TcpStream {
        self.writer
            .try_clone()
            .unwrap_or_else(|e| unreachable!("{e}"))
    }

    /// Whether the service closes the connection (within the patience)
    /// without sending anything.
    pub fn closed(&mut self) -> bool {
        let mut byte = [0u8; 1];
        match self.reader.read(&mut byte) {
            Ok(n) => n == 0,
            Err(e) => !matches!(
                e.kind(),
                std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
            ),
        }
    }

    /// Writes raw bytes.
    pub fn send_raw(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        self.writer.write_all(bytes)
    }

    /// Writes a request's head; `length` as `Content-Length`, or chunked.
    pub fn send_head(
        &mut self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        length: Option<usize>,
    ) {
        let _ = self.send_raw(&request_head(method, path, headers, length));
    }

    /// Writes one chunk of a chunked body (an empty one ends it).
    pub fn send_chunk(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        let mut out = format!("{:x}\r\n", bytes.len()).into_bytes();
        out.extend_from_slice(bytes);
        out.extend_from_slice(b"\r\n");
        self.send_raw(&out)
    }

    /// One request and its whole response.
    pub fn request(
        &mut self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> Response {
        // The head and the body in one write, as HTTP clients send a
        // small request: written apart on a connection without Nagle's
        // delay, they reach the service as two segments, and it wakes and
        // reads twice for one request.
        let mut request = request_head(method, path, headers, Some(body.len()));
        request.extend_from_slice(body);
        let _ = self.send_raw(&request);
        self.response()
    }

    /// One request whose body is written on another thread while this
    /// one reads the answer, as a client of a streamed batch must: a
    /// client that writes all before it reads stalls once the answers
    /// fill the connection.
    pub fn request_streaming(
        &mut self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: Vec<u8>,
    ) -> Response {
        self.send_head(method, path, headers, Some(body.len()));
        let mut writer = self.writer();
        let sending = std::thread::spawn(move || writer.write_all(&body));
        let response = self.response();
        let _ = sending.join();
        response
    }

    /// Reads a response's status and headers.
    pub fn head(&mut self) -> (u16, Vec<(String, String)>) {
        let mut line = String::new();
        let _ = self.reader.read_line(&mut line);
        let status = line
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| unreachable!("no status line: `{line}`"));
        let mut headers = Vec::new();
        loop {
            let mut line = String::new();
            let _ = self.reader.read_line(&mut line);
            let line = line.trim_end();
            if line.is_empty() {
                break;
            }
            if let Some((name, value)) = line.split_once(':') {
                headers.push((name.trim().to_ascii_lowercase(), value.trim().to_owned()));
            }
        }
        (status, headers)
    }

    /// Reads a whole response.
    pub fn response(&mut self) -> Response {
        let (status, headers) = self.head();
        let find = |name: &str| {
            headers
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, v)| v.clone())
        };
        let body = if let Some(n) = find("content-length").and_then(|n| n.parse::<usize>().ok()) {
            let mut body = vec![0; n];
            let _ = self.reader.read_exact(&mut body);
            body
        } else if find("transfer-encoding").is_some_and(|t| t.contains("chunked")) {
            let mut body = Vec::new();
            while let Some(chunk) = self.chunk() {
                body.extend(chunk);
            }
            body
        } else {
            let mut body = Vec::new();
            let _ = self.reader.read_to_end(&mut body);
            body
        };
        Response {
            status,
            headers,
            body,
        }
    }

    /// The next chunk of a chunked body; `None` at its end (or on EOF).
    pub fn chunk(&mut self) -> Option<Vec<u8>> {
        let mut size = String::new();
        if self.reader.read_line(&mut size).ok()? == 0 {
            return None;
        }
        let n = usize::from_str_radix(size.trim(), 16).ok()?;
        let mut chunk = vec![0; n + 2];
        self.reader.read_exact(&mut chunk).ok()?;
        chunk.truncate(n);
        if n == 0 {
            return None;
        }
        Some(chunk)
    }
}

/// A stream of server-sent events.
pub struct Events {
    conn: Conn,
    pending: String,
}

/// One event.
#[derive(Debug, Clone)]
pub struct Event {
    /// `event:`
    pub name: String,
    /// `data:`, as JSON.
    pub data: serde_json::Value,
}

impl Events {
    /// `POST path` with `body`; the status and, if 200, the events.
    pub fn open(addr: SocketAddr, path: &str, body: &str) -> Result<Events, Response> {
        let mut conn = Conn::new(addr);
        conn.send_head(
            "POST",
            path,
            &[("content-type", "application/json")],
            Some(body.len()),
        );
        let _ = conn.send_raw(body.as_bytes());
        let (status, headers) = conn.head();
        if status != 200 {
            let mut rest = conn;
            let n = headers
                .iter()
                .find(|(n, _)| n == "content-length")
                .and_then(|(_, v)| v.parse().ok())
                .unwrap_or(0);
            let mut body = vec![0; n];
            let _ = rest.reader.read_exact(&mut body);
            return Err(Response {
                status,
                headers,
                body,
            });
        }
        Ok(Events {
            conn,
            pending: String::new(),
        })
    }

    /// The connection, once the stream has ended, for more requests.
    pub fn into_conn(self) -> Conn {
        self.conn
    }

    /// The next event if one comes within `wait`.
    pub fn next_within(&mut self, wait: Duration) -> Option<Event> {
        let _ = self.conn.writer.set_read_timeout(Some(wait));
        let event = self.next();
        let _ = self.conn.writer.set_read_timeout(Some(READ_PATIENCE));
        event
    }

    /// The next event (comments, such as keep-alives, skipped); `None` when
    /// the stream ends.
    pub fn next(&mut self) -> Option<Event> {
        loop {
            if let Some(end) = self.pending.find("\n\n") {
                let block: String = self.pending.drain(..end + 2).collect();
                let (mut name, mut data) = (String::new(), String::new());
                for line in block.lines() {
                    if let Some(v) = line.strip_prefix("event:") {
                        name = v.trim().to_owned();
                    } else if let Some(v) = line.strip_prefix("data:") {
                        data.push_str(v.trim_start());
                    }
                }
                if data.is_empty() {
                    continue;
                }
                let data = serde_json::from_str(&data)
                    .unwrap_or_else(|e| unreachable!("event data not JSON ({e}): {data}"));
                return Some(Event { name, data });
            }
            let chunk = self.conn.chunk()?;
            self.pending.push_str(&String::from_utf8_lossy(&chunk));
        }
    }
}

/// A request's head; `length` as `Content-Length`, or chunked.
fn request_head(
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    length: Option<usize>,
) -> Vec<u8> {
    let mut head = format!("{method} {path} HTTP/1.1\r\nhost: localhost\r\n");
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    match length {
        Some(n) => head.push_str(&format!("content-length: {n}\r\n\r\n")),
        None => head.push_str("transfer-encoding: chunked\r\n\r\n"),
    }
    head.into_bytes()
}
