//! Deciding records on several threads while the answers are written in
//! input order.
//!
//! In the one [`pool`] of threads, `jobs` threads take turns reading the
//! input, each into a state of its own, and decide what they read: for
//! JSON Lines ([`each`]) batches of records, each read into a buffer of
//! the thread's (each answer formatted where it is decided); for Parquet
//! the batches of the file. The calling thread writes the answers in
//! order, so the output and the error reports are those of one thread. At most
//! [`WINDOW`] batches per job are read and not yet written: a slow record
//! holds the reading back instead of letting the answers after it pile up.
//!
//! What is done with a record is a [`Work`]: [`super::Decider`] writes
//! answers; `policyc diff` counts transitions (`crate::diff`).

use std::collections::VecDeque;
use std::io::{self, BufRead, Write};
use std::sync::Mutex;
use std::sync::mpsc::{Receiver, sync_channel};
use std::thread;

use super::{Decider, Options, Record, Records, StreamError, Summary};
use crate::DataError;

/// The batches in flight per job: read and not yet written.
const WINDOW: usize = 4;

/// The most records a batch holds.
pub(crate) const BATCH_RECORDS: usize = 256;

/// A batch is handed on once it holds this many bytes, so that the window
/// stays small in bytes even when lines are long.
const BATCH_BYTES: usize = 1 << 20;

/// What the threads of a run do with the records of a batch, each
/// gathering what it found into one `Done` per batch, which the calling
/// thread then takes in input order.
pub(crate) trait Work: Sync {
    /// What a batch gives.
    type Done: Send;
    /// An empty result, for a batch of records.
    fn start(&self) -> Self::Done;
    /// Adds the record whose first line is `line` and whose bytes are
    /// `bytes`.
    fn bytes(&self, done: &mut Self::Done, line: usize, bytes: &[u8]);
    /// Adds a record without bytes (a line past the limit).
    fn other(&self, done: &mut Self::Done, record: Record);
}

/// What the calling thread does with the batches' results, in order.
pub(crate) trait Sink<T> {
    /// Why it stops the run.
    type Error;
    /// Takes the result of the next batch.
    fn take(&mut self, done: T) -> Result<(), Self::Error>;
    /// Nothing more can be taken yet (the threads are deciding), or the
    /// input failed: what was taken may go out now.
    fn idle(&mut self) -> Result<(), Self::Error>;
}

/// Records read together (or their answers), and the read error that
/// ended the input after them.
struct Batch<T> {
    items: T,
    error: Option<io::Error>,
}

/// Records read together: the bytes of each one after the other, read
/// straight into one buffer (which the thread that decides them frees).
struct Lines {
    bytes: Vec<u8>,
    items: Vec<Item>,
}

/// One record of a batch.
enum Item {
    /// Its bytes end at `end` in the batch's bytes, after those of the
    /// record before.
    Bytes { line: usize, end: usize },
    /// A record without bytes.
    Other(Record),
}

impl Lines {
    /// Reads the next record into the batch; `None` at the end.
    fn read<R: BufRead>(&mut self, records: &mut Records<R>) -> Option<io::Result<()>> {
        let (line, other) = match records.next_into(&mut self.bytes)? {
            Ok(read) => read,
            Err(e) => return Some(Err(e)),
        };
        self.items.push(match other {
            None => Item::Bytes {
                line,
                end: self.bytes.len(),
            },
            Some(body) => Item::Other(Record { line, body }),
        });
        Some(Ok(()))
    }
}

/// The answers to a batch of records: their text one after the other (so
/// that the writer only copies bytes, and frees one buffer a batch), and
/// the errors among them in order.
pub(crate) struct Answers {
    records: usize,
    text: String,
    errors: Vec<DataError>,
}

impl Decider<'_> {
    /// Adds an answer to those of its batch.
    fn add(answers: &mut Answers, answer: super::Answer) {
        answers.records += 1;
        if answers.text.is_empty() {
            answers.text = answer.text;
        } else {
            answers.text.push_str(&answer.text);
        }
        answers.errors.extend(answer.error);
    }
}

impl Work for Decider<'_> {
    type Done = Answers;

    fn start(&self) -> Answers {
        Answers {
            records: 0,
            text: String::new(),
            errors: Vec::new(),
        }
    }

    fn bytes(&self, done: &mut Answers, line: usize, bytes: &[u8]) {
        // Written straight after the answers before it.
        done.records += 1;
        done.errors
            .extend(self.answer_bytes_into(line, bytes, &mut done.text));
    }

    fn other(&self, done: &mut Answers, record: Record) {
        Decider::add(done, self.answer(record));
    }
}

/// Writes answers in order, counting them and reporting their errors.
struct Writer<'a, W, F> {
    out: &'a mut W,
    flush_each: bool,
    report: &'a mut F,
    summary: Summary,
}

impl<W: Write, F: FnMut(&DataError)> Sink<Answers> for Writer<'_, W, F> {
    type Error = StreamError;

    fn take(&mut self, answers: Answers) -> Result<(), StreamError> {
        self.out
            .write_all(answers.text.as_bytes())
            .map_err(StreamError::Write)?;
        self.summary.records += answers.records;
        self.summary.bad += answers.errors.len();
        answers.errors.iter().for_each(&mut *self.report);
        Ok(())
    }

    fn idle(&mut self) -> Result<(), StreamError> {
        if self.flush_each {
            self.out.flush().map_err(StreamError::Write)?;
        }
        Ok(())
    }
}

/// The most threads started to decide: more would only cost memory.
const MAX_JOBS: usize = 256;

/// Decides every record of `input` on `jobs` threads (at least 2, at most
/// [`MAX_JOBS`]) and writes the answers in order, as [`super::run`]; gives
/// `input` back untouched if no thread could be started.
pub(super) fn run<R: BufRead + Send>(
    decider: &Decider<'_>,
    input: R,
    out: &mut impl Write,
    options: Options,
    report: &mut impl FnMut(&DataError),
) -> Result<Result<Summary, StreamError>, R> {
    let mut writer = Writer {
        out,
        flush_each: options.flush_each,
        report,
        summary: Summary::default(),
    };
    let done = each(decider, input, options, &mut writer)?;
    // The answers before a read error go out before it is told.
    Ok(match done {
        Ok(()) | Err(StreamError::Read(_)) => match writer.out.flush() {
            Ok(()) => done.map(|()| writer.summary),
            Err(e) => Err(StreamError::Write(e)),
        },
        Err(e) => Err(e),
    })
}

/// Does `work` on every record of `input` on `jobs` threads (at least 2,
/// at most [`MAX_JOBS`]), and gives `sink` the batches' results in input
/// order; gives `input` back untouched if no thread could be started. A
/// read error ends the run after the results of the records before it.
///
/// Each thread in turn reads the next batch into a buffer of its own
/// (reused from batch to batch) under the [`pool`]'s lock, then decides
/// it.
pub(crate) fn each<R: BufRead + Send, W: Work>(
    work: &W,
    input: R,
    options: Options,
    sink: &mut impl Sink<W::Done, Error = StreamError>,
) -> Result<Result<(), StreamError>, R> {
    let (limit, flush_each) = (options.max_line_bytes, options.flush_each);
    let lines = || Lines {
        bytes: Vec::new(),
        items: Vec::with_capacity(BATCH_RECORDS),
    };
    let read = |input: &mut Input<R>, lines: &mut Lines| input.read(lines, limit, flush_each);
    let answer = |lines: &mut Lines, error| Batch {
        items: decide(work, lines),
        error,
    };
    let input = Input::Unread(input);
    match pool(
        options.jobs.get(),
        input,
        lines,
        read,
        answer,
        &mut Ended(sink),
    ) {
        Ok(done) => Ok(done),
        // No thread ran: the input was never read.
        Err(Input::Unread(input)) => Err(input),
        Err(_) => Ok(Ok(())),
    }
}

/// The input the threads of [`each`] read in turn.
enum Input<R> {
    /// Not read yet: given back if no thread could start.
    Unread(R),
    /// Being read.
    Reading(Records<Tracked<R>>),
    /// At its end, or past a read error.
    Done,
}

impl<R: BufRead> Input<R> {
    /// Reads the next batch into `lines`, and gives the read error that
    /// ended the input after it; `None` once nothing more is read.
    fn read(
        &mut self,
        lines: &mut Lines,
        limit: usize,
        flush_each: bool,
    ) -> Option<Option<io::Error>> {
        if let Input::Unread(_) = self
            && let Input::Unread(input) = std::mem::replace(self, Input::Done)
        {
            let input = Tracked { input, buffered: 0 };
            *self = Input::Reading(Records::new(input, limit));
        }
        let Input::Reading(records) = self else {
            return None;
        };
        let (error, stop) = read_batch(records, lines, flush_each);
        if stop {
            *self = Input::Done;
        }
        (!lines.items.is_empty() || error.is_some()).then_some(error)
    }
}

/// A sink of results that may end with a read error: the results before
/// it are taken, then it ends the run.
struct Ended<'s, S>(&'s mut S);

impl<T, S: Sink<T, Error = StreamError>> Sink<Batch<T>> for Ended<'_, S> {
    type Error = StreamError;

    fn take(&mut self, batch: Batch<T>) -> Result<(), StreamError> {
        self.0.take(batch.items)?;
        match batch.error {
            Some(e) => {
                self.0.idle()?;
                Err(StreamError::Read(e))
            }
            None => Ok(()),
        }
    }

    fn idle(&mut self) -> Result<(), StreamError> {
        self.0.idle()
    }
}

/// The one pool of threads of the library's batch runs: of JSON Lines
/// ([`each`]) and of the batches of a Parquet file
/// (`crate::columnar::in_chunks`). Each of `jobs` threads (at most
/// [`MAX_JOBS`]), with a state of its own made by `state` (buffers, the
/// values of a row group's dictionaries), in turn reads the next item of
/// `input` with `read` (into its state, or as the item), under a lock
/// held only while it reads, then
/// turns the item into its result with `work` while the others read or
/// work; the calling thread gives the results to `sink` in the order
/// read. There is no thread that only reads: a batch is worked on by the
/// thread that read it, from its cache, and the 2 cores of a 2-job run
/// are not shared by 3 threads. At most [`WINDOW`] items per job are read
/// and not yet given: a slow item holds the reading back instead of
/// letting the results after it pile up. `read` gives `None` at the end
/// of `input`, and ever after. Gives `input` back untouched if no thread
/// could be started. An error of `sink` ends the run: the threads stop at
/// their next item.
pub(crate) fn pool<In: Send, St, X, T: Send, S: Sink<T>>(
    jobs: usize,
    input: In,
    state: impl Fn() -> St + Sync,
    read: impl Fn(&mut In, &mut St) -> Option<X> + Sync,
    work: impl Fn(&mut St, X) -> T + Sync,
    sink: &mut S,
) -> Result<Result<(), S::Error>, In> {
    let jobs = jobs.clamp(1, MAX_JOBS);
    let window = jobs.saturating_mul(WINDOW);
    // The input, and the number of the next item read.
    let shared = Mutex::new((input, 0));
    let done = thread::scope(|s| {
        // A token per item read and not yet given: a thread waits for
        // room in the window before it reads.
        let (room, freed) = sync_channel::<()>(window);
        let (done, answers) = sync_channel::<(usize, T)>(window);
        let mut started = 0;
        for _ in 0..jobs {
            let (room, done, shared) = (room.clone(), done.clone(), &shared);
            let (state, read, work) = (&state, &read, &work);
            let worker = thread::Builder::new().spawn_scoped(s, move || {
                let mut mine = state();
                while room.send(()).is_ok() {
                    let next = match shared.lock() {
                        Ok(mut shared) => {
                            let (input, next) = &mut *shared;
                            read(input, &mut mine).map(|item| {
                                *next += 1;
                                (*next - 1, item)
                            })
                        }
                        Err(_) => None,
                    };
                    let Some((seq, item)) = next else {
                        return;
                    };
                    if done.send((seq, work(&mut mine, item))).is_err() {
                        return;
                    }
                }
            });
            if worker.is_err() {
                break;
            }
            started += 1;
        }
        drop((room, done));
        (started > 0).then(|| write(&answers, &freed, sink))
        // Leaving drops the receivers: the threads stop at their next send.
    });
    match done {
        Some(done) => Ok(done),
        // No thread ran: nothing was read.
        None => match shared.into_inner() {
            Ok((input, _)) => Err(input),
            Err(poisoned) => Err(poisoned.into_inner().0),
        },
    }
}

/// An input that knows how much of what it has read is not consumed yet.
struct Tracked<R> {
    input: R,
    buffered: usize,
}

impl<R: BufRead> io::Read for Tracked<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        // Not known any more: taken as nothing left.
        self.buffered = 0;
        self.input.read(buf)
    }
}

impl<R: BufRead> BufRead for Tracked<R> {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        let buf = self.input.fill_buf()?;
        self.buffered = buf.len();
        Ok(buf)
    }

    fn consume(&mut self, n: usize) {
        self.buffered = self.buffered.saturating_sub(n);
        self.input.consume(n);
    }
}

/// Reads the next batch of records into `lines` (emptied first): a
/// batch is full at [`BATCH_RECORDS`] records or [`BATCH_BYTES`] bytes;
/// when each answer must be flushed, it ends as soon as the next record
/// is not read yet (a program that writes a line and waits for its answer
/// gets it). Gives the read error that ended the input after the batch,
/// and whether the input is read no further.
fn read_batch<R: BufRead>(
    records: &mut Records<Tracked<R>>,
    lines: &mut Lines,
    flush_each: bool,
) -> (Option<io::Error>, bool) {
    lines.bytes.clear();
    lines.items.clear();
    while lines.items.len() < BATCH_RECORDS && lines.bytes.len() < BATCH_BYTES {
        match lines.read(records) {
            Some(Ok(())) => {}
            Some(Err(e)) => return (Some(e), true),
            None => return (None, true),
        }
        if flush_each && records.get_ref().buffered == 0 {
            break;
        }
    }
    (None, false)
}

/// Does the work of the records of a batch, leaving its buffers empty
/// for the next.
fn decide<W: Work>(work: &W, lines: &mut Lines) -> W::Done {
    let mut result = work.start();
    let mut start = 0;
    for item in lines.items.drain(..) {
        match item {
            Item::Bytes { line, end } => {
                let bytes = lines.bytes.get(start..end).unwrap_or_default();
                start = end;
                work.bytes(&mut result, line, bytes);
            }
            Item::Other(record) => work.other(&mut result, record),
        }
    }
    lines.bytes.clear();
    result
}

/// Gives the batches' results to `sink` in input order as they come,
/// freeing their room in the window.
fn write<T, S: Sink<T>>(
    answers: &Receiver<(usize, T)>,
    freed: &Receiver<()>,
    sink: &mut S,
) -> Result<(), S::Error> {
    let mut order = Reorder::default();
    let mut next = answers.recv().ok();
    while let Some((seq, items)) = next {
        order.put(seq, items);
        while let Some(items) = order.take() {
            sink.take(items)?;
            // The batch's token: there is one for each batch sent.
            let _ = freed.try_recv();
        }
        next = answers.try_recv().ok();
        if next.is_none() {
            // Nothing more to take yet: what was taken goes out now.
            sink.idle()?;
            next = answers.recv().ok();
        }
    }
    Ok(())
}

/// Items numbered 0, 1, 2, ... that arrive in any order, given back in
/// theirs; it holds only those that came before their turn.
#[derive(Debug)]
pub(super) struct Reorder<T> {
    /// The number of the next item to give.
    next: usize,
    /// Items `next`, `next + 1`, ...: `None` where one has not come yet.
    waiting: VecDeque<Option<T>>,
}

impl<T> Default for Reorder<T> {
    fn default() -> Self {
        Reorder {
            next: 0,
            waiting: VecDeque::new(),
        }
    }
}

impl<T> Reorder<T> {
    /// Takes in item `seq`; one already given, or already held, is ignored.
    pub(super) fn put(&mut self, seq: usize, item: T) {
        let Some(at) = seq.checked_sub(self.next) else {
            return;
        };
        if self.waiting.len() <= at {
            self.waiting.resize_with(at + 1, || None);
        }
        if let Some(slot @ None) = self.waiting.get_mut(at) {
            *slot = Some(item);
        }
    }

    /// The next item in order, if it has come.
    pub(super) fn take(&mut self) -> Option<T> {
        let item = self.waiting.front_mut()?.take()?;
        self.waiting.pop_front();
        self.next += 1;
        Some(item)
    }

    /// How many items are held.
    #[cfg(test)]
    fn held(&self) -> usize {
        self.waiting.iter().filter(|w| w.is_some()).count()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stream::{Failing, Output};
    use crate::{Extras, Facts, Policy};

    const GREEN: &str = r#"{"id": "a", "phones": [{"number": "1", "bound_at": "2021-01-05T09:00:00+08:00", "itinerary_checked": true}]}"#;

    /// Runs `f` with a decider of the Beijing policy.
    fn with_decider(f: impl FnOnce(&Decider<'_>)) {
        let (policy, facts, now) = beijing();
        f(&Decider::new(
            &policy,
            &facts,
            now,
            Extras::default(),
            Output::Json,
        ));
    }

    fn beijing() -> (Policy, Facts, i64) {
        use crate::eval::population::{FACTS, NOW, POLICY};
        let policy = Policy::load(POLICY).unwrap_or_else(|e| unreachable!("{e}"));
        let facts = policy.facts(FACTS).unwrap_or_else(|e| unreachable!("{e}"));
        let now = policy.instant(NOW).unwrap_or_else(|e| unreachable!("{e}"));
        (policy, facts, now)
    }

    /// A writer that fails once it has taken `left` bytes.
    struct Full {
        left: usize,
    }

    impl Write for Full {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            if self.left == 0 {
                return Err(io::ErrorKind::BrokenPipe.into());
            }
            let n = buf.len().min(self.left);
            self.left -= n;
            Ok(n)
        }

        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    fn options(jobs: usize, flush_each: bool) -> Options {
        Options {
            flush_each,
            jobs: std::num::NonZeroUsize::new(jobs).unwrap_or(std::num::NonZeroUsize::MIN),
            ..Options::default()
        }
    }

    #[test]
    fn the_records_before_a_read_error_are_answered_then_the_error_given() {
        with_decider(|decider| {
            let text: String = (0..700)
                .map(|i| {
                    if i == 300 {
                        "x\n".to_owned()
                    } else {
                        format!("{GREEN}\n")
                    }
                })
                .collect();
            for (jobs, flush_each) in [(1, false), (2, false), (3, true)] {
                let mut out = Vec::new();
                let mut reported = Vec::new();
                let input = io::BufReader::with_capacity(1000, Failing(text.clone().into_bytes()));
                let result =
                    super::super::run(decider, input, &mut out, options(jobs, flush_each), |e| {
                        reported.push(e.line);
                    });
                assert!(
                    matches!(&result, Err(StreamError::Read(e)) if e.to_string() == "disk on fire"),
                    "{result:?}"
                );
                let out = String::from_utf8(out).unwrap_or_default();
                assert_eq!(out.lines().count(), 700, "--jobs {jobs}");
                assert!(
                    out.lines()
                        .nth(300)
                        .is_some_and(|l| l.starts_with(r#"{"line":301,"#))
                );
                assert_eq!(reported, [Some(301)]);
            }
        });
    }

    #[test]
    fn a_hook_is_told_of_every_decision_on_every_thread() {
        with_decider(|decider| {
            let text: String = (0..700)
                .map(|i| format!("{{\"id\": \"p{i}\"}}\n"))
                .collect();
            for jobs in [1, 3] {
                let told = std::sync::atomic::AtomicUsize::new(0);
                let hook = |d: &crate::Decision<'_>, input: &str, out: &mut String| {
                    told.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    assert!(input.contains(d.id.as_deref().unwrap_or("?")));
                    out.push_str(",\"told\":true");
                };
                let decider = decider.with_hook(&hook);
                let mut out = Vec::new();
                let summary = super::super::run(
                    &decider,
                    text.as_bytes(),
                    &mut out,
                    options(jobs, false),
                    |_| {},
                );
                assert!(summary.is_ok_and(|s| s.records == 700 && s.bad == 0));
                assert_eq!(told.into_inner(), 700, "--jobs {jobs}");
                let out = String::from_utf8(out).unwrap_or_default();
                assert!(
                    out.lines().all(|l| l.ends_with(",\"told\":true}")),
                    "--jobs {jobs}"
                );
                assert!(out.lines().nth(699).is_some_and(|l| l.contains("\"p699\"")));
            }
        });
    }

    #[test]
    fn a_failed_write_ends_the_run_with_what_was_read_unwritten() {
        with_decider(|decider| {
            let text: String = (0..2000).map(|_| format!("{GREEN}\n")).collect();
            for flush_each in [false, true] {
                let result = super::super::run(
                    decider,
                    text.as_bytes(),
                    Full { left: 5000 },
                    options(2, flush_each),
                    |_| {},
                );
                assert!(
                    matches!(&result, Err(StreamError::Write(e)) if e.kind() == io::ErrorKind::BrokenPipe),
                    "{result:?}"
                );
            }
        });
    }

    /// An input that arrives in pieces, one a read, like a pipe.
    struct Pieces(VecDeque<&'static [u8]>);

    impl io::Read for Pieces {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            let Some(piece) = self.0.pop_front() else {
                return Ok(0);
            };
            buf[..piece.len()].copy_from_slice(piece);
            Ok(piece.len())
        }
    }

    /// The number of records in each batch read from `pieces`.
    fn batches(pieces: &[&'static [u8]], flush_each: bool) -> Vec<usize> {
        let mut input = Input::Unread(io::BufReader::new(Pieces(pieces.iter().copied().collect())));
        let mut lines = Lines {
            bytes: Vec::new(),
            items: Vec::new(),
        };
        let mut sizes = Vec::new();
        while input.read(&mut lines, 100, flush_each).is_some() {
            sizes.push(lines.items.len());
        }
        sizes
    }

    #[test]
    fn from_a_pipe_a_batch_holds_the_records_already_read_and_no_more() {
        let pieces: [&[u8]; 4] = [b"{}\n", b"{}\n{}\n", b"{}\n{}\n{", b"}\n"];
        // What came in one piece goes on at once: its answers can be given
        // before the next piece comes.
        assert_eq!(batches(&pieces, true), [1, 2, 3]);
        // From a file, batches are full.
        assert_eq!(batches(&pieces, false), [6]);
    }

    /// Takes every result.
    struct Taken(Vec<(usize, usize)>);

    impl Sink<(usize, usize)> for Taken {
        type Error = ();

        fn take(&mut self, done: (usize, usize)) -> Result<(), ()> {
            self.0.push(done);
            Ok(())
        }

        fn idle(&mut self) -> Result<(), ()> {
            Ok(())
        }
    }

    #[test]
    fn each_thread_works_in_a_state_of_its_own_and_the_results_come_in_order() {
        use std::sync::atomic::{AtomicUsize, Ordering};
        let made = AtomicUsize::new(0);
        // A thread's state: its number, and how many items it took.
        let state = || (made.fetch_add(1, Ordering::Relaxed), 0);
        let read = |items: &mut std::ops::Range<usize>, _: &mut (usize, usize)| items.next();
        let work = |(thread, taken): &mut (usize, usize), item| {
            *taken += 1;
            (item, *thread)
        };
        let mut taken = Taken(Vec::new());
        let done = pool(3, 0..1000, state, read, work, &mut taken);
        assert!(matches!(done, Ok(Ok(()))));
        let made = made.into_inner();
        assert!((1..=3).contains(&made), "one state a thread: {made}");
        let items: Vec<usize> = taken.0.iter().map(|&(item, _)| item).collect();
        assert_eq!(items, (0..1000).collect::<Vec<_>>());
        assert!(taken.0.iter().all(|&(_, thread)| thread < made));
    }

    #[test]
    fn items_come_back_in_their_order_whatever_order_they_came_in() {
        let mut order = Reorder::default();
        let mut given = Vec::new();
        for seq in [2, 0, 1, 5, 3, 4, 7, 6] {
            order.put(seq, seq * 10);
            while let Some(item) = order.take() {
                given.push(item);
            }
        }
        assert_eq!(given, [0, 10, 20, 30, 40, 50, 60, 70]);
        assert_eq!(order.held(), 0);
    }

    #[test]
    fn nothing_is_given_before_its_turn_and_only_early_items_are_held() {
        let mut order = Reorder::default();
        order.put(3, 'd');
        order.put(1, 'b');
        assert_eq!(order.take(), None, "0 has not come");
        assert_eq!(order.held(), 2);
        order.put(0, 'a');
        assert_eq!(order.take(), Some('a'));
        assert_eq!(order.take(), Some('b'));
        assert_eq!(order.take(), None, "2 has not come");
        assert_eq!(order.held(), 1);
        // One given already, or held already, changes nothing.
        order.put(0, 'x');
        order.put(3, 'x');
        order.put(2, 'c');
        assert_eq!(order.take(), Some('c'));
        assert_eq!(order.take(), Some('d'));
        assert_eq!(order.take(), None);
    }

    /// Every permutation of a few items, and a long reversed run.
    #[test]
    fn every_order_of_arrival_gives_the_input_order() {
        fn permutations(n: usize) -> Vec<Vec<usize>> {
            if n == 0 {
                return vec![Vec::new()];
            }
            let mut all = Vec::new();
            for p in permutations(n - 1) {
                for at in 0..=p.len() {
                    let mut q = p.clone();
                    q.insert(at, n - 1);
                    all.push(q);
                }
            }
            all
        }
        let mut arrivals = permutations(5);
        arrivals.push((0..1000).rev().collect());
        for arrival in arrivals {
            let mut order = Reorder::default();
            let mut given = Vec::new();
            for &seq in &arrival {
                order.put(seq, seq);
                while let Some(item) = order.take() {
                    given.push(item);
                }
            }
            let expected: Vec<usize> = (0..arrival.len()).collect();
            assert_eq!(given, expected, "arrival {arrival:?}");
        }
    }
}
