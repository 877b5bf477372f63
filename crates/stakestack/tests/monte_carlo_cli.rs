//! Monte Carlo from the command line: `--paths`, `--path`, percentiles in `summary.json`,
//! `steps.csv` and `steps.parquet` per (path, step), run folders, the run store.

use crate::common::bin;
use serde_json::Value;
use std::path::{Path, PathBuf};

const MARKETS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../scenarios/lst-markets.toml");

fn tmp(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("stakestack-mc-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn run_into(dir: &Path, args: &[&str], threads: &str) -> std::process::Output {
    bin()
        .args(["run", MARKETS, "--quiet", "--out"])
        .arg(dir)
        .args(args)
        .env("RAYON_NUM_THREADS", threads)
        .output()
        .unwrap()
}

fn summary(dir: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(dir.join("summary.json")).unwrap()).unwrap()
}

fn is_pct(v: &Value) -> bool {
    ["p1", "p5", "p50", "p95", "p99", "mean", "min", "max"]
        .iter()
        .all(|k| v[k].is_number())
}

#[test]
fn three_paths_give_percentiles_series_per_path_and_a_record() {
    let root = tmp("three");
    let dir = root.join("run");
    let out = run_into(&dir, &["--paths", "3"], "2");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let s = summary(&dir);
    assert_eq!(s["paths"], 3);
    assert_eq!(s["seed"], 7);
    let hashes = s["state_hashes"].as_array().unwrap();
    assert_eq!(hashes.len(), 3);
    assert_eq!(s["path_seeds"][0], 7);
    assert!(is_pct(&s["lsts"][1]["rate"]), "{}", s["lsts"][1]);
    assert_eq!(s["lsts"][1]["symbol"], "stETH");
    let pool = &s["markets"]["pools"][0];
    assert!(is_pct(&pool["price_min"]), "{pool}");
    assert!(pool["price_min"]["max"].as_f64().unwrap() <= pool["price"]["max"].as_f64().unwrap());
    let morpho = &s["markets"]["morpho"][0];
    assert!(
        is_pct(&morpho["bad_debt"]) && is_pct(&morpho["liquidations"]),
        "{morpho}"
    );
    assert!(is_pct(&s["markets"]["aave"]["liquidations"]));
    assert!(is_pct(&s["markets"]["eth_usd"]));
    // ETH/USD is a seeded jump-diffusion: the paths differ.
    assert!(s["markets"]["eth_usd"]["min"].as_f64() < s["markets"]["eth_usd"]["max"].as_f64());
    assert!(is_pct(&s["rejected"]["count"]));

    // One row per (path, step) in both series files.
    let steps = s["steps"].as_u64().unwrap();
    let csv = std::fs::read_to_string(dir.join("steps.csv")).unwrap();
    let mut lines = csv.lines();
    assert!(lines.next().unwrap().starts_with("path,step,t,date,eth.staked_eth"));
    let body: Vec<&str> = lines.collect();
    assert_eq!(body.len() as u64, 3 * (steps + 1));
    assert!(body.last().unwrap().starts_with(&format!("2,{steps},")));

    use parquet::file::reader::{FileReader, SerializedFileReader};
    use parquet::record::RowAccessor;
    let f = std::fs::File::open(dir.join("steps.parquet")).unwrap();
    let r = SerializedFileReader::new(f).unwrap();
    let meta = r.metadata().file_metadata();
    assert_eq!(meta.num_rows() as u64, 3 * (steps + 1));
    let names: Vec<String> = meta
        .schema_descr()
        .columns()
        .iter()
        .map(|c| c.name().to_string())
        .collect();
    assert_eq!(&names[..4], ["path", "step", "t", "date"]);
    let rate = names.iter().position(|n| n == "stETH.rate").unwrap();
    let rows: Vec<_> = r.get_row_iter(None).unwrap().map(|x| x.unwrap()).collect();
    let last = rows.last().unwrap();
    assert_eq!(last.get_long(0).unwrap(), 2);
    assert_eq!(last.get_long(1).unwrap() as u64, steps);
    let csv_last: Vec<&str> = body.last().unwrap().split(',').collect();
    assert_eq!(last.get_double(rate).unwrap(), csv_last[rate].parse::<f64>().unwrap());

    // pandas reads the same rows (the reference reader of the users' notebooks).
    pandas_reads(
        &dir.join("steps.parquet"),
        3 * (steps + 1),
        csv_last[rate].parse::<f64>().unwrap(),
    );

    // Recorded in the store beside the output folder.
    let ls = bin()
        .args(["runs", "--json", "--store"])
        .arg(root.join("runs.sqlite"))
        .output()
        .unwrap();
    assert!(ls.status.success());
    let runs: Value = serde_json::from_slice(&ls.stdout).unwrap();
    let rec = &runs[0];
    assert_eq!(rec["paths"], 3);
    assert_eq!(rec["seed"], 7);
    assert_eq!(rec["state_hash"], hashes[0]);
    assert!(is_pct(&rec["metrics"]["markets.pools.steth-eth.price_min"]), "{rec}");
    let id = rec["id"].as_str().unwrap();
    let show = bin()
        .args(["runs", "show", &id[..12], "--store"])
        .arg(root.join("runs.sqlite"))
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&show.stdout);
    assert!(
        show.status.success() && text.contains(id) && text.contains("paths         3"),
        "{text}"
    );
    let missing = bin()
        .args(["runs", "show", "nope", "--store"])
        .arg(root.join("runs.sqlite"))
        .output()
        .unwrap();
    assert_eq!(missing.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&missing.stderr).contains("no run `nope`"));

    // The same paths on one thread: the same hashes; path 2 alone: path 2's hash.
    let one = root.join("one");
    assert!(run_into(&one, &["--paths", "3"], "1").status.success());
    assert_eq!(summary(&one)["state_hashes"], s["state_hashes"]);
    let alone = root.join("alone");
    assert!(run_into(&alone, &["--path", "2"], "2").status.success());
    let a = summary(&alone);
    assert_eq!(a["state_hashes"][0], hashes[2]);
    assert_eq!(a["final_state_hash"], hashes[2]);
    assert_eq!(
        (a["path"].as_u64(), a["path_seed"].clone()),
        (Some(2), s["path_seeds"][2].clone())
    );
    let _ = std::fs::remove_dir_all(&root);
}

#[test]
fn bad_path_options_and_an_unwritable_folder_fail_before_running() {
    let root = tmp("bad");
    let out = run_into(&root.join("x"), &["--paths", "0"], "1");
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("error: --paths 0: must be at least 1"));
    let out = run_into(&root.join("x"), &["--paths", "2000000"], "1");
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("2000000 paths is too many (max 1000000)"));
    let out = run_into(&root.join("x"), &["--paths", "2", "--path", "1"], "1");
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot be used with"));
    let scn = root.join("zero.toml");
    let text = std::fs::read_to_string(MARKETS)
        .unwrap()
        .replace("seed    = 7", "seed    = 7\npaths   = 0");
    std::fs::write(&scn, text).unwrap();
    let out = bin().args(["run", "--quiet"]).arg(&scn).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("key: clock.paths") && err.contains("must be at least 1"),
        "{err}"
    );
    // A file where the folder should be: refused at once, nothing recorded.
    let blocker = root.join("file");
    std::fs::write(&blocker, "").unwrap();
    let out = run_into(&blocker.join("run"), &[], "1");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot create the output folder"));
    assert!(!root.join("runs.sqlite").exists() && !blocker.join("runs.sqlite").exists());
    let _ = std::fs::remove_dir_all(&root);
}

#[test]
fn each_run_gets_its_own_folder_and_latest_points_at_the_newest() {
    let root = tmp("folders");
    let run = || {
        let o = bin()
            .current_dir(&root)
            .args([
                "run",
                "--quiet",
                concat!(env!("CARGO_MANIFEST_DIR"), "/../../scenarios/eth-staking-basics.toml"),
            ])
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        String::from_utf8_lossy(&o.stdout).to_string()
    };
    let (a, b) = (run(), run());
    let base = root.join("out/eth-staking-basics");
    let mut dirs: Vec<String> = std::fs::read_dir(&base)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
        .filter(|n| n != "latest")
        .collect();
    dirs.sort();
    assert_eq!(dirs.len(), 2, "{dirs:?}");
    let latest = std::fs::read_link(base.join("latest")).unwrap();
    assert_eq!(latest.to_string_lossy(), dirs[1]);
    assert!(a.contains(&dirs[0]) && b.contains(&dirs[1]), "{a}\n{b}");
    assert!(base.join("latest/summary.json").exists());
    let ls = bin().current_dir(&root).args(["runs"]).output().unwrap();
    let text = String::from_utf8_lossy(&ls.stdout);
    assert_eq!(
        text.lines().filter(|l| l.contains("eth-staking-basics")).count(),
        2,
        "{text}"
    );
    let _ = std::fs::remove_dir_all(&root);
}

/// `pd.read_parquet` loads the file: `rows` rows, path/step columns as integers, and the last
/// row's `stETH.rate` equal to `last_rate`. Skipped when pandas is not installed, unless
/// `STAKESTACK_REQUIRE_DIFF=1` (CI), where its absence fails.
fn pandas_reads(file: &Path, rows: u64, last_rate: f64) {
    let script = "import sys, pandas as pd\n\
df = pd.read_parquet(sys.argv[1])\n\
assert str(df['path'].dtype) == 'int64' and str(df['step'].dtype) == 'int64', df.dtypes\n\
print(len(df), repr(float(df['stETH.rate'].iloc[-1])), df.groupby('path').size().nunique())\n";
    let out = std::process::Command::new("python3")
        .arg("-c")
        .arg(script)
        .arg(file)
        .output();
    let required = std::env::var("STAKESTACK_REQUIRE_DIFF").is_ok_and(|v| v == "1");
    match out {
        Ok(o) if o.status.success() => {
            let text = String::from_utf8_lossy(&o.stdout);
            let f: Vec<&str> = text.split_whitespace().collect();
            assert_eq!(f[0].parse::<u64>().unwrap(), rows, "{text}");
            assert_eq!(f[1].parse::<f64>().unwrap(), last_rate, "{text}");
            assert_eq!(f[2], "1", "every path has the same number of steps: {text}");
        }
        Ok(o) if !required && String::from_utf8_lossy(&o.stderr).contains("No module named") => {
            eprintln!("pandas not installed: skipping the pandas read-back (pip install -r diff/requirements.txt)");
        }
        Ok(o) => panic!(
            "pandas could not read {}: {}",
            file.display(),
            String::from_utf8_lossy(&o.stderr)
        ),
        Err(e) if !required => eprintln!("python3 not found ({e}): skipping the pandas read-back"),
        Err(e) => panic!("python3 not found: {e}"),
    }
}

/// The shipped trivial model: 100 GBM paths of 1,000 days with μ = 5 %, σ = 60 % from $3,300.
/// The median path ends near 3300·e^{(μ − σ²/2)·t} = $2,316 (t = 1000/365); with 100 paths the
/// sample median's log is within ±0.5 of it by a wide margin (its standard error is ≈ 0.12).
/// Biased normal draws once put it at $185.
#[test]
fn trivial_drift_paths_centre_on_the_drift_asked_for() {
    let dir = tmp("trivial").join("run");
    let scenario = concat!(env!("CARGO_MANIFEST_DIR"), "/../../scenarios/trivial-drift.toml");
    let out = bin()
        .args(["run", scenario, "--quiet", "--out"])
        .arg(&dir)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let s = summary(&dir);
    assert_eq!(s["paths"], 100);
    let p50 = s["markets"]["eth_usd"]["p50"].as_f64().unwrap();
    let t = 1000.0 / 365.0;
    let want = 3300.0 * ((0.05f64 - 0.18) * t).exp();
    assert!((p50 / want).ln().abs() < 0.5, "median {p50}, expected about {want}");
}
