//! Architecture Invariant (SPEC §1.8): protocol and engine crates pull in no async runtime, web
//! framework, database or CLI crate. Checked on the resolved dependency graph (`cargo metadata`).
//! The I/O crates are `stake-store` (the service's SQLite ledger file) and the `stakestack` binary.

use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::process::Command;

const CORE: [&str; 10] = [
    "stake-math",
    "stake-ledger",
    "stake-l0",
    "stake-lst",
    "stake-restaking",
    "stake-lrt",
    "stake-markets",
    "stake-products",
    "stake-engine",
    "stake-sim",
];
const BANNED: [&str; 20] = [
    "tokio",
    "async-std",
    "smol",
    "futures-executor",
    "mio",
    "axum",
    "hyper",
    "actix-web",
    "warp",
    "rocket",
    "tower",
    "rusqlite",
    "sqlx",
    "diesel",
    "redb",
    "sled",
    "rocksdb",
    "clap",
    "indicatif",
    "reqwest",
];

#[test]
fn core_crates_pull_in_no_runtime_web_database_or_cli_crate() {
    let out = Command::new(env!("CARGO"))
        .args(["metadata", "--format-version", "1", "--locked"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("cargo metadata runs");
    assert!(
        out.status.success(),
        "cargo metadata failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let meta: Value = serde_json::from_slice(&out.stdout).expect("metadata is JSON");
    let names: BTreeMap<String, String> = meta["packages"]
        .as_array()
        .expect("packages")
        .iter()
        .map(|p| {
            (
                p["id"].as_str().unwrap_or("").to_string(),
                p["name"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect();
    // Normal (non-dev, non-build) dependency edges.
    let mut edges: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for node in meta["resolve"]["nodes"].as_array().expect("resolve") {
        let id = node["id"].as_str().unwrap_or("").to_string();
        let mut deps = Vec::new();
        for d in node["deps"].as_array().into_iter().flatten() {
            let normal = d["dep_kinds"]
                .as_array()
                .into_iter()
                .flatten()
                .any(|k| k["kind"].is_null());
            if normal {
                deps.push(d["pkg"].as_str().unwrap_or("").to_string());
            }
        }
        edges.insert(id, deps);
    }
    for core in CORE {
        let root = names
            .iter()
            .find(|(_, n)| n.as_str() == core)
            .map(|(id, _)| id.clone())
            .expect("core crate in workspace");
        let mut seen = BTreeSet::new();
        let mut stack = vec![root];
        while let Some(id) = stack.pop() {
            if !seen.insert(id.clone()) {
                continue;
            }
            let name = &names[&id];
            assert!(
                !BANNED.contains(&name.as_str()),
                "{core} depends (transitively) on {name}"
            );
            stack.extend(edges.get(&id).cloned().unwrap_or_default());
        }
        assert!(
            seen.len() > 1,
            "{core} resolved no dependencies — the check would be vacuous"
        );
    }
}
