//! The run store: every run recorded in an embedded SQLite database, `runs.sqlite` in the output
//! root (`out/`, or the folder holding `--out DIR`) unless `--store` names another file, for
//! `stakestack runs`.

use anyhow::{Context, Result};
use rusqlite::{params, Connection, OptionalExtension};
use serde::Serialize;
use std::path::Path;

/// The store's file name in an output root.
pub(crate) const FILE_NAME: &str = "runs.sqlite";

/// The store's default file (in the default output root, `out/`).
pub(crate) const DEFAULT: &str = "out/runs.sqlite";

/// One recorded run.
#[derive(Clone, Debug, Serialize)]
pub(crate) struct RunRecord {
    /// Run id (also the name of its output folder when the default layout is used).
    pub id: String,
    /// When it started (UTC, RFC 3339).
    pub started: String,
    /// Scenario name.
    pub scenario: String,
    /// BLAKE3 of the scenario text.
    pub scenario_hash: String,
    /// Seed.
    pub seed: u64,
    /// stakestack version.
    pub version: String,
    /// Paths run.
    pub paths: u64,
    /// The single path run with `--path`, if any.
    pub path: Option<u64>,
    /// Wall time, seconds.
    pub wall_seconds: f64,
    /// Where its outputs are.
    pub out_dir: String,
    /// Final state hash of path 0 (or of the `--path` path).
    pub state_hash: String,
    /// Key metrics (JSON object: name → value or percentiles).
    pub metrics: serde_json::Value,
}

fn open(file: &Path) -> Result<Connection> {
    if let Some(dir) = file.parent() {
        if !dir.as_os_str().is_empty() {
            std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
        }
    }
    let c = Connection::open(file).with_context(|| format!("cannot open the run store {}", file.display()))?;
    c.busy_timeout(std::time::Duration::from_secs(5))?;
    c.execute_batch(
        "CREATE TABLE IF NOT EXISTS runs (
            id TEXT PRIMARY KEY,
            started TEXT NOT NULL,
            scenario TEXT NOT NULL,
            scenario_hash TEXT NOT NULL,
            seed INTEGER NOT NULL,
            version TEXT NOT NULL,
            paths INTEGER NOT NULL,
            path INTEGER,
            wall_seconds REAL NOT NULL,
            out_dir TEXT NOT NULL,
            state_hash TEXT NOT NULL,
            metrics TEXT NOT NULL
        );",
    )?;
    Ok(c)
}

fn i64_of(v: u64) -> Result<i64> {
    i64::try_from(v).context("a number too large for the run store")
}

/// Records a run.
pub(crate) fn record(file: &Path, r: &RunRecord) -> Result<()> {
    let c = open(file)?;
    c.execute(
        "INSERT INTO runs (id, started, scenario, scenario_hash, seed, version, paths, path, wall_seconds, out_dir, state_hash, metrics)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
        params![
            r.id,
            r.started,
            r.scenario,
            r.scenario_hash,
            // Seeds are any u64: stored as their two's-complement i64, read back the same way.
            i64::from_ne_bytes(r.seed.to_ne_bytes()),
            r.version,
            i64_of(r.paths)?,
            r.path.map(i64_of).transpose()?,
            r.wall_seconds,
            r.out_dir,
            r.state_hash,
            r.metrics.to_string()
        ],
    )
    .with_context(|| format!("cannot record the run in {}", file.display()))?;
    Ok(())
}

fn row(r: &rusqlite::Row<'_>) -> rusqlite::Result<RunRecord> {
    let seed: i64 = r.get(4)?;
    let paths: i64 = r.get(6)?;
    let path: Option<i64> = r.get(7)?;
    let metrics: String = r.get(11)?;
    Ok(RunRecord {
        id: r.get(0)?,
        started: r.get(1)?,
        scenario: r.get(2)?,
        scenario_hash: r.get(3)?,
        seed: u64::from_ne_bytes(seed.to_ne_bytes()),
        version: r.get(5)?,
        paths: u64::try_from(paths).unwrap_or(0),
        path: path.and_then(|p| u64::try_from(p).ok()),
        wall_seconds: r.get(8)?,
        out_dir: r.get(9)?,
        state_hash: r.get(10)?,
        metrics: serde_json::from_str(&metrics).unwrap_or(serde_json::Value::Null),
    })
}

const COLUMNS: &str =
    "id, started, scenario, scenario_hash, seed, version, paths, path, wall_seconds, out_dir, state_hash, metrics";

/// Every recorded run, oldest first. A store that does not exist yet holds none.
pub(crate) fn list(file: &Path) -> Result<Vec<RunRecord>> {
    if !file.exists() {
        return Ok(Vec::new());
    }
    let c = open(file)?;
    let mut st = c.prepare(&format!("SELECT {COLUMNS} FROM runs ORDER BY started, id"))?;
    let rows = st.query_map([], row)?.collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(rows)
}

/// One run by id, or by a unique prefix of its id.
pub(crate) fn get(file: &Path, id: &str) -> Result<Option<RunRecord>> {
    if !file.exists() {
        return Ok(None);
    }
    let c = open(file)?;
    if let Some(r) = c
        .query_row(&format!("SELECT {COLUMNS} FROM runs WHERE id = ?1"), [id], row)
        .optional()?
    {
        return Ok(Some(r));
    }
    let mut st = c.prepare(&format!(
        "SELECT {COLUMNS} FROM runs WHERE substr(id, 1, length(?1)) = ?1"
    ))?;
    let mut found = st.query_map([id], row)?.collect::<rusqlite::Result<Vec<_>>>()?;
    match found.len() {
        1 => Ok(found.pop()),
        0 => Ok(None),
        n => anyhow::bail!("`{id}` matches {n} runs; give more of the id"),
    }
}
