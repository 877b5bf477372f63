//! The SQLite file of a ledger (format in `docs/store.md`).
//!
//! One file in WAL mode with `synchronous = FULL`: a batch of accepted transactions and its
//! checkpoint are written in one SQLite transaction, whose commit is one fsync of the WAL. So
//! an acknowledged batch survives a crash or a power loss, and a batch that was not committed
//! leaves no trace.

use rusqlite::{params, Connection, OptionalExtension};
use std::path::Path;

/// The schema version this build writes and reads.
pub const SCHEMA_VERSION: i64 = 1;

/// A database error, with what was being done.
#[derive(Debug)]
pub struct DbError {
    /// What failed.
    pub message: String,
}

impl std::fmt::Display for DbError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ledger database: {}", self.message)
    }
}

impl std::error::Error for DbError {}

fn ctx(what: &str) -> impl FnOnce(rusqlite::Error) -> DbError + '_ {
    move |e| DbError {
        message: format!("{what}: {e}"),
    }
}

fn bad(message: impl Into<String>) -> DbError {
    DbError {
        message: message.into(),
    }
}

/// One accepted transaction in the log.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogEntry {
    /// Position in the log, from 1, without gaps.
    pub seq: u64,
    /// The signer's ed25519 public key.
    pub signer: [u8; 32],
    /// The signer's nonce it used.
    pub nonce: u64,
    /// The signed transaction exactly as received (its canonical bytes).
    pub tx: Vec<u8>,
    /// The outcome as JSON (`{"Applied":{"events":[…]}}` or `{"Rejected":{"code":…,"message":…}}`).
    pub outcome: String,
    /// The rejection code, when the engine rejected it (the nonce is still used).
    pub code: Option<u32>,
}

/// A committed batch's state hash.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Checkpoint {
    /// Batch number, from 1.
    pub batch: u64,
    /// The last log entry of the batch.
    pub last_seq: u64,
    /// The world's state hash after it.
    pub state_hash: [u8; 32],
}

/// An open ledger database.
pub struct Db {
    conn: Connection,
    next_seq: u64,
    next_batch: u64,
}

const SCHEMA: &str = "
CREATE TABLE schema_version (version INTEGER NOT NULL);
CREATE TABLE meta (key TEXT PRIMARY KEY, value BLOB NOT NULL);
CREATE TABLE log (
    seq     INTEGER PRIMARY KEY,
    batch   INTEGER NOT NULL,
    signer  BLOB NOT NULL,
    nonce   INTEGER NOT NULL,
    tx      BLOB NOT NULL,
    outcome TEXT NOT NULL,
    code    INTEGER,
    UNIQUE (signer, nonce)
);
CREATE TABLE checkpoints (
    batch      INTEGER PRIMARY KEY,
    last_seq   INTEGER NOT NULL,
    state_hash BLOB NOT NULL
);
";

fn connect(path: &Path) -> Result<Connection, DbError> {
    let c = Connection::open(path).map_err(ctx("open"))?;
    // WAL: readers never block the writer; FULL: every commit fsyncs the WAL, so a committed
    // batch is durable when `commit` returns.
    c.pragma_update(None, "journal_mode", "WAL")
        .map_err(ctx("journal_mode=WAL"))?;
    c.pragma_update(None, "synchronous", "FULL")
        .map_err(ctx("synchronous=FULL"))?;
    c.busy_timeout(std::time::Duration::from_secs(5))
        .map_err(ctx("busy_timeout"))?;
    Ok(c)
}

fn i64_of(v: u64, what: &str) -> Result<i64, DbError> {
    i64::try_from(v).map_err(|_| bad(format!("{what} {v} does not fit SQLite's integer")))
}

fn u64_of(v: i64, what: &str) -> Result<u64, DbError> {
    u64::try_from(v).map_err(|_| bad(format!("{what} {v} is negative")))
}

fn key32(b: Vec<u8>, what: &str) -> Result<[u8; 32], DbError> {
    <[u8; 32]>::try_from(b.as_slice()).map_err(|_| bad(format!("{what} is {} bytes, not 32", b.len())))
}

impl Db {
    /// Whether `path` holds a ledger (a file with a `schema_version` table).
    pub fn exists(path: &Path) -> Result<bool, DbError> {
        if !path.exists() {
            return Ok(false);
        }
        let c = Connection::open(path).map_err(ctx("open"))?;
        let n: i64 = c
            .query_row(
                "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'schema_version'",
                [],
                |r| r.get(0),
            )
            .map_err(ctx("read the schema"))?;
        Ok(n > 0)
    }

    /// Creates the tables in a new (or empty) file and records the genesis.
    pub fn create(path: &Path, genesis: &str, genesis_hash: [u8; 32]) -> Result<Db, DbError> {
        if Db::exists(path)? {
            return Err(bad(format!("{} already holds a ledger", path.display())));
        }
        let mut c = connect(path)?;
        let t = c.transaction().map_err(ctx("begin"))?;
        t.execute_batch(SCHEMA).map_err(ctx("create the tables"))?;
        t.execute("INSERT INTO schema_version (version) VALUES (?1)", [SCHEMA_VERSION])
            .map_err(ctx("write the schema version"))?;
        t.execute(
            "INSERT INTO meta (key, value) VALUES ('genesis', ?1), ('genesis_hash', ?2), ('format', 'stakestack-ledger')",
            params![genesis.as_bytes(), genesis_hash.as_slice()],
        )
        .map_err(ctx("write the genesis"))?;
        t.commit().map_err(ctx("commit the genesis"))?;
        Ok(Db {
            conn: c,
            next_seq: 1,
            next_batch: 1,
        })
    }

    /// Opens an existing ledger file, checking its schema version.
    pub fn open(path: &Path) -> Result<Db, DbError> {
        if !Db::exists(path)? {
            return Err(bad(format!("{} holds no ledger", path.display())));
        }
        let c = connect(path)?;
        let v: i64 = c
            .query_row("SELECT version FROM schema_version", [], |r| r.get(0))
            .map_err(ctx("read the schema version"))?;
        if v != SCHEMA_VERSION {
            return Err(bad(format!(
                "schema version {v} is not the version {SCHEMA_VERSION} this build reads"
            )));
        }
        let last_seq: Option<i64> = c
            .query_row("SELECT max(seq) FROM log", [], |r| r.get(0))
            .map_err(ctx("read the log"))?;
        let last_batch: Option<i64> = c
            .query_row("SELECT max(batch) FROM checkpoints", [], |r| r.get(0))
            .map_err(ctx("read the checkpoints"))?;
        Ok(Db {
            conn: c,
            next_seq: u64_of(last_seq.unwrap_or(0), "seq")? + 1,
            next_batch: u64_of(last_batch.unwrap_or(0), "batch")? + 1,
        })
    }

    fn meta(&self, key: &str) -> Result<Vec<u8>, DbError> {
        self.conn
            .query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0))
            .optional()
            .map_err(ctx("read meta"))?
            .ok_or_else(|| bad(format!("meta `{key}` is missing")))
    }

    /// The genesis text.
    pub fn genesis(&self) -> Result<String, DbError> {
        String::from_utf8(self.meta("genesis")?).map_err(|_| bad("the genesis is not UTF-8"))
    }

    /// The state hash of the genesis world.
    pub fn genesis_hash(&self) -> Result<[u8; 32], DbError> {
        key32(self.meta("genesis_hash")?, "the genesis hash")
    }

    /// The sequence number the next entry gets.
    pub fn next_seq(&self) -> u64 {
        self.next_seq
    }

    /// Appends a batch and its checkpoint in one transaction (one fsync). The entries must
    /// continue the log without a gap.
    pub fn append(&mut self, entries: &[LogEntry], state_hash: [u8; 32]) -> Result<(), DbError> {
        let Some(last) = entries.last() else {
            return Ok(());
        };
        for (i, e) in entries.iter().enumerate() {
            let want = self
                .next_seq
                .checked_add(u64::try_from(i).map_err(|_| bad("batch too large"))?);
            if Some(e.seq) != want {
                return Err(bad(format!(
                    "entry {} does not continue the log at {}",
                    e.seq, self.next_seq
                )));
            }
        }
        let batch = i64_of(self.next_batch, "batch")?;
        let t = self.conn.transaction().map_err(ctx("begin the batch"))?;
        {
            let mut st = t
                .prepare_cached(
                    "INSERT INTO log (seq, batch, signer, nonce, tx, outcome, code) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                )
                .map_err(ctx("prepare the log insert"))?;
            for e in entries {
                st.execute(params![
                    i64_of(e.seq, "seq")?,
                    batch,
                    e.signer.as_slice(),
                    i64_of(e.nonce, "nonce")?,
                    e.tx,
                    e.outcome,
                    e.code
                ])
                .map_err(ctx("append to the log"))?;
            }
            t.execute(
                "INSERT INTO checkpoints (batch, last_seq, state_hash) VALUES (?1, ?2, ?3)",
                params![batch, i64_of(last.seq, "seq")?, state_hash.as_slice()],
            )
            .map_err(ctx("write the checkpoint"))?;
        }
        t.commit().map_err(ctx("commit the batch"))?;
        self.next_seq = last.seq + 1;
        self.next_batch += 1;
        Ok(())
    }

    /// Every log entry in order.
    pub fn entries(&self) -> Result<Vec<Result<LogEntry, DbError>>, DbError> {
        let mut st = self
            .conn
            .prepare("SELECT seq, signer, nonce, tx, outcome, code FROM log ORDER BY seq")
            .map_err(ctx("read the log"))?;
        let rows = st
            .query_map([], |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, Vec<u8>>(1)?,
                    r.get::<_, i64>(2)?,
                    r.get::<_, Vec<u8>>(3)?,
                    r.get::<_, String>(4)?,
                    r.get::<_, Option<u32>>(5)?,
                ))
            })
            .map_err(ctx("read the log"))?;
        let mut out = Vec::new();
        for row in rows {
            out.push(
                row.map_err(ctx("read a log entry"))
                    .and_then(|(seq, signer, nonce, tx, outcome, code)| {
                        Ok(LogEntry {
                            seq: u64_of(seq, "seq")?,
                            signer: key32(signer, "a signer")?,
                            nonce: u64_of(nonce, "nonce")?,
                            tx,
                            outcome,
                            code,
                        })
                    }),
            );
        }
        Ok(out)
    }

    /// Every checkpoint in order.
    pub fn checkpoints(&self) -> Result<Vec<Checkpoint>, DbError> {
        let mut st = self
            .conn
            .prepare("SELECT batch, last_seq, state_hash FROM checkpoints ORDER BY batch")
            .map_err(ctx("read the checkpoints"))?;
        let rows = st
            .query_map([], |r| {
                Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?, r.get::<_, Vec<u8>>(2)?))
            })
            .map_err(ctx("read the checkpoints"))?;
        let mut out = Vec::new();
        for row in rows {
            let (b, s, h) = row.map_err(ctx("read a checkpoint"))?;
            out.push(Checkpoint {
                batch: u64_of(b, "batch")?,
                last_seq: u64_of(s, "seq")?,
                state_hash: key32(h, "a checkpoint hash")?,
            });
        }
        Ok(out)
    }

    /// Counts: (log entries, engine-rejected entries, checkpoints).
    pub fn counts(&self) -> Result<(u64, u64, u64), DbError> {
        let q = |sql: &str| -> Result<u64, DbError> {
            let n: i64 = self.conn.query_row(sql, [], |r| r.get(0)).map_err(ctx("count"))?;
            u64_of(n, "count")
        };
        Ok((
            q("SELECT count(*) FROM log")?,
            q("SELECT count(*) FROM log WHERE code IS NOT NULL")?,
            q("SELECT count(*) FROM checkpoints")?,
        ))
    }
}

/// Rewrites the schema version of a file (for tests of the version check).
#[doc(hidden)]
pub fn set_schema_version_for_tests(path: &Path, version: i64) -> Result<(), DbError> {
    let c = connect(path)?;
    c.execute("UPDATE schema_version SET version = ?1", [version])
        .map_err(ctx("update the schema version"))?;
    Ok(())
}
