//! How the exact security analysis scales: seeded EigenLayer-like graphs from 100 × 10 to
//! 2,000 × 100 (operators × services). Prints, per size, the time of the EigenLayer condition,
//! the exact attack search, γ-slack and the worst cascade after removing the largest operator.
//!
//! Profits from corruption are 0.1 %–`MAX_PROFIT_PPM` (default 10 %) of the stake securing each
//! service; every exact search stops "undecided" past `BUDGET` nodes (default 5·10⁷).
//!
//! `cargo run --release -p stake-risk --example security_scale [-- --json graph.json]`
#![allow(clippy::disallowed_methods)] // a benchmark reads the wall clock by definition

use stake_risk::generate::{eigenlayer_like, to_json};
use std::time::Instant;

fn ms<T>(f: impl FnOnce() -> T) -> (T, f64) {
    let t = Instant::now();
    let v = f();
    (v, t.elapsed().as_secs_f64() * 1e3)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(i) = args.iter().position(|a| a == "--json") {
        let g = eigenlayer_like(2_000, 100, 100_000, 1);
        let path = args.get(i + 1).cloned().unwrap_or_else(|| "graph.json".into());
        if let Err(e) = std::fs::write(&path, to_json(&g).to_string()) {
            eprintln!("cannot write {path}: {e}");
            std::process::exit(1);
        }
        println!("wrote {path}: 2000 operators × 100 services (seed 1)");
        return;
    }
    println!(
        "{:>9} {:>8} {:>14} {:>14} {:>14} {:>14}  verdict",
        "operators", "services", "condition ms", "attack ms", "gamma ms", "cascade ms"
    );
    let sizes: Vec<(usize, usize)> = match std::env::var("SIZES") {
        Ok(v) => v
            .split(',')
            .filter_map(|p| p.split_once('x'))
            .filter_map(|(a, b)| Some((a.parse().ok()?, b.parse().ok()?)))
            .collect(),
        Err(_) => vec![(100, 10), (250, 25), (500, 50), (1_000, 75), (2_000, 100)],
    };
    let env = |k: &str, d: u64| std::env::var(k).ok().and_then(|v| v.parse().ok()).unwrap_or(d);
    let (max_ppm, budget) = (env("MAX_PROFIT_PPM", 100_000), env("BUDGET", 50_000_000));
    let show = |ms: f64, undecided: bool| {
        if undecided {
            format!(">{ms:.0} (budget)")
        } else {
            format!("{ms:.2}")
        }
    };
    for (n, m) in sizes {
        let g = eigenlayer_like(n, m, max_ppm, 1);
        let (cond, t_cond) = ms(|| g.eigenlayer_condition());
        let (attack, t_attack) = ms(|| g.best_attack_within(budget));
        let (gamma, t_gamma) = ms(|| g.gamma_slack_within(budget));
        let largest = (0..n).max_by_key(|v| g.stakes()[*v]).unwrap_or(0);
        let (loss, t_cascade) = ms(|| g.cascade_loss_within(&[largest], budget));
        println!(
            "{n:>9} {m:>8} {t_cond:>14.2} {:>14} {:>14} {:>14}  condition {} ({} failing), attack {}, γ·1e18 {}, loss {}",
            show(t_attack, attack.is_err()),
            show(t_gamma, gamma.is_err()),
            show(t_cascade, loss.is_err()),
            if cond.holds { "holds" } else { "fails" },
            cond.failing.len(),
            match &attack {
                Ok(Some(a)) => format!("profit {}", a.profit),
                Ok(None) => "none".into(),
                Err(_) => "undecided".into(),
            },
            gamma.map_or("undecided".to_string(), |g| g.gamma_wad()),
            loss.map_or("undecided".to_string(), |l| l.to_string()),
        );
    }
}
