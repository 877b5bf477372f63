//! Seeded EigenLayer-size graphs for benchmarks and studies: heavy-tailed (Pareto) operator
//! stakes, each service secured by tens to hundreds of operators drawn with probability growing
//! with stake, profits from corruption a random share of the stake securing them.

use crate::{Graph, Service};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::{json, Value};
use stake_math::{U256, WAD};

/// A graph of `operators` × `services`, deterministic in `seed`. Stakes are whole ETH in wei:
/// Pareto with shape 1.16 (the "80/20" tail) from 32 ETH, capped at 10⁷ ETH. Each service draws
/// 20–300 operators (at most all), weighted by √stake; its threshold is one of ⅓, ½, ⅔ or 1 and
/// its profit from corruption between 0.1 % and `max_profit_ppm` (ppm) of the stake securing it.
pub fn eigenlayer_like(operators: usize, services: usize, max_profit_ppm: u64, seed: u64) -> Graph {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let stakes_eth: Vec<u64> = (0..operators)
        .map(|_| {
            let u: f64 = rng.gen_range(1e-9..1.0);
            // In [32, 1e7] by construction: the cast neither truncates nor loses a sign.
            #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
            let eth = (32.0 * u.powf(-1.0 / 1.16)).min(1e7) as u64;
            eth
        })
        .collect();
    let weights: Vec<f64> = stakes_eth.iter().map(|s| (*s as f64).sqrt()).collect();
    let total_w: f64 = weights.iter().sum();
    let thresholds = [WAD / 3, WAD / 2, WAD * 2 / 3, WAD];
    let mut svcs = Vec::with_capacity(services);
    for _ in 0..services {
        let k = rng.gen_range(20..=300usize).min(operators);
        let mut chosen = std::collections::BTreeSet::new();
        while chosen.len() < k {
            let mut x = rng.gen_range(0.0..total_w);
            let mut pick = operators - 1;
            for (i, w) in weights.iter().enumerate() {
                if x < *w {
                    pick = i;
                    break;
                }
                x -= w;
            }
            chosen.insert(pick);
        }
        let ops: Vec<usize> = chosen.into_iter().collect();
        let secured: u64 = ops.iter().map(|v| stakes_eth[*v]).sum();
        let share_ppm = rng.gen_range(1_000..max_profit_ppm.max(1_001));
        let profit_eth = u128::from(secured) * u128::from(share_ppm) / 1_000_000;
        svcs.push(Service {
            profit: U256::from(profit_eth) * WAD,
            threshold_wad: thresholds[rng.gen_range(0..thresholds.len())],
            operators: ops,
        });
    }
    let stakes = stakes_eth.iter().map(|s| U256::from(*s) * WAD).collect();
    Graph::new(stakes, svcs).unwrap_or_else(|_| Graph {
        stakes: Vec::new(),
        services: Vec::new(),
        by_operator: Vec::new(),
    })
}

/// The graph as the calc functions' JSON argument.
pub fn to_json(g: &Graph) -> Value {
    json!({
        "operators": g.stakes().iter().map(|s| s.to_string()).collect::<Vec<_>>(),
        "services": g.services().iter().map(|s| json!({
            "profit": s.profit.to_string(),
            "threshold_wad": s.threshold_wad.to_string(),
            "operators": s.operators.iter().map(|v| v.to_string()).collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
    })
}
