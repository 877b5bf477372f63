//! `report.html`: self-contained (the chart library inside, nothing fetched), a section per layer
//! with titled charts, units, thresholds and event markers, fans and distributions for many
//! paths — and every chart actually drawn, in headless Chromium.

use crate::common::bin;
use serde_json::Value;
use std::path::{Path, PathBuf};

const MARKETS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../scenarios/lst-markets.toml");

fn run(tag: &str, args: &[&str]) -> PathBuf {
    run_scenario(tag, MARKETS.as_ref(), args)
}

fn run_scenario(tag: &str, scenario: &std::path::Path, args: &[&str]) -> PathBuf {
    let d = std::env::temp_dir().join(format!("stakestack-report-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    let out = bin()
        .arg("run")
        .arg(scenario)
        .args(["--quiet", "--out"])
        .arg(&d)
        .args(args)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    d.join("report.html")
}

/// The data blob the page draws.
fn data(html: &str) -> Value {
    let start = html.find(r#"<script id="data" type="application/json">"#).unwrap();
    let rest = &html[start..];
    let body = &rest[rest.find('>').unwrap() + 1..rest.find("</script>").unwrap()];
    serde_json::from_str(body).unwrap()
}

fn charts(d: &Value) -> Vec<&Value> {
    d["sections"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|s| s.as_array().unwrap())
        .collect()
}

fn chart<'a>(d: &'a Value, title: &str) -> &'a Value {
    charts(d)
        .into_iter()
        .find(|c| c["title"] == title)
        .unwrap_or_else(|| panic!("no chart {title:?}"))
}

#[test]
fn one_path_report_has_layer_sections_units_thresholds_and_events() {
    // The shipped scenario with a 25-hour staleness bound on the lending oracles, so that its
    // day-120 oracle freeze produces rejected transactions for the table.
    let dir = std::env::temp_dir().join(format!("stakestack-report-scn-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let scn = dir.join("lst-markets-bounded.toml");
    let text = std::fs::read_to_string(MARKETS).unwrap();
    assert!(text.contains("[lending.aave]\n"));
    std::fs::write(
        &scn,
        text.replace("[lending.aave]\n", "[lending.aave]\nmax_price_age = \"25h\"\n"),
    )
    .unwrap();
    let file = run_scenario("one", &scn, &[]);
    let html = std::fs::read_to_string(&file).unwrap();
    // Self-contained: no script or style is fetched.
    assert!(
        !html.contains("<script src") && !html.contains("<link"),
        "external resources"
    );
    assert!(html.contains("uPlot"));
    let d = data(&html);
    assert_eq!(d["names"][0], "Ethereum (L0)");
    assert_eq!(d["t"].as_array().unwrap().len(), 181);
    // Every chart has a unit and only series of the right length.
    for c in charts(&d) {
        assert!(c["unit"].as_str().is_some(), "{c}");
        for s in c["series"].as_array().unwrap() {
            assert_eq!(s["values"].as_array().unwrap().len(), 181, "{}", c["title"]);
        }
    }
    let staked = chart(&d, "Ethereum — ETH staked");
    assert_eq!(staked["unit"], "ETH");
    let hf = chart(&d, "Aave v3 — lowest health factor");
    assert_eq!(hf["thresholds"][0]["value"], 1.0);
    let peg = chart(&d, "Pool steth-eth — price of stETH");
    assert_eq!(peg["thresholds"][0]["value"], 1.0);
    assert_eq!(peg["unit"], "ETH");
    let rates = chart(&d, "Liquid staking tokens — exchange rate");
    let labels: Vec<&str> = rates["series"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["label"].as_str().unwrap())
        .collect();
    assert_eq!(labels, ["rETH", "stETH"]);
    // The scenario's three system events, as markers.
    let events = d["events"].as_array().unwrap();
    assert_eq!(events.len(), 3, "{events:?}");
    assert!(
        events[1]["label"].as_str().unwrap().contains("price shock"),
        "{events:?}"
    );
    // The tables: key figures, the LSTs, the rejected transactions.
    assert!(html.contains("<h2 id=\"figures\">Key figures</h2>"));
    assert!(html.contains("Liquid staking tokens at the end"));
    assert!(html.contains("Rejected transactions"));
}

#[test]
fn many_path_report_has_fans_and_distributions() {
    let file = run("many", &["--paths", "4"]);
    let d = data(&std::fs::read_to_string(&file).unwrap());
    let eth = chart(&d, "ETH/USD");
    let s = &eth["series"][0];
    for k in ["p5", "p50", "p95"] {
        assert_eq!(s[k].as_array().unwrap().len(), 181, "{k}");
    }
    // The band is ordered at every step.
    for i in 0..181 {
        let (lo, mid, hi) = (
            s["p5"][i].as_f64().unwrap(),
            s["p50"][i].as_f64().unwrap(),
            s["p95"][i].as_f64().unwrap(),
        );
        assert!(lo <= mid && mid <= hi, "step {i}: {lo} {mid} {hi}");
    }
    let h = d["histograms"].as_array().unwrap();
    let eth_usd = h
        .iter()
        .find(|x| x["title"].as_str().unwrap().starts_with("markets.eth_usd"))
        .unwrap();
    assert_eq!(
        eth_usd["n"]
            .as_array()
            .unwrap()
            .iter()
            .map(|n| n.as_u64().unwrap())
            .sum::<u64>(),
        4
    );
}

/// Chromium, when the machine has it: required where `STAKESTACK_REQUIRE_CHROMIUM` is set (CI).
fn chromium() -> Option<&'static str> {
    let found = ["/usr/bin/chromium", "/usr/bin/chromium-browser"]
        .into_iter()
        .find(|p| Path::new(p).exists());
    if found.is_none() {
        assert!(
            std::env::var_os("STAKESTACK_REQUIRE_CHROMIUM").is_none(),
            "STAKESTACK_REQUIRE_CHROMIUM is set but chromium is not installed"
        );
        eprintln!("skipped: chromium is not installed");
    }
    found
}

/// Loads a report headless and returns the DOM after its scripts ran.
fn rendered(browser: &str, file: &Path) -> String {
    let profile = file.with_file_name("chromium-profile");
    let out = std::process::Command::new(browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--window-size=1100,3000",
            "--dump-dom",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg(format!("file://{}", file.display()))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn every_chart_is_drawn_in_headless_chromium() {
    let Some(browser) = chromium() else { return };
    for (tag, args) in [("draw-one", &[][..]), ("draw-many", &["--paths", "3"][..])] {
        let file = run(tag, args);
        let d = data(&std::fs::read_to_string(&file).unwrap());
        let expected = charts(&d).len() + d["histograms"].as_array().map_or(0, Vec::len);
        let dom = rendered(browser, &file);
        // One uPlot root and one canvas per chart: the script ran to the end without an error.
        assert_eq!(dom.matches("<canvas").count(), expected, "{tag}");
        assert_eq!(dom.matches("class=\"uplot").count(), expected, "{tag}");
        assert_eq!(
            dom.matches("<h2 id=\"s").count(),
            3,
            "{tag}: Ethereum, LSTs, markets (no restaking here)"
        );
        assert!(dom.contains("E3 — 2025-05-01"), "{tag}: event list");
    }
}
