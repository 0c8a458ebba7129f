//! Running the `policyc` binary in end-to-end tests: from the repository's
//! root, without colour, its stdin written from a thread (a large input
//! cannot then block on a full output pipe) and within a time bound.

use std::io::Write as _;
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::time::Duration;

/// Long enough for a debug build on a busy machine, short enough to fail.
pub const PATIENCE: Duration = Duration::from_secs(60);

/// `policyc` started with `args` in the repository's root, every stream
/// piped.
pub fn spawn<S: AsRef<std::ffi::OsStr>>(args: &[S]) -> Child {
    spawn_in(Path::new(env!("CARGO_MANIFEST_DIR")), args)
}

/// `policyc` started with `args` in `dir`, every stream piped.
pub fn spawn_in<S: AsRef<std::ffi::OsStr>>(dir: &Path, args: &[S]) -> Child {
    spawn_program(Path::new(env!("CARGO_BIN_EXE_policyc")), dir, args)
}

/// `program` (a `policyc` built elsewhere, to compare with this one)
/// started with `args` in `dir`, every stream piped.
pub fn spawn_program<S: AsRef<std::ffi::OsStr>>(program: &Path, dir: &Path, args: &[S]) -> Child {
    Command::new(program)
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| unreachable!("cannot run policyc: {e}"))
}

/// Writes `stdin` to a started child and waits for it, within `PATIENCE`.
pub fn finish(mut child: Child, stdin: Vec<u8>) -> Output {
    if let Some(mut input) = child.stdin.take() {
        std::thread::spawn(move || {
            let _ = input.write_all(&stdin);
        });
    }
    let (send, receive) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = send.send(child.wait_with_output());
    });
    match receive.recv_timeout(PATIENCE) {
        Ok(Ok(output)) => output,
        Ok(Err(e)) => unreachable!("policyc: {e}"),
        Err(_) => unreachable!("policyc did not finish within {PATIENCE:?}"),
    }
}

/// `policyc` run with `args` on `stdin`.
pub fn run<S: AsRef<std::ffi::OsStr>>(args: &[S], stdin: impl Into<Vec<u8>>) -> Output {
    finish(spawn(args), stdin.into())
}

/// `policyc` run with `args` in `dir` on `stdin`.
pub fn run_in<S: AsRef<std::ffi::OsStr>>(
    dir: &Path,
    args: &[S],
    stdin: impl Into<Vec<u8>>,
) -> Output {
    finish(spawn_in(dir, args), stdin.into())
}

/// What it wrote on stdout.
pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// What it wrote on stderr.
pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Its stdout, one JSON value per line.
pub fn lines(o: &Output) -> Vec<serde_json::Value> {
    stdout(o)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| unreachable!("not JSON: {l}: {e}")))
        .collect()
}

/// A path for a test's file, in a folder of this test run.
pub fn temp(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("policyc-test-{}", std::process::id()));
    let _ = std::fs::create_dir_all(&dir);
    dir.join(name)
}

/// The libraries of `policies/` that the shipped Beijing policies use.
pub const LIBRARIES: [&str; 2] = ["beijing-common.policy", "beijing-test-remedy.policy"];

/// Copies [`LIBRARIES`] into `dir`, so that a shipped policy copied there
/// finds the libraries it uses beside it, as in `policies/`.
pub fn copy_libraries(dir: &Path) {
    let _ = std::fs::create_dir_all(dir);
    for name in LIBRARIES {
        let from = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("policies")
            .join(name);
        std::fs::copy(&from, dir.join(name)).unwrap_or_else(|e| unreachable!("{name}: {e}"));
    }
}
