//! Reading a Parquet file as Arrow batches.

use std::fs::File;
use std::io::Read as _;
use std::path::Path;
use std::sync::Arc;

use arrow_array::RecordBatch;
use arrow_schema::{DataType, FieldRef, Fields, Schema};
use parquet::arrow::ProjectionMask;
use parquet::arrow::arrow_reader::{
    ArrowReaderMetadata, ArrowReaderOptions, ParquetRecordBatchReader,
    ParquetRecordBatchReaderBuilder,
};

use super::{BATCH_ROWS, ColumnarError};
use crate::Policy;

/// Whether `path` names a Parquet file: it ends in `.parquet`, or it
/// starts with Parquet's magic bytes `PAR1`.
pub fn is_parquet(path: &Path) -> bool {
    if path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("parquet"))
    {
        return true;
    }
    let mut magic = [0u8; 4];
    File::open(path)
        .and_then(|mut f| f.read_exact(&mut magic))
        .is_ok_and(|()| &magic == b"PAR1")
}

/// A Parquet file being read in batches of [`BATCH_ROWS`] rows.
pub struct ParquetFile {
    name: String,
    reader: ParquetRecordBatchReader,
    /// How many rows the file holds.
    pub rows: usize,
}

impl ParquetFile {
    /// Opens `path` to read the people of `policy`: only the columns it
    /// declares are read, unless it reads strictly (then every column is,
    /// so that an undeclared one is found).
    pub fn open(path: &Path, policy: &Policy) -> Result<ParquetFile, ColumnarError> {
        ParquetFile::open_for(path, &[policy])
    }

    /// Opens `path` to read the people of each of `policies` (the two
    /// versions of a diff): the columns any of them declares, or every
    /// column if one reads strictly.
    pub fn open_for(path: &Path, policies: &[&Policy]) -> Result<ParquetFile, ColumnarError> {
        let name = path.display().to_string();
        let fail = |e: &dyn std::fmt::Display| ColumnarError::Read {
            path: name.clone(),
            message: e.to_string(),
        };
        let file = File::open(path).map_err(|e| fail(&e))?;
        let metadata =
            ArrowReaderMetadata::load(&file, ArrowReaderOptions::new()).map_err(|e| fail(&e))?;
        // Strings are read as the dictionaries they are stored as, where
        // they are (as Parquet writers store them unless there are too
        // many different ones), so that each text is read once per batch
        // and not once per row: a region code parsed once, a phone number
        // shared by its stays. A file whose strings cannot be read so is
        // read as it is.
        let hinted = ArrowReaderMetadata::try_new(
            Arc::clone(metadata.metadata()),
            ArrowReaderOptions::new().with_schema(Arc::new(dictionaries(metadata.schema()))),
        );
        let builder =
            ParquetRecordBatchReaderBuilder::new_with_metadata(file, hinted.unwrap_or(metadata));
        let rows = usize::try_from(builder.metadata().file_metadata().num_rows()).unwrap_or(0);
        let builder = if policies.iter().any(|p| p.reading().strict) {
            builder
        } else {
            let roots = builder.parquet_schema().root_schema().get_fields();
            // A column spelt nearly like a declared field is read too: it
            // may be that field misspelt, which the decisions warn of.
            let wanted_by = |policy: &Policy, name: &str| {
                let schema = &policy.program().input;
                let declared = schema.fields.iter().map(|(n, _)| n.as_str());
                schema.field(name).is_some()
                    || crate::suggest::did_you_mean(name, declared).is_some()
            };
            let wanted: Vec<usize> = (roots.iter().enumerate())
                .filter(|(_, f)| policies.iter().any(|p| wanted_by(p, f.name())))
                .map(|(i, _)| i)
                .collect();
            let mask = ProjectionMask::roots(builder.parquet_schema(), wanted);
            builder.with_projection(mask)
        };
        let reader = builder
            .with_batch_size(BATCH_ROWS)
            .build()
            .map_err(|e| fail(&e))?;
        Ok(ParquetFile { name, reader, rows })
    }
}

/// `schema` with each string column, at any depth, as a dictionary of
/// strings.
fn dictionaries(schema: &Schema) -> Schema {
    fn field(f: &FieldRef) -> FieldRef {
        let ty = match f.data_type() {
            DataType::Utf8 => {
                DataType::Dictionary(Box::new(DataType::Int32), Box::new(DataType::Utf8))
            }
            DataType::List(e) => DataType::List(field(e)),
            DataType::LargeList(e) => DataType::LargeList(field(e)),
            DataType::Struct(fields) => DataType::Struct(fields.iter().map(field).collect()),
            other => other.clone(),
        };
        Arc::new(f.as_ref().clone().with_data_type(ty))
    }
    Schema::new_with_metadata(
        schema.fields().iter().map(field).collect::<Fields>(),
        schema.metadata().clone(),
    )
}

impl Iterator for ParquetFile {
    type Item = Result<RecordBatch, ColumnarError>;

    fn next(&mut self) -> Option<Self::Item> {
        let next = self.reader.next()?;
        Some(next.map_err(|e| ColumnarError::Read {
            path: self.name.clone(),
            message: e.to_string(),
        }))
    }
}
