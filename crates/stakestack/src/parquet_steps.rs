//! `steps.parquet`: one row per (path, step), the same columns as `steps.csv`.
//!
//! Plain, uncompressed pages and no nested types, so that any Parquet reader (pandas with
//! pyarrow or fastparquet, DuckDB, polars) loads it. Rows are written a row group per batch of
//! paths: the file streams, it is never held whole in memory.

use anyhow::Result;
use parquet::basic::{LogicalType, Repetition, Type as PhysicalType};
use parquet::data_type::{ByteArray, ByteArrayType, DoubleType, Int64Type};
use parquet::file::properties::WriterProperties;
use parquet::file::writer::SerializedFileWriter;
use parquet::schema::types::Type;
use stake_engine::report::StepRow;
use std::fs::File;
use std::path::Path;
use std::sync::Arc;

/// Rows buffered before a row group is written.
const ROWS_PER_GROUP: usize = 64 * 1024;

/// A `steps.parquet` being written.
pub(crate) struct ParquetSteps {
    writer: SerializedFileWriter<File>,
    columns: usize,
    path: Vec<i64>,
    step: Vec<i64>,
    t: Vec<i64>,
    date: Vec<ByteArray>,
    values: Vec<Vec<f64>>,
}

fn int64(name: &str) -> Result<Arc<Type>> {
    Ok(Arc::new(
        Type::primitive_type_builder(name, PhysicalType::INT64)
            .with_repetition(Repetition::REQUIRED)
            .build()?,
    ))
}

impl ParquetSteps {
    /// Creates the file with a column per metric (after `path`, `step`, `t`, `date`).
    pub(crate) fn create(file: &Path, columns: &[String]) -> Result<Self> {
        let mut fields = vec![int64("path")?, int64("step")?, int64("t")?];
        fields.push(Arc::new(
            Type::primitive_type_builder("date", PhysicalType::BYTE_ARRAY)
                .with_repetition(Repetition::REQUIRED)
                .with_logical_type(Some(LogicalType::String))
                .build()?,
        ));
        for c in columns {
            fields.push(Arc::new(
                Type::primitive_type_builder(c, PhysicalType::DOUBLE)
                    .with_repetition(Repetition::REQUIRED)
                    .build()?,
            ));
        }
        let schema = Arc::new(Type::group_type_builder("steps").with_fields(fields).build()?);
        let props = Arc::new(
            WriterProperties::builder()
                .set_created_by(format!("stakestack {}", env!("CARGO_PKG_VERSION")))
                .build(),
        );
        Ok(ParquetSteps {
            writer: SerializedFileWriter::new(File::create(file)?, schema, props)?,
            columns: columns.len(),
            path: Vec::new(),
            step: Vec::new(),
            t: Vec::new(),
            date: Vec::new(),
            values: vec![Vec::new(); columns.len()],
        })
    }

    /// Adds one path's rows.
    pub(crate) fn add_path(&mut self, index: u64, rows: &[StepRow]) -> Result<()> {
        let index = i64::try_from(index)?;
        for (k, r) in rows.iter().enumerate() {
            if r.values.len() != self.columns {
                anyhow::bail!(
                    "step {k} of path {index} has {} values for {} columns",
                    r.values.len(),
                    self.columns
                );
            }
            self.path.push(index);
            self.step.push(i64::try_from(k)?);
            self.t.push(i64::try_from(r.t)?);
            self.date.push(ByteArray::from(r.date.as_str()));
            for (c, v) in r.values.iter().enumerate() {
                self.values[c].push(*v);
            }
        }
        if self.path.len() >= ROWS_PER_GROUP {
            self.flush()?;
        }
        Ok(())
    }

    fn flush(&mut self) -> Result<()> {
        if self.path.is_empty() {
            return Ok(());
        }
        let mut rg = self.writer.next_row_group()?;
        let mut k = 0usize;
        while let Some(mut col) = rg.next_column()? {
            match k {
                0 => col.typed::<Int64Type>().write_batch(&self.path, None, None)?,
                1 => col.typed::<Int64Type>().write_batch(&self.step, None, None)?,
                2 => col.typed::<Int64Type>().write_batch(&self.t, None, None)?,
                3 => col.typed::<ByteArrayType>().write_batch(&self.date, None, None)?,
                c => col.typed::<DoubleType>().write_batch(&self.values[c - 4], None, None)?,
            };
            col.close()?;
            k += 1;
        }
        rg.close()?;
        self.path.clear();
        self.step.clear();
        self.t.clear();
        self.date.clear();
        for v in &mut self.values {
            v.clear();
        }
        Ok(())
    }

    /// Writes the buffered rows and the footer.
    pub(crate) fn finish(mut self) -> Result<()> {
        self.flush()?;
        self.writer.close()?;
        Ok(())
    }
}
