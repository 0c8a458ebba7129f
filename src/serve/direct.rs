//! Watch streams served without hyper's buffers.
//!
//! hyper keeps a read buffer and a write buffer of 8 KB each for as long
//! as a connection lives, which for an open watch stream is its whole
//! life, and they made most of a stream's memory. So each new connection
//! is first read here: when its first request is a watch that this
//! module fully understands (`POST /v1/policies/NAME/watch` over
//! HTTP/1.1 with a `Content-Length` body within `--max-body-bytes`),
//! it is answered here, with the same answers as the route
//! ([`super::watch`]: the same errors, events, keep-alive comments and
//! last event), its events written as chunks of a chunked body straight
//! to the socket. Any other connection, and this one once its stream has
//! ended, goes to hyper with the bytes read so far put back in front
//! ([`Idle::rewound`]), so everything else is served as before.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use axum::extract::Query;
use axum::http::{StatusCode, Uri};
use futures_util::StreamExt as _;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::sync::mpsc;

use super::State;
use super::http::ApiError;
use super::idle::Idle;
use super::watch;

/// Where connections go to be served by hyper.
pub type Handoff = mpsc::Sender<(Idle, SocketAddr)>;

/// The longest request head read here; a longer one goes to hyper (which
/// takes heads up to its own limit).
const MAX_HEAD: usize = 8 << 10;

/// What is read of a connection before it is known whether it is a watch.
const FIRST_READ: usize = 2 << 10;

/// The head of a watch request.
struct Head {
    /// Its length in the bytes read.
    len: usize,
    name: String,
    uri: Uri,
    body: usize,
    /// `Expect: 100-continue`.
    expects: bool,
    /// `Connection: close`.
    close: bool,
}

/// Counts a connection served here while it lives, for the shutdown to
/// wait for its last event.
struct Counted(Arc<State>);

impl Counted {
    fn new(state: &Arc<State>) -> Counted {
        state.direct.send_modify(|n| *n += 1);
        Counted(Arc::clone(state))
    }
}

impl Drop for Counted {
    fn drop(&mut self) {
        self.0.direct.send_modify(|n| *n = n.saturating_sub(1));
    }
}

/// Reads a new connection's first request line; serves a watch here and
/// hands anything else to hyper.
pub async fn sniff(state: Arc<State>, mut io: Idle, addr: SocketAddr, hyper: Handoff) {
    let mut read = Vec::with_capacity(FIRST_READ);
    loop {
        if let Some(end) = read.iter().position(|b| *b == b'\n') {
            if is_watch(&read[..end]) {
                break;
            }
            let _ = hyper.send((io.rewound(read), addr)).await;
            return;
        }
        if read.len() >= MAX_HEAD || !more(&mut io, &mut read).await {
            return hand_over(io, read, addr, &hyper).await;
        }
    }
    let counted = Counted::new(&state);
    let Some(head) = head(&state, &mut io, &mut read).await else {
        drop(counted);
        return hand_over(io, read, addr, &hyper).await;
    };
    let rest = serve(&state, &mut io, read, head).await;
    drop(counted);
    if let Some(rest) = rest {
        let _ = hyper.send((io.rewound(rest), addr)).await;
    }
}

/// Hands a connection to hyper, unless nothing was read (the client
/// went before it sent anything).
async fn hand_over(io: Idle, read: Vec<u8>, addr: SocketAddr, hyper: &Handoff) {
    if !read.is_empty() {
        let _ = hyper.send((io.rewound(read), addr)).await;
    }
}

/// Reads more of the connection; `false` at its end or on an error.
async fn more(io: &mut Idle, read: &mut Vec<u8>) -> bool {
    if read.capacity() - read.len() < 512 {
        read.reserve(FIRST_READ);
    }
    matches!(io.read_buf(read).await, Ok(n) if n > 0)
}

/// Whether a request line asks for a watch: `POST
/// /v1/policies/NAME/watch[?QUERY] HTTP/1.1`.
fn is_watch(line: &[u8]) -> bool {
    let Some(target) = line.strip_prefix(b"POST /v1/policies/") else {
        return false;
    };
    let path = target
        .split(|b| *b == b'?' || *b == b' ')
        .next()
        .unwrap_or_default();
    path.strip_suffix(b"/watch")
        .is_some_and(|name| !name.is_empty() && !name.contains(&b'/') && !name.contains(&b'%'))
}

/// Reads the whole head of a watch request; `None` if the connection
/// ends first, or if it is not one this module serves (then hyper does).
async fn head(state: &State, io: &mut Idle, read: &mut Vec<u8>) -> Option<Head> {
    loop {
        match parse(read, state.config.max_body_bytes) {
            Parsed::Head(head) => return Some(head),
            Parsed::Other => return None,
            Parsed::Partial if read.len() < MAX_HEAD && more(io, read).await => {}
            Parsed::Partial => return None,
        }
    }
}

enum Parsed {
    Head(Head),
    Partial,
    /// Not a request served here.
    Other,
}

fn parse(read: &[u8], max_body: usize) -> Parsed {
    let mut headers = [httparse::EMPTY_HEADER; 32];
    let mut request = httparse::Request::new(&mut headers);
    let len = match request.parse(read) {
        Ok(httparse::Status::Complete(len)) => len,
        Ok(httparse::Status::Partial) => return Parsed::Partial,
        Err(_) => return Parsed::Other,
    };
    let (Some(target), Some(1)) = (request.path, request.version) else {
        return Parsed::Other;
    };
    let Ok(uri) = target.parse::<Uri>() else {
        return Parsed::Other;
    };
    let name = uri
        .path()
        .trim_start_matches("/v1/policies/")
        .trim_end_matches("/watch")
        .to_owned();
    let (mut body, mut expects, mut close) = (None, false, false);
    for header in request.headers.iter() {
        let value = std::str::from_utf8(header.value).unwrap_or("\u{0}").trim();
        let name = header.name;
        if name.eq_ignore_ascii_case("content-length") {
            match (body, value.parse::<usize>()) {
                (None, Ok(n)) if n <= max_body => body = Some(n),
                _ => return Parsed::Other,
            }
        } else if name.eq_ignore_ascii_case("transfer-encoding") {
            return Parsed::Other;
        } else if name.eq_ignore_ascii_case("expect") {
            if !value.eq_ignore_ascii_case("100-continue") {
                return Parsed::Other;
            }
            expects = true;
        } else if name.eq_ignore_ascii_case("connection") {
            close |= value
                .split(',')
                .any(|v| v.trim().eq_ignore_ascii_case("close"));
        }
    }
    match body {
        Some(body) => Parsed::Head(Head {
            len,
            name,
            uri,
            body,
            expects,
            close,
        }),
        None => Parsed::Other,
    }
}

/// Serves one watch request; the bytes read after it when the connection
/// goes on (to hyper), `None` when it closes.
async fn serve(
    state: &Arc<State>,
    io: &mut Idle,
    mut read: Vec<u8>,
    head: Head,
) -> Option<Vec<u8>> {
    let started = Instant::now();
    let answered = async {
        let (ask, loaded) = watch::prepare(state, &head.name, Query::try_from_uri(&head.uri))?;
        if head.expects && read.len() == head.len {
            io.write_all(b"HTTP/1.1 100 Continue\r\n\r\n")
                .await
                .map_err(|_| None)?;
        }
        let end = head.len + head.body;
        let idle = state.config.read_timeout;
        while read.len() < end {
            match tokio::time::timeout(idle, more(io, &mut read)).await {
                Err(_) => return Err(Some(ApiError::timeout(idle))),
                Ok(false) => return Err(None),
                Ok(true) => {}
            }
        }
        let rest = read.split_off(end);
        read.drain(..head.len);
        let follow = watch::begin(state, head.name.clone(), ask, loaded, read)?;
        Ok((follow, rest))
    };
    let answered: Result<_, Option<ApiError>> = answered.await;
    let status = match &answered {
        Ok(_) => StatusCode::OK,
        Err(Some(e)) => e.status,
        Err(None) => return None,
    };
    state
        .metrics
        .request("watch", status.as_u16(), started.elapsed());
    let (follow, mut rest) = match answered {
        Ok(done) => done,
        Err(e) => {
            // The connection closes after an error: the body may be
            // left unread.
            let e = e?;
            let body = e.body();
            let mut out = response_head(e.status, "application/json");
            out.extend_from_slice(
                format!(
                    "connection: close\r\ncontent-length: {}\r\n\r\n",
                    body.len()
                )
                .as_bytes(),
            );
            out.extend_from_slice(body.as_bytes());
            if io.write_all(&out).await.is_ok() {
                let _ = io.shutdown().await;
            }
            return None;
        }
    };
    let mut events = std::pin::pin!(watch::messages(follow));
    let mut out = response_head(StatusCode::OK, "text/event-stream");
    out.extend_from_slice(b"cache-control: no-cache\r\ntransfer-encoding: chunked\r\n\r\n");
    let (comment, every) = watch::KEEP_ALIVE;
    let keep_alive = tokio::time::sleep(every);
    let mut keep_alive = std::pin::pin!(keep_alive);
    let mut scratch = [0u8; 64];
    loop {
        tokio::select! {
            biased;
            next = events.next() => {
                let Some(message) = next else { break };
                let mut event = Vec::new();
                message.write(&mut event);
                chunk(&mut out, &event);
                io.write_all(&out).await.ok()?;
                out = Vec::new();
                keep_alive.as_mut().reset(tokio::time::Instant::now() + every);
            }
            () = keep_alive.as_mut() => {
                chunk(&mut out, comment);
                io.write_all(&out).await.ok()?;
                out.clear();
                keep_alive.as_mut().reset(tokio::time::Instant::now() + every);
            }
            got = io.read(&mut scratch) => match got {
                // The client is gone (or sends too much while it listens).
                Ok(0) | Err(_) => return None,
                Ok(n) if rest.len() + n > MAX_HEAD => return None,
                Ok(n) => rest.extend_from_slice(&scratch[..n]),
            },
        }
    }
    out.extend_from_slice(b"0\r\n\r\n");
    io.write_all(&out).await.ok()?;
    if head.close {
        let _ = io.shutdown().await;
        return None;
    }
    Some(rest)
}

/// The status line and the headers every answer has.
fn response_head(status: StatusCode, content_type: &str) -> Vec<u8> {
    let date = jiff::fmt::rfc2822::DateTimePrinter::new()
        .timestamp_to_rfc9110_string(&jiff::Timestamp::now())
        .unwrap_or_default();
    format!(
        "HTTP/1.1 {} {}\r\ncontent-type: {content_type}\r\ndate: {date}\r\n",
        status.as_u16(),
        status.canonical_reason().unwrap_or("")
    )
    .into_bytes()
}

/// Appends `bytes` as one chunk of a chunked body.
fn chunk(out: &mut Vec<u8>, bytes: &[u8]) {
    out.extend_from_slice(format!("{:x}\r\n", bytes.len()).as_bytes());
    out.extend_from_slice(bytes);
    out.extend_from_slice(b"\r\n");
}

/// Whether SIGTERM's wait for the streams served here is over.
pub async fn all_closed(state: &State) {
    let mut open = state.direct.subscribe();
    let _ = open.wait_for(|n| *n == 0).await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_watch_request_line_is_served_here() {
        assert!(is_watch(
            b"POST /v1/policies/beijing_entry/watch HTTP/1.1\r"
        ));
        assert!(is_watch(b"POST /v1/policies/p/watch?lang=en HTTP/1.1\r"));
        for other in [
            &b"POST /v1/policies/p/decide HTTP/1.1\r"[..],
            b"GET /v1/policies/p/watch HTTP/1.1\r",
            b"POST /v1/policies//watch HTTP/1.1\r",
            b"POST /v1/policies/a/b/watch HTTP/1.1\r",
            b"POST /v1/policies/a%20b/watch HTTP/1.1\r",
            b"PRI * HTTP/2.0\r",
        ] {
            assert!(!is_watch(other), "{}", String::from_utf8_lossy(other));
        }
    }

    fn parsed(text: &str) -> Option<Head> {
        match parse(text.as_bytes(), 100) {
            Parsed::Head(h) => Some(h),
            _ => None,
        }
    }

    #[test]
    fn a_head_is_served_here_only_with_a_length_within_the_limit() {
        let head = "POST /v1/policies/p/watch?x=1 HTTP/1.1\r\nhost: h\r\nContent-Length: 7\r\nexpect: 100-continue\r\nconnection: keep-alive, close\r\n\r\n{}";
        let h = parsed(head).unwrap_or_else(|| unreachable!());
        assert_eq!(
            (h.name.as_str(), h.uri.query(), h.body, h.expects, h.close),
            ("p", Some("x=1"), 7, true, true)
        );
        assert_eq!(h.len, head.len() - 2);
        for other in [
            "POST /v1/policies/p/watch HTTP/1.1\r\nhost: h\r\n\r\n",
            "POST /v1/policies/p/watch HTTP/1.1\r\ncontent-length: 101\r\n\r\n",
            "POST /v1/policies/p/watch HTTP/1.1\r\ncontent-length: 1\r\ncontent-length: 1\r\n\r\n",
            "POST /v1/policies/p/watch HTTP/1.1\r\ntransfer-encoding: chunked\r\n\r\n",
            "POST /v1/policies/p/watch HTTP/1.0\r\ncontent-length: 1\r\n\r\n",
            "POST /v1/policies/p/watch HTTP/1.1\r\nexpect: other\r\ncontent-length: 1\r\n\r\n",
        ] {
            assert!(parsed(other).is_none(), "{other}");
        }
        assert!(matches!(
            parse(b"POST /v1/policies/p/watch HTTP/1.1\r\nhost", 100),
            Parsed::Partial
        ));
    }

    #[test]
    fn a_chunk_is_its_length_in_hex_then_its_bytes() {
        let mut out = Vec::new();
        chunk(&mut out, &[b'x'; 26]);
        assert_eq!(out, b"1a\r\nxxxxxxxxxxxxxxxxxxxxxxxxxx\r\n");
    }
}
