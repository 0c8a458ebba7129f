//! Decisions as Arrow batches, and as a Parquet file.
//!
//! One row per person, in input order: `id`, `outcome`, each payload field
//! of the policy (null where the decision's payload lacks it), `rule` (the
//! deciding rule), `rules` (every rule that fired), `warnings`, with
//! `next_change` and `next_outcome` when they are asked for, and `error`:
//! why the row could not be decided (then every other column is null).

use std::collections::VecDeque;
use std::fs::File;
use std::io::BufWriter;
use std::path::Path;
use std::sync::Arc;

use arrow_array::builder::{
    ArrayBuilder as _, BooleanBuilder, DurationMicrosecondBuilder, Float64Builder, ListBuilder,
    StringBuilder, TimestampMicrosecondBuilder,
};
use arrow_array::{ArrayRef, RecordBatch};
use arrow_schema::{DataType, Field, Schema, SchemaRef, TimeUnit};
use arrow_select::concat::concat_batches;
use parquet::arrow::ArrowWriter;
use parquet::basic::Compression;
use parquet::file::metadata::KeyValue;
use parquet::file::properties::WriterProperties;

use super::ColumnarError;
use crate::data::DataError;
use crate::decision::{Decision, NextChange, write_plain, write_value};
use crate::types::Type;
use crate::value::Value;
use crate::{Policy, time};

/// How many decisions are gathered before they are handed to the Parquet
/// writer as one batch (the batches each thread makes of the decisions
/// it decided are put together so, whatever their size: so the file is
/// the same, byte for byte, whatever the number of threads).
const WRITTEN_ROWS: usize = 8192;

/// The most decisions one row group of `--output` holds.
const ROW_GROUP_ROWS: usize = 16 * WRITTEN_ROWS;

/// The columns every decision has, beside its payload's.
const OWN: [&str; 8] = [
    "id",
    "outcome",
    "rule",
    "rules",
    "warnings",
    "next_change",
    "next_outcome",
    "error",
];

/// Gathers decisions into Arrow batches of the decisions' schema.
pub struct Decisions<'p> {
    policy: &'p Policy,
    schema: SchemaRef,
    next_change: bool,
    payload: Vec<(&'p str, Payload)>,
    id: StringBuilder,
    outcome: StringBuilder,
    rule: StringBuilder,
    rules: ListBuilder<StringBuilder>,
    warnings: ListBuilder<StringBuilder>,
    at: TimestampMicrosecondBuilder,
    then: StringBuilder,
    error: StringBuilder,
    scratch: String,
}

/// The column of one payload field.
enum Payload {
    Number(Float64Builder),
    Bool(BooleanBuilder),
    Time(TimestampMicrosecondBuilder),
    Duration(DurationMicrosecondBuilder),
    /// Text, regions and choices as their text; anything else (a list,
    /// a field that has different types in different rules) as JSON.
    Text(StringBuilder, bool),
}

/// Instants are written in UTC (`+00:00`): Arrow's timestamps carry one zone per
/// column, and readers show them in their own.
const UTC: &str = "+00:00";

fn instant() -> DataType {
    DataType::Timestamp(TimeUnit::Microsecond, Some(UTC.into()))
}

fn strings() -> DataType {
    DataType::List(Arc::new(Field::new("item", DataType::Utf8, true)))
}

impl<'p> Decisions<'p> {
    /// The decisions of `policy`, with `next_change` columns if asked for.
    pub fn new(policy: &'p Policy, next_change: bool) -> Result<Decisions<'p>, ColumnarError> {
        let program = policy.program();
        let mut fields: Vec<(&'p str, &'p Type, bool)> = Vec::new();
        let outcomes = (program.rules.iter().map(|r| &r.then)).chain([&program.otherwise]);
        for (name, expr) in outcomes.flat_map(|o| &o.payload) {
            match fields.iter_mut().find(|(n, ..)| n == name) {
                Some((_, ty, same)) => *same &= ty.non_optional() == expr.ty.non_optional(),
                None => fields.push((name, &expr.ty, true)),
            }
        }
        if let Some((name, ..)) = fields.iter().find(|(n, ..)| OWN.contains(n)) {
            return Err(ColumnarError::PayloadName {
                field: (*name).to_owned(),
            });
        }
        let mut columns = vec![
            Field::new("id", DataType::Utf8, true),
            Field::new("outcome", DataType::Utf8, true),
        ];
        let mut payload = Vec::with_capacity(fields.len());
        for (name, ty, same) in fields {
            let (column, dt) = match ty.non_optional() {
                _ if !same => (Payload::Text(StringBuilder::new(), true), DataType::Utf8),
                Type::Number => (Payload::Number(Float64Builder::new()), DataType::Float64),
                Type::Bool => (Payload::Bool(BooleanBuilder::new()), DataType::Boolean),
                Type::Time => (
                    Payload::Time(TimestampMicrosecondBuilder::new().with_timezone(UTC)),
                    instant(),
                ),
                Type::Duration => (
                    Payload::Duration(DurationMicrosecondBuilder::new()),
                    DataType::Duration(TimeUnit::Microsecond),
                ),
                Type::Text | Type::Region | Type::Enum(_) => {
                    (Payload::Text(StringBuilder::new(), false), DataType::Utf8)
                }
                _ => (Payload::Text(StringBuilder::new(), true), DataType::Utf8),
            };
            columns.push(Field::new(name, dt, true));
            payload.push((name, column));
        }
        columns.extend([
            Field::new("rule", DataType::Utf8, true),
            Field::new("rules", strings(), true),
            Field::new("warnings", strings(), true),
        ]);
        if next_change {
            columns.extend([
                Field::new("next_change", instant(), true),
                Field::new("next_outcome", DataType::Utf8, true),
            ]);
        }
        columns.push(Field::new("error", DataType::Utf8, true));
        Ok(Decisions {
            policy,
            schema: Arc::new(Schema::new(columns)),
            next_change,
            payload,
            id: StringBuilder::new(),
            outcome: StringBuilder::new(),
            rule: StringBuilder::new(),
            rules: ListBuilder::new(StringBuilder::new()),
            warnings: ListBuilder::new(StringBuilder::new()),
            at: TimestampMicrosecondBuilder::new().with_timezone(UTC),
            then: StringBuilder::new(),
            error: StringBuilder::new(),
            scratch: String::new(),
        })
    }

    /// The schema of the batches.
    pub fn schema(&self) -> SchemaRef {
        Arc::clone(&self.schema)
    }

    /// Adds the row of one person: the decision, or why there is none.
    pub fn push(&mut self, decision: Result<&Decision<'_>, &DataError>) {
        let decision = match decision {
            Ok(d) => d,
            Err(e) => {
                self.id.append_null();
                self.outcome.append_null();
                for (_, column) in &mut self.payload {
                    column.null();
                }
                self.rule.append_null();
                self.rules.append_null();
                self.warnings.append_null();
                if self.next_change {
                    self.at.append_null();
                    self.then.append_null();
                }
                self.error.append_value(e.to_string());
                return;
            }
        };
        self.id.append_option(decision.id.as_deref());
        self.outcome.append_value(decision.outcome);
        let tz = &self.policy.program().timezone;
        for (name, column) in &mut self.payload {
            match decision.payload.iter().find(|(n, ..)| n == name) {
                Some((_, value, ty)) => column.value(value, ty, tz, &mut self.scratch),
                None => column.null(),
            }
        }
        self.rule.append_option(decision.deciding_rule());
        for rule in &decision.rules {
            self.rules.values().append_value(rule.name);
        }
        self.rules.append(true);
        for warning in &decision.warnings {
            self.warnings.values().append_value(warning);
        }
        self.warnings.append(true);
        if self.next_change {
            match &decision.next_change {
                NextChange::At { at, then } => {
                    self.at.append_value(*at);
                    self.then.append_value(then.outcome);
                }
                NextChange::Ends { at } => {
                    self.at.append_value(*at);
                    self.then.append_null();
                }
                NextChange::Never | NextChange::NotAsked => {
                    self.at.append_null();
                    self.then.append_null();
                }
            }
        }
        self.error.append_null();
    }

    /// How many rows were added since the last batch.
    pub fn len(&self) -> usize {
        self.outcome.len()
    }

    /// Whether no row was added since the last batch.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The rows added since the last batch, as one.
    pub fn finish(&mut self) -> Result<RecordBatch, ColumnarError> {
        let mut columns: Vec<ArrayRef> =
            vec![Arc::new(self.id.finish()), Arc::new(self.outcome.finish())];
        columns.extend(self.payload.iter_mut().map(|(_, c)| c.finish()));
        columns.push(Arc::new(self.rule.finish()));
        columns.push(Arc::new(self.rules.finish()));
        columns.push(Arc::new(self.warnings.finish()));
        if self.next_change {
            columns.push(Arc::new(self.at.finish()));
            columns.push(Arc::new(self.then.finish()));
        }
        columns.push(Arc::new(self.error.finish()));
        RecordBatch::try_new(self.schema(), columns).map_err(|e| ColumnarError::Write {
            path: "the decisions".into(),
            message: e.to_string(),
        })
    }
}

impl Payload {
    fn null(&mut self) {
        match self {
            Payload::Number(b) => b.append_null(),
            Payload::Bool(b) => b.append_null(),
            Payload::Time(b) => b.append_null(),
            Payload::Duration(b) => b.append_null(),
            Payload::Text(b, _) => b.append_null(),
        }
    }

    fn value(&mut self, value: &Value, ty: &Type, tz: &jiff::tz::TimeZone, scratch: &mut String) {
        match (self, value) {
            (column, Value::None) => column.null(),
            (Payload::Number(b), Value::Number(n)) => b.append_value(*n),
            (Payload::Bool(b), Value::Bool(v)) => b.append_value(*v),
            (Payload::Time(b), Value::Time(t)) => b.append_value(*t),
            (Payload::Duration(b), Value::Duration(d)) => b.append_value(*d),
            (Payload::Text(b, json), value) => {
                scratch.clear();
                if *json {
                    write_value(scratch, value, ty, tz, false);
                } else {
                    write_plain(scratch, value, ty, tz);
                }
                b.append_value(scratch.as_str());
            }
            // A value of another type than its column's cannot be, since
            // a field of two types is written as JSON text.
            (column, _) => column.null(),
        }
    }

    fn finish(&mut self) -> ArrayRef {
        match self {
            Payload::Number(b) => Arc::new(b.finish()),
            Payload::Bool(b) => Arc::new(b.finish()),
            Payload::Time(b) => Arc::new(b.finish()),
            Payload::Duration(b) => Arc::new(b.finish()),
            Payload::Text(b, _) => Arc::new(b.finish()),
        }
    }
}

/// Decisions written to a Parquet file, compressed with Snappy as Spark
/// writes by default.
pub struct DecisionWriter {
    path: String,
    schema: SchemaRef,
    /// Batches of decisions not written yet, and how many rows they hold
    /// (fewer than [`WRITTEN_ROWS`] between two calls).
    pending: VecDeque<RecordBatch>,
    rows: usize,
    writer: ArrowWriter<BufWriter<File>>,
}

impl DecisionWriter {
    /// Creates `path` for the decisions of `policy` at `now`, with
    /// `next_change` columns if asked for; the file's metadata names the
    /// policy and `now`.
    pub fn create(
        path: &Path,
        policy: &Policy,
        now: i64,
        next_change: bool,
    ) -> Result<DecisionWriter, ColumnarError> {
        let name = path.display().to_string();
        let fail = |e: &dyn std::fmt::Display| ColumnarError::Write {
            path: name.clone(),
            message: e.to_string(),
        };
        let schema = Decisions::new(policy, next_change)?.schema();
        let file = File::create(path).map_err(|e| fail(&e))?;
        let program = policy.program();
        let metadata = vec![
            KeyValue::new("policyc.policy".into(), program.name.clone()),
            KeyValue::new(
                "policyc.now".into(),
                time::format_instant(now, &program.timezone),
            ),
        ];
        let properties = WriterProperties::builder()
            .set_compression(Compression::SNAPPY)
            // A row group is closed every 131,072 decisions, so that the
            // writer's memory stays flat in the number of people (by
            // default one row group held up to 1,048,576 rows in memory).
            .set_max_row_group_row_count(Some(ROW_GROUP_ROWS))
            .set_key_value_metadata(Some(metadata))
            .build();
        let writer = ArrowWriter::try_new(
            BufWriter::with_capacity(1 << 16, file),
            Arc::clone(&schema),
            Some(properties),
        )
        .map_err(|e| fail(&e))?;
        Ok(DecisionWriter {
            path: name,
            schema,
            pending: VecDeque::new(),
            rows: 0,
            writer,
        })
    }

    /// Adds the rows of `batch` (decisions, as [`Decisions`] of the same
    /// policy gives them) after those added before, writing a batch of
    /// [`WRITTEN_ROWS`] rows whenever there are enough.
    pub fn append(&mut self, batch: RecordBatch) -> Result<(), ColumnarError> {
        self.rows += batch.num_rows();
        self.pending.push_back(batch);
        while self.rows >= WRITTEN_ROWS {
            self.flush(WRITTEN_ROWS)?;
        }
        Ok(())
    }

    /// Writes the first `n` rows not written yet (all there are, if
    /// fewer) as one batch.
    fn flush(&mut self, n: usize) -> Result<(), ColumnarError> {
        let mut parts = Vec::new();
        let mut left = n;
        while left > 0
            && let Some(batch) = self.pending.pop_front()
        {
            let rows = batch.num_rows();
            if rows > left {
                self.pending.push_front(batch.slice(left, rows - left));
                parts.push(batch.slice(0, left));
                left = 0;
            } else {
                parts.push(batch);
                left -= rows;
            }
        }
        self.rows -= n - left;
        let fail = |e: &dyn std::fmt::Display| ColumnarError::Write {
            path: self.path.clone(),
            message: e.to_string(),
        };
        let batch = match parts.as_slice() {
            [one] => one.clone(),
            parts => concat_batches(&self.schema, parts).map_err(|e| fail(&e))?,
        };
        self.writer.write(&batch).map_err(|e| fail(&e))
    }

    /// Writes what is left and closes the file.
    pub fn finish(mut self) -> Result<(), ColumnarError> {
        if self.rows > 0 {
            self.flush(self.rows)?;
        }
        let path = self.path;
        self.writer
            .close()
            .map(drop)
            .map_err(|e| ColumnarError::Write {
                path,
                message: e.to_string(),
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The rows of `n` people that could not be decided, from row `from`.
    fn undecided(decisions: &mut Decisions<'_>, from: usize, n: usize) -> RecordBatch {
        for row in from..from + n {
            let error = DataError {
                message: format!("row {row} is bad"),
                line: Some(row),
                column: None,
            };
            decisions.push(Err(&error));
        }
        decisions.finish().unwrap_or_else(|e| unreachable!("{e}"))
    }

    #[test]
    fn the_file_is_the_same_whatever_the_sizes_of_the_batches_appended() {
        let policy = Policy::load(crate::eval::population::POLICY).unwrap_or_else(|e| {
            unreachable!("{e}");
        });
        let dir = std::env::temp_dir();
        let mut files = Vec::new();
        // 20,000 rows at once, in odd pieces, and in the pieces of 1,024
        // rows the deciding threads make.
        let mut pieces = vec![1024; 19];
        pieces.push(544);
        let sizes: [&[usize]; 3] = [&[20_000], &[1, 8191, 1024, 3000, 7784], &pieces];
        for (n, sizes) in sizes.into_iter().enumerate() {
            let path = dir.join(format!("policyc-append-{}-{n}.parquet", std::process::id()));
            let mut writer = DecisionWriter::create(&path, &policy, 0, true)
                .unwrap_or_else(|e| unreachable!("{e}"));
            let mut decisions =
                Decisions::new(&policy, true).unwrap_or_else(|e| unreachable!("{e}"));
            let mut from = 0;
            for &size in sizes {
                let batch = undecided(&mut decisions, from, size);
                writer.append(batch).unwrap_or_else(|e| unreachable!("{e}"));
                from += size;
            }
            writer.finish().unwrap_or_else(|e| unreachable!("{e}"));
            files.push(std::fs::read(&path).unwrap_or_default());
            let _ = std::fs::remove_file(&path);
        }
        assert!(files[0].len() > 1000);
        assert!(files.iter().all(|f| *f == files[0]));
    }
}
