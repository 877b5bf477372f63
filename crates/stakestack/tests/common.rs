//! Helpers shared by the CLI tests: the binary, and a `calc` conversation.

use std::io::Write;
use std::process::{Command, Stdio};

/// The `stakestack` binary under test.
pub(crate) fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_stakestack"))
}

/// Feeds `input` to `stakestack calc` and parses every answer line.
pub(crate) fn calc(input: &str) -> Vec<serde_json::Value> {
    let out = calc_bytes(input.as_bytes());
    String::from_utf8(out)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// Feeds raw bytes to `stakestack calc`; returns its standard output (it must exit 0).
pub(crate) fn calc_bytes(input: &[u8]) -> Vec<u8> {
    let mut child = bin()
        .arg("calc")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(input).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    out.stdout
}
