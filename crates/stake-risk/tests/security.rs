//! Restaking-network security: the paper's examples, and every answer against an exhaustive
//! brute force over all coalitions on random small graphs.

use num_rational::BigRational;
use proptest::prelude::*;
use stake_math::{U256, WAD};
use stake_risk::{Coalition, Graph, RiskError, Service};

fn u(v: u64) -> U256 {
    U256::from(v)
}

fn svc(profit: u64, threshold_wad: U256, operators: &[usize]) -> Service {
    Service {
        profit: u(profit),
        threshold_wad,
        operators: operators.to_vec(),
    }
}

/// Theorem 2's graph: one service (π = 1, α = 1) on a = 0.05 and b = 0.95, scaled by 100.
#[test]
fn theorem_2_secure_yet_one_small_shock_loses_everything() {
    let g = Graph::new(vec![u(5), u(95)], vec![svc(100, WAD, &[0, 1])]).unwrap();
    assert_eq!(g.best_attack(), None);
    assert!(g.eigenlayer_condition().holds);
    assert_eq!(g.cascade_loss(&[0]).unwrap(), u(100));
    assert_eq!(
        g.cascade_steps(&[0]).unwrap(),
        vec![Coalition {
            services: vec![0],
            operators: vec![1]
        }]
    );
    // γ = 100/100 − 1 = 0: no slack, so Theorem 1 gives no bound.
    assert_eq!(g.gamma_slack().unwrap().gamma_wad(), "0");
    assert_eq!(g.loss_bound(u(5)).unwrap(), None);
}

/// Twelve operators of stake 1, α = 1: six0 = {0..5}, six1 = {6..11}, tri_k = {3k+3+i mod 12}.
fn twelve() -> Graph {
    let mut s = vec![svc(2, WAD, &[0, 1, 2, 3, 4, 5]), svc(2, WAD, &[6, 7, 8, 9, 10, 11])];
    for k in 0..4 {
        let ops: Vec<usize> = (0..3).map(|i| (3 * k + 3 + i) % 12).collect();
        s.push(svc(2, WAD, &ops));
    }
    Graph::new(vec![u(1); 12], s).unwrap()
}

#[test]
fn twelve_operators_condition_with_equality_no_attack_yet_total_cascade() {
    let g = twelve();
    assert!(g.eigenlayer_condition().holds, "holds with equality for every operator");
    assert_eq!(g.best_attack(), None);
    assert_eq!(g.cascade_loss(&[0]).unwrap(), u(12));
    // Played out attack by attack, the cascade also takes everyone.
    let steps = g.cascade_steps(&[0]).unwrap();
    let lost: usize = steps.iter().map(|c| c.operators.len()).sum();
    assert_eq!(lost + 1, 12, "{steps:?}");
    // Raising one profit breaks the condition for the operators of that service.
    let mut services = g.services().to_vec();
    services[2].profit = u(3);
    let g2 = Graph::new(g.stakes().to_vec(), services).unwrap();
    let c = g2.eigenlayer_condition();
    assert!(!c.holds);
    assert_eq!(c.failing, vec![3, 4, 5]);
}

#[test]
fn attacks_are_found_and_rechecked() {
    // Thresholds ⌈½·60⌉ = 30 and 30: {0,1} (stake 30) corrupts the first service (π 40, profit
    // 10); {2} (stake 30) corrupts both (π 41, profit 11) — the best; {0,2} costs 40 for 41.
    let g = Graph::new(
        vec![u(10), u(20), u(30)],
        vec![svc(40, WAD / 2, &[0, 1, 2]), svc(1, WAD, &[2])],
    )
    .unwrap();
    let a = g.best_attack().unwrap();
    assert!(g.is_attack(&a.coalition));
    assert_eq!(a.profit, u(11));
    assert_eq!(
        a.coalition,
        Coalition {
            services: vec![0, 1],
            operators: vec![2]
        }
    );
    // With π = 25 the first service is worth less than any stake corrupting it: secure.
    let g = Graph::new(
        vec![u(10), u(20), u(30)],
        vec![svc(25, WAD / 2, &[0, 1, 2]), svc(1, WAD, &[2])],
    )
    .unwrap();
    assert_eq!(g.best_attack(), None);
}

#[test]
fn bad_graphs_are_refused() {
    let e = Graph::new(vec![u(1)], vec![svc(1, WAD, &[1])]).unwrap_err();
    assert_eq!(
        e,
        RiskError::OperatorOutOfRange {
            service: 0,
            operator: 1,
            operators: 1
        }
    );
    assert_eq!(
        Graph::new(vec![u(1)], vec![svc(1, U256::ZERO, &[0])]).unwrap_err(),
        RiskError::BadThreshold {
            service: 0,
            threshold_wad: U256::ZERO
        }
    );
    assert_eq!(
        Graph::new(vec![u(1)], vec![svc(1, WAD + 1, &[0])])
            .unwrap_err()
            .to_string(),
        "service 0 has threshold 1000000000000000001: it must be in (0, 1e18]"
    );
    assert_eq!(
        Graph::new(vec![u(1)], vec![svc(1, WAD, &[])]).unwrap_err(),
        RiskError::NoOperators { service: 0 }
    );
    assert_eq!(
        Graph::new(vec![u(1)], vec![svc(1, WAD, &[0, 0])]).unwrap_err(),
        RiskError::DuplicateOperator {
            service: 0,
            operator: 0
        }
    );
    let g = Graph::new(vec![u(1)], vec![svc(0, WAD, &[0])]).unwrap();
    assert_eq!(g.gamma_slack().unwrap_err(), RiskError::NoProfit);
    assert_eq!(
        g.cascade_loss(&[3]).unwrap_err(),
        RiskError::ShockOutOfRange { operator: 3 }
    );
}

// ---- exhaustive brute force ----

fn threshold(g: &Graph, s: usize, removed: &[bool]) -> U256 {
    let total: U256 = g.services()[s]
        .operators
        .iter()
        .filter(|v| !removed[**v])
        .fold(U256::ZERO, |a, v| a + g.stakes()[*v]);
    stake_math::mul_div_up(g.services()[s].threshold_wad, total, WAD).unwrap()
}

/// Services corrupted by the operator set `mask` (on the graph without `removed`).
fn sat(g: &Graph, mask: u32, removed: &[bool]) -> Vec<usize> {
    (0..g.services().len())
        .filter(|s| {
            let got: U256 = g.services()[*s]
                .operators
                .iter()
                .filter(|v| mask & (1 << **v) != 0 && !removed[**v])
                .fold(U256::ZERO, |a, v| a + g.stakes()[*v]);
            got >= threshold(g, *s, removed)
        })
        .collect()
}

fn stake(g: &Graph, mask: u32) -> U256 {
    (0..g.stakes().len())
        .filter(|v| mask & (1 << v) != 0)
        .fold(U256::ZERO, |a, v| a + g.stakes()[v])
}

fn profit(g: &Graph, services: &[usize]) -> U256 {
    services.iter().fold(U256::ZERO, |a, s| a + g.services()[*s].profit)
}

/// Every (A, B) pair: A ranges over all non-empty service sets, B over operator sets.
fn brute_best(g: &Graph) -> U256 {
    let (n, m) = (g.stakes().len(), g.services().len());
    let none = vec![false; n];
    let mut best = U256::ZERO;
    for b in 0..(1u32 << n) {
        let corrupted = sat(g, b, &none);
        for a in 1..(1u32 << m) {
            let a: Vec<usize> = (0..m).filter(|s| a & (1 << s) != 0).collect();
            if a.iter().all(|s| corrupted.contains(s)) {
                let (p, c) = (profit(g, &a), stake(g, b));
                if p > c {
                    best = best.max(p - c);
                }
            }
        }
    }
    best
}

fn brute_cascade(g: &Graph, shock: u32) -> U256 {
    let n = g.stakes().len();
    let removed: Vec<bool> = (0..n).map(|v| shock & (1 << v) != 0).collect();
    let mut worst = U256::ZERO;
    for b in 0..(1u32 << n) {
        if b & shock != 0 {
            continue;
        }
        let a = sat(g, b, &removed);
        // Only operators securing a corrupted service can be slashed for it: B ⊆ N(A).
        let within = (0..n)
            .filter(|v| b & (1 << v) != 0)
            .all(|v| a.iter().any(|s| g.services()[*s].operators.contains(&v)));
        if !a.is_empty() && within && profit(g, &a) > stake(g, b) {
            worst = worst.max(stake(g, b));
        }
    }
    stake(g, shock) + worst
}

/// γ + 1 = min over non-empty A ⊆ {π > 0} of c(A)/π(A), with c(A) the cheapest corrupting B.
fn brute_gamma_plus_one(g: &Graph) -> Option<BigRational> {
    let (n, m) = (g.stakes().len(), g.services().len());
    let none = vec![false; n];
    let positive: Vec<usize> = (0..m).filter(|s| g.services()[*s].profit > U256::ZERO).collect();
    let mut best: Option<BigRational> = None;
    for a in 1..(1u32 << positive.len()) {
        let a: Vec<usize> = (0..positive.len())
            .filter(|i| a & (1 << i) != 0)
            .map(|i| positive[i])
            .collect();
        let c = (0..(1u32 << n))
            .filter(|b| a.iter().all(|s| sat(g, *b, &none).contains(s)))
            .map(|b| stake(g, b))
            .min()?;
        let r = BigRational::new(big(c), big(profit(g, &a)));
        if best.as_ref().is_none_or(|x| r < *x) {
            best = Some(r);
        }
    }
    best
}

fn big(v: U256) -> num_bigint::BigInt {
    v.to_string().parse().unwrap()
}

fn small_graph() -> impl Strategy<Value = Graph> {
    (1usize..=6, 1usize..=4).prop_flat_map(|(n, m)| {
        let stakes = prop::collection::vec(0u64..20, n);
        let services = prop::collection::vec(
            (
                0u64..40,
                prop::sample::select(vec![WAD / 3, WAD / 2, WAD * 2 / 3, WAD * 9 / 10, WAD]),
                prop::collection::btree_set(0..n, 1..=n),
            ),
            m,
        );
        (stakes, services).prop_map(|(stakes, services)| {
            let services = services
                .into_iter()
                .map(|(p, t, ops)| Service {
                    profit: U256::from(p),
                    threshold_wad: t,
                    operators: ops.into_iter().collect(),
                })
                .collect();
            Graph::new(stakes.into_iter().map(U256::from).collect(), services).unwrap()
        })
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn every_answer_equals_the_brute_force(g in small_graph(), shock in 0u32..64) {
        let n = g.stakes().len();
        let best = g.best_attack();
        let expected = brute_best(&g);
        prop_assert_eq!(best.as_ref().map_or(U256::ZERO, |a| a.profit), expected);
        if let Some(a) = &best {
            prop_assert!(g.is_attack(&a.coalition));
        }
        let shock = shock & ((1u32 << n) - 1);
        let shock_list: Vec<usize> = (0..n).filter(|v| shock & (1 << v) != 0).collect();
        prop_assert_eq!(g.cascade_loss(&shock_list).unwrap(), brute_cascade(&g, shock));
        match (g.gamma_slack(), brute_gamma_plus_one(&g)) {
            (Ok(gs), Some(r)) => {
                let one = BigRational::from_integer(1.into());
                prop_assert_eq!(BigRational::new(big(gs.cost), big(gs.profit)), r.clone());
                // ⌊γ·1e18⌋ toward −∞.
                let wad = BigRational::from_integer(big(WAD));
                let floor = ((r - one) * wad).floor().to_integer();
                prop_assert_eq!(gs.gamma_wad(), floor.to_string());
            }
            (Err(RiskError::NoProfit), None) => {}
            (a, b) => prop_assert!(false, "{:?} vs {:?}", a, b),
        }
    }

    /// Theorem 1: on a γ-slack network (γ > 0) no shock ψ costs more than (1 + 1/γ)·ψ in all.
    #[test]
    fn theorem_1_bounds_every_cascade(g in small_graph(), shock in 1u32..64) {
        let n = g.stakes().len();
        let shock = shock & ((1u32 << n) - 1);
        let shock_list: Vec<usize> = (0..n).filter(|v| shock & (1 << v) != 0).collect();
        if let Ok(Some(bound)) = g.loss_bound(stake(&g, shock)) {
            let loss = BigRational::from_integer(big(g.cascade_loss(&shock_list).unwrap()));
            prop_assert!(loss <= bound, "loss {} > bound {}", loss, bound);
        }
    }
}
