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

/// A Parquet file being read in batches of [`BATCH_ROWS`] rows, one row
/// group after the other: a batch never holds rows of two row groups, so
/// that a column of strings stays the dictionary its row group stores
/// (a batch across two would be read as plain strings and made a
/// dictionary again, each string hashed), and the texts of a dictionary
/// are read once for all the batches of its row group.
pub struct ParquetFile {
    name: String,
    file: File,
    metadata: ArrowReaderMetadata,
    /// The columns read.
    mask: ProjectionMask,
    /// The row group being read, and the number of the next.
    reader: Option<ParquetRecordBatchReader>,
    next_group: usize,
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
        let metadata = hinted.unwrap_or(metadata);
        let rows = usize::try_from(metadata.metadata().file_metadata().num_rows()).unwrap_or(0);
        let schema = metadata.parquet_schema();
        let mask = if policies.iter().any(|p| p.reading().strict) {
            ProjectionMask::all()
        } else {
            let roots = schema.root_schema().get_fields();
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
            ProjectionMask::roots(schema, wanted)
        };
        let mut parquet = ParquetFile {
            name,
            file,
            metadata,
            mask,
            reader: None,
            next_group: 0,
            rows,
        };
        // The first row group is opened now, so that a file that cannot
        // be read so is said before anything is decided.
        parquet.reader = parquet.group().transpose()?;
        Ok(parquet)
    }

    /// A reader of the next row group, `None` after the last.
    fn group(&mut self) -> Option<Result<ParquetRecordBatchReader, ColumnarError>> {
        let group = self.next_group;
        if group >= self.metadata.metadata().num_row_groups() {
            return None;
        }
        self.next_group += 1;
        let reader = self
            .file
            .try_clone()
            .map_err(|e| e.to_string())
            .and_then(|file| {
                ParquetRecordBatchReaderBuilder::new_with_metadata(file, self.metadata.clone())
                    .with_projection(self.mask.clone())
                    .with_row_groups(vec![group])
                    .with_batch_size(BATCH_ROWS)
                    .build()
                    .map_err(|e| e.to_string())
            });
        Some(reader.map_err(|message| ColumnarError::Read {
            path: self.name.clone(),
            message,
        }))
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
        loop {
            let reader = self.reader.as_mut()?;
            if let Some(next) = reader.next() {
                return Some(next.map_err(|e| ColumnarError::Read {
                    path: self.name.clone(),
                    message: e.to_string(),
                }));
            }
            match self.group()? {
                Ok(reader) => self.reader = Some(reader),
                Err(e) => {
                    self.reader = None;
                    return Some(Err(e));
                }
            }
        }
    }
}
