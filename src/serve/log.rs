//! The decision log: one JSON line per decision, written by one thread
//! through a bounded queue. Each write is whole lines, and a line torn by
//! a crash in an earlier run is cut off when the log is opened again, so
//! the log never holds half a line.

use std::fs::{File, OpenOptions};
use std::io::{self, Read as _, Seek as _, SeekFrom, Write as _};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use serde_json::Value as Json;
use tokio::sync::mpsc;

use crate::types::{RecordType, Type};

/// What to do with a decision when the queue is full.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WhenFull {
    /// Wait for room: nothing is lost.
    Block,
    /// Drop the line and count it.
    Drop,
}

enum Message {
    Line(String),
    /// Write what is queued, sync the file and stop.
    Close,
}

/// The writing end of the log.
pub struct DecisionLog {
    queue: mpsc::Sender<Message>,
    capacity: usize,
    when_full: WhenFull,
    /// Lines dropped because the queue was full.
    pub dropped: Arc<AtomicU64>,
    /// Lines that could not be written.
    pub failed: Arc<AtomicU64>,
    writer: std::sync::Mutex<Option<std::thread::JoinHandle<()>>>,
}

impl DecisionLog {
    /// Opens (or creates) the log at `path` for appending, first cutting
    /// off a last line a crash left without its end.
    pub fn open(path: &Path, capacity: usize, when_full: WhenFull) -> io::Result<DecisionLog> {
        let mut file = OpenOptions::new()
            .read(true)
            .append(true)
            .create(true)
            .open(path)?;
        cut_torn_line(&mut file)?;
        let (queue, mut receive) = mpsc::channel(capacity.max(1));
        let failed = Arc::new(AtomicU64::new(0));
        let writer = std::thread::Builder::new()
            .name("decision-log".into())
            .spawn({
                let failed = Arc::clone(&failed);
                move || write_lines(&mut file, &mut receive, &failed)
            })?;
        Ok(DecisionLog {
            queue,
            capacity: capacity.max(1),
            when_full,
            dropped: Arc::new(AtomicU64::new(0)),
            failed,
            writer: std::sync::Mutex::new(Some(writer)),
        })
    }

    /// Lines waiting to be written.
    pub fn depth(&self) -> usize {
        self.capacity.saturating_sub(self.queue.capacity())
    }

    /// Queues one line (from async code).
    pub async fn write(&self, line: String) {
        match self.when_full {
            WhenFull::Block => {
                if self.queue.send(Message::Line(line)).await.is_err() {
                    self.failed.fetch_add(1, Ordering::Relaxed);
                }
            }
            WhenFull::Drop => self.try_write(line),
        }
    }

    /// Queues one line (from a thread that may block).
    pub fn write_blocking(&self, line: String) {
        match self.when_full {
            WhenFull::Block => {
                if self.queue.blocking_send(Message::Line(line)).is_err() {
                    self.failed.fetch_add(1, Ordering::Relaxed);
                }
            }
            WhenFull::Drop => self.try_write(line),
        }
    }

    fn try_write(&self, line: String) {
        if self.queue.try_send(Message::Line(line)).is_err() {
            self.dropped.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Writes every queued line, syncs the file and stops the writer.
    pub async fn close(&self) {
        let _ = self.queue.send(Message::Close).await;
        let writer = self.writer.lock().ok().and_then(|mut w| w.take());
        if let Some(writer) = writer {
            let _ = tokio::task::spawn_blocking(move || writer.join()).await;
        }
    }
}

/// The writer thread: takes what is queued, and writes it as whole lines.
fn write_lines(file: &mut File, receive: &mut mpsc::Receiver<Message>, failed: &AtomicU64) {
    let mut buffer = String::with_capacity(1 << 16);
    let mut lines = 0u64;
    let mut closing = false;
    while !closing {
        let Some(first) = receive.blocking_recv() else {
            break;
        };
        let mut next = Some(first);
        while let Some(message) = next.take() {
            match message {
                Message::Line(line) => {
                    buffer.push_str(&line);
                    buffer.push('\n');
                    lines += 1;
                }
                Message::Close => closing = true,
            }
            if buffer.len() < 1 << 16 && !closing {
                next = receive.try_recv().ok();
            }
        }
        // One write of whole lines: in append mode it lands at the end.
        if file.write_all(buffer.as_bytes()).is_err() {
            failed.fetch_add(lines, Ordering::Relaxed);
        }
        buffer.clear();
        lines = 0;
    }
    let _ = file.sync_data();
}

/// Cuts the file back to its last line end, if it does not end with one.
fn cut_torn_line(file: &mut File) -> io::Result<()> {
    let len = file.metadata()?.len();
    if len == 0 {
        return Ok(());
    }
    let mut end = len;
    let mut chunk = vec![0u8; 4096];
    loop {
        let start = end.saturating_sub(chunk.len() as u64);
        let n = usize::try_from(end - start).unwrap_or(0);
        file.seek(SeekFrom::Start(start))?;
        file.read_exact(&mut chunk[..n])?;
        if end == len && chunk[n - 1] == b'\n' {
            return Ok(());
        }
        if let Some(i) = chunk[..n].iter().rposition(|&b| b == b'\n') {
            return file.set_len(start + i as u64 + 1);
        }
        if start == 0 {
            return file.set_len(0);
        }
        end = start;
    }
}

/// The person record with every field the schema marks `private` written
/// as `"***"`, at any depth.
pub fn masked(mut record: Json, schema: &RecordType) -> Json {
    mask_record(&mut record, schema);
    record
}

fn mask_record(value: &mut Json, schema: &RecordType) {
    let Json::Object(fields) = value else {
        return;
    };
    for (slot, (name, ty)) in schema.fields.iter().enumerate() {
        let Some(field) = fields.get_mut(name) else {
            continue;
        };
        if schema.private.contains(&slot) {
            if !field.is_null() {
                *field = Json::String("***".into());
            }
        } else {
            mask_value(field, ty);
        }
    }
}

fn mask_value(value: &mut Json, ty: &Type) {
    match ty {
        Type::Record(record) => mask_record(value, record),
        Type::Optional(inner) => mask_value(value, inner),
        Type::List(inner) | Type::Set(inner) => {
            if let Json::Array(items) = value {
                for item in items {
                    mask_value(item, inner);
                }
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_torn_last_line_is_cut_and_whole_lines_stay() -> io::Result<()> {
        let path = std::env::temp_dir().join(format!("policyc-log-{}", std::process::id()));
        std::fs::write(&path, "{\"a\":1}\n{\"b\":")?;
        let mut file = OpenOptions::new().read(true).append(true).open(&path)?;
        cut_torn_line(&mut file)?;
        assert_eq!(std::fs::read_to_string(&path)?, "{\"a\":1}\n");
        cut_torn_line(&mut file)?;
        assert_eq!(std::fs::read_to_string(&path)?, "{\"a\":1}\n");
        std::fs::write(&path, "no end at all")?;
        cut_torn_line(&mut file)?;
        assert_eq!(std::fs::read_to_string(&path)?, "");
        std::fs::remove_file(&path)
    }

    #[test]
    fn private_fields_are_masked_at_any_depth() {
        let policy = crate::Policy::compile(
            "p.policy",
            "policy p\ntimezone \"UTC\"\noutcomes green\n\
             input person { private id_number: text?, phones: list of { private number: text, kind: text } }\n\
             otherwise green\n",
        )
        .unwrap_or_else(|e| unreachable!("{e}"));
        let record = serde_json::json!({"id_number": "110101", "extra": 1,
            "phones": [{"number": "138", "kind": "mobile"}]});
        assert_eq!(
            masked(record, &policy.program().input),
            serde_json::json!({"id_number": "***", "extra": 1,
                "phones": [{"number": "***", "kind": "mobile"}]})
        );
    }
}
