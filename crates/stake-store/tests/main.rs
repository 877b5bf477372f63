//! The ledger file: batches are durable and continuous, reopening reads them back, the schema
//! version is checked, and a committed fixture written by schema version 1 still opens.
// Tests unwrap: a failed step is the test failing.
#![allow(clippy::unwrap_used)]

use stake_store::{Checkpoint, Db, LogEntry, SCHEMA_VERSION};
use std::path::PathBuf;

fn tmp(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("stake-store-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir.join("ledger.db")
}

fn entry(seq: u64, nonce: u64, code: Option<u32>) -> LogEntry {
    LogEntry {
        seq,
        signer: [7; 32],
        nonce,
        tx: format!("{{\"nonce\":{nonce}}}").into_bytes(),
        outcome: if code.is_some() {
            "{\"Rejected\":{}}".into()
        } else {
            "{\"Applied\":{\"events\":[]}}".into()
        },
        code,
    }
}

#[test]
fn a_reopened_file_returns_every_committed_batch_and_its_checkpoint() {
    let p = tmp("reopen");
    let mut db = Db::create(&p, "name = \"g\"", [1; 32]).unwrap();
    db.append(&[entry(1, 0, None), entry(2, 1, Some(1001))], [2; 32])
        .unwrap();
    db.append(&[entry(3, 2, None)], [3; 32]).unwrap();
    drop(db);
    let db = Db::open(&p).unwrap();
    assert_eq!(db.genesis().unwrap(), "name = \"g\"");
    assert_eq!(db.genesis_hash().unwrap(), [1; 32]);
    assert_eq!(db.next_seq(), 4);
    let got: Vec<LogEntry> = db.entries().unwrap().into_iter().map(Result::unwrap).collect();
    assert_eq!(got, vec![entry(1, 0, None), entry(2, 1, Some(1001)), entry(3, 2, None)]);
    assert_eq!(
        db.checkpoints().unwrap(),
        vec![
            Checkpoint {
                batch: 1,
                last_seq: 2,
                state_hash: [2; 32]
            },
            Checkpoint {
                batch: 2,
                last_seq: 3,
                state_hash: [3; 32]
            },
        ]
    );
    assert_eq!(db.counts().unwrap(), (3, 1, 2));
}

#[test]
fn a_batch_with_a_gap_or_a_reused_nonce_is_refused_and_writes_nothing() {
    let p = tmp("gap");
    let mut db = Db::create(&p, "g", [0; 32]).unwrap();
    db.append(&[entry(1, 0, None)], [1; 32]).unwrap();
    let e = db.append(&[entry(3, 1, None)], [9; 32]).unwrap_err();
    assert_eq!(e.message, "entry 3 does not continue the log at 2");
    let e = db.append(&[entry(2, 0, None)], [9; 32]).unwrap_err();
    assert!(
        e.message.contains("UNIQUE constraint failed: log.signer, log.nonce"),
        "{e}"
    );
    assert_eq!(db.counts().unwrap(), (1, 0, 1));
    db.append(&[entry(2, 1, None)], [2; 32]).unwrap();
    assert_eq!(db.counts().unwrap(), (2, 0, 2));
}

#[test]
fn creating_over_an_existing_ledger_and_opening_a_missing_one_are_errors() {
    let p = tmp("exists");
    assert_eq!(
        Db::open(&p).err().unwrap().message,
        format!("{} holds no ledger", p.display())
    );
    Db::create(&p, "g", [0; 32]).unwrap();
    assert_eq!(
        Db::create(&p, "g", [0; 32]).err().unwrap().message,
        format!("{} already holds a ledger", p.display())
    );
}

#[test]
fn a_file_of_another_schema_version_is_refused() {
    let p = tmp("version");
    drop(Db::create(&p, "g", [0; 32]).unwrap());
    stake_store::db::set_schema_version_for_tests(&p, 2).unwrap();
    assert_eq!(
        Db::open(&p).err().unwrap().message,
        format!("schema version 2 is not the version {SCHEMA_VERSION} this build reads")
    );
}

#[test]
fn the_committed_fixture_written_by_schema_version_1_opens_and_reads_back() {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/ledger-v1.db");
    if std::env::var_os("STAKESTACK_WRITE_FIXTURE").is_some() {
        let _ = std::fs::remove_file(&p);
        let mut db = Db::create(&p, "name = \"fixture\"", [0xab; 32]).unwrap();
        db.append(&[entry(1, 0, None), entry(2, 1, Some(2001))], [0xcd; 32])
            .unwrap();
        drop(db);
    }
    // Read a copy, so that opening (which may write the WAL files) leaves the fixture as committed.
    let copy = tmp("fixture");
    std::fs::copy(&p, &copy).unwrap();
    let db = Db::open(&copy).unwrap();
    assert_eq!(db.genesis().unwrap(), "name = \"fixture\"");
    assert_eq!(db.genesis_hash().unwrap(), [0xab; 32]);
    let got: Vec<LogEntry> = db.entries().unwrap().into_iter().map(Result::unwrap).collect();
    assert_eq!(got, vec![entry(1, 0, None), entry(2, 1, Some(2001))]);
    assert_eq!(
        db.checkpoints().unwrap(),
        vec![Checkpoint {
            batch: 1,
            last_seq: 2,
            state_hash: [0xcd; 32]
        }]
    );
}
