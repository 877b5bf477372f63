//! Shared by the differential tests (included with `#[path]`): a seeded PRNG and the runner of
//! the npm reference `diff/pendle_ref.mjs`.
//!
//! The reference is skipped (the test passes, printing a line saying so) when
//! `diff/node_modules` or `node` is missing, unless `STAKESTACK_REQUIRE_DIFF=1`, which turns the
//! skip into a failure (CI runs `npm ci --prefix diff` first).

#![allow(dead_code)] // each test uses a part

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// splitmix64: a tiny seeded PRNG (no crates needed).
pub(crate) struct SplitMix(pub(crate) u64);

impl SplitMix {
    /// The next 64 random bits.
    pub(crate) fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A value in `0..n` (n > 0).
    pub(crate) fn below(&mut self, n: u128) -> u128 {
        let r = ((self.next() as u128) << 64) | self.next() as u128;
        r % n
    }

    /// 128 random bits as (hi, lo) words of a 256-bit value.
    pub(crate) fn words(&mut self) -> (u128, u128) {
        let hi = ((self.next() as u128) << 64) | self.next() as u128;
        let lo = ((self.next() as u128) << 64) | self.next() as u128;
        (hi, lo)
    }
}

/// The folder of the npm reference (`diff/` at the repository root).
pub(crate) fn diff_dir(manifest_dir: &str) -> PathBuf {
    Path::new(manifest_dir).join("../../diff")
}

/// Runs the reference on `requests` (JSON lines) and returns one answer per request, or `None`
/// to skip.
pub(crate) fn run_oracle(manifest_dir: &str, requests: &[String]) -> Option<Vec<serde_json::Value>> {
    let required = std::env::var("STAKESTACK_REQUIRE_DIFF").is_ok_and(|v| v == "1");
    let dir = diff_dir(manifest_dir);
    if !dir.join("node_modules/@pendle/core-v2-offchain-math").exists() {
        assert!(
            !required,
            "STAKESTACK_REQUIRE_DIFF=1 but diff/node_modules is missing: run `npm ci --prefix diff`"
        );
        println!("SKIP differential test: diff/node_modules missing (run `npm ci --prefix diff`)");
        return None;
    }
    let child = Command::new("node")
        .arg(dir.join("pendle_ref.mjs"))
        .current_dir(&dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn();
    let mut child = match child {
        Ok(c) => c,
        Err(e) => {
            assert!(!required, "STAKESTACK_REQUIRE_DIFF=1 but node cannot be started: {e}");
            println!("SKIP differential test: node not available ({e})");
            return None;
        }
    };
    let mut stdin = child.stdin.take().expect("piped stdin");
    let input = requests.join("\n") + "\n";
    let writer = std::thread::spawn(move || {
        stdin.write_all(input.as_bytes()).expect("write to node");
    });
    let stdout = child.stdout.take().expect("piped stdout");
    let answers: Vec<serde_json::Value> = BufReader::new(stdout)
        .lines()
        .map(|l| serde_json::from_str(&l.expect("read line")).expect("json answer"))
        .collect();
    writer.join().expect("writer thread");
    assert!(child.wait().expect("node exit").success(), "node oracle failed");
    assert_eq!(answers.len(), requests.len(), "one answer per request");
    Some(answers)
}
