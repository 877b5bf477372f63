//! `stakestack sweep`: the grid of parameter values, one row per point.

use crate::common::bin;
use serde_json::Value;

const MARKETS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../scenarios/lst-markets.toml");

fn tmp(tag: &str) -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("stakestack-sweep-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// `stakestack sweep lst-markets.toml --quiet ARGS --out DIR`.
fn sweep(args: &[&str], dir: &std::path::Path) -> std::process::Output {
    bin()
        .args(["sweep", MARKETS, "--quiet"])
        .args(args)
        .arg("--out")
        .arg(dir)
        .output()
        .unwrap()
}

#[test]
fn a_grid_of_lltv_and_sell_off_size_gives_a_row_per_point() {
    let root = tmp("grid");
    let dir = root.join("s");
    let out = sweep(
        &[
            "--set",
            "lending.morpho[0].lltv=94.5%,96.5%",
            "--set",
            "events[0].fraction=5%,30%",
        ],
        &dir,
    );
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("sweep of 4 points × 1 path(s)"), "{text}");
    let doc: Value = serde_json::from_str(&std::fs::read_to_string(dir.join("sweep.json")).unwrap()).unwrap();
    let points = doc["points"].as_array().unwrap();
    assert_eq!(points.len(), 4);
    let liq = |k: usize| {
        points[k]["figures"]["markets.morpho.morpho-wsteth.liquidations"]
            .as_u64()
            .unwrap()
    };
    // The tight genesis borrowers (94.5 % LTV) are liquidated at 94.5 % LLTV, not at 96.5 %.
    assert_eq!(points[0]["set"]["lending.morpho[0].lltv"], "94.5%");
    assert_eq!(points[2]["set"]["lending.morpho[0].lltv"], "96.5%");
    assert!(liq(0) > 0 && liq(1) > 0, "{}", points[0]);
    assert_eq!((liq(2), liq(3)), (0, 0));
    // A bigger sell-off pushes the pool lower.
    let pmin = |k: usize| {
        points[k]["figures"]["markets.pools.steth-eth.price_min"]
            .as_f64()
            .unwrap()
    };
    assert!(pmin(1) < pmin(0), "{} {}", pmin(1), pmin(0));
    let csv = std::fs::read_to_string(dir.join("sweep.csv")).unwrap();
    let mut lines = csv.lines();
    assert!(lines
        .next()
        .unwrap()
        .starts_with("point,lending.morpho[0].lltv,events[0].fraction,"));
    assert_eq!(lines.count(), 4);
    // Each point: its summary and the scenario it ran, which `check` accepts.
    let s: Value = serde_json::from_str(&std::fs::read_to_string(dir.join("points/3/summary.json")).unwrap()).unwrap();
    assert_eq!(s["sweep_point"]["set"]["events[0].fraction"], "30%");
    let scn = dir.join("points/3/scenario.toml");
    assert!(std::fs::read_to_string(&scn).unwrap().contains("fraction = \"30%\""));
    assert!(bin().arg("check").arg(&scn).status().unwrap().success());
    // Every point is in the run store.
    let ls = bin()
        .args(["runs", "--json", "--store"])
        .arg(root.join("runs.sqlite"))
        .output()
        .unwrap();
    let runs: Value = serde_json::from_slice(&ls.stdout).unwrap();
    assert_eq!(runs.as_array().unwrap().len(), 4);
    let _ = std::fs::remove_dir_all(&root);
}

#[test]
fn points_with_paths_report_percentile_columns() {
    let root = tmp("paths");
    let dir = root.join("s");
    let out = sweep(&["--paths", "2", "--set", "events[0].fraction=5%,10%"], &dir);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let csv = std::fs::read_to_string(dir.join("sweep.csv")).unwrap();
    let header = csv.lines().next().unwrap();
    assert!(
        header.contains("markets.eth_usd.p5,markets.eth_usd.p50,markets.eth_usd.p95"),
        "{header}"
    );
    let _ = std::fs::remove_dir_all(&root);
}

#[test]
fn a_bad_key_or_value_fails_before_any_point_runs() {
    let root = tmp("bad");
    let run = |set: &str| {
        let o = sweep(&["--set", set], &root.join("s"));
        (o.status.code(), String::from_utf8_lossy(&o.stderr).to_string())
    };
    let (c, e) = run("lending.morpho[3].lltv=90%");
    assert_eq!(c, Some(1));
    assert!(
        e.contains("`lending.morpho[3].lltv`: `lending.morpho` has 1 entries (0 to 0)"),
        "{e}"
    );
    let (c, e) = run("clock.seed=abc");
    assert_eq!(c, Some(1));
    assert!(
        e.contains("`clock.seed` is an integer in the scenario; `abc` is not"),
        "{e}"
    );
    let (c, e) = run("lending.morpho[0].lltv=86%");
    assert_eq!(c, Some(1));
    assert!(
        e.contains("point 0 (lending.morpho[0].lltv=86%)") && e.contains("insufficient collateral"),
        "{e}"
    );
    let (c, e) = run("events[0].fraction");
    assert_eq!(c, Some(1));
    assert!(e.contains("expected KEY=V1,V2"), "{e}");
    assert!(!root.join("s").exists(), "nothing written before every point builds");
    let _ = std::fs::remove_dir_all(&root);
}
