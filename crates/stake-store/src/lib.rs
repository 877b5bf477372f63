//! The stakestack service's persistent ledger file (SPEC §11): one SQLite file in WAL mode
//! holding the genesis, an append-only log of accepted transactions with their outcomes, and a
//! state-hash checkpoint per committed batch. A batch and its checkpoint are one SQLite
//! transaction with `synchronous = FULL`: one fsync per batch (group commit), durable when
//! [`Db::append`] returns. The format is described in `docs/store.md`.
//!
//! This crate is one of the I/O crates (with the binary); the engine below it is sans-IO.

pub mod db;

pub use db::{Checkpoint, Db, DbError, LogEntry, SCHEMA_VERSION};
