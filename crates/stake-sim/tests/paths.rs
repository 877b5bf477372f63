//! Paths run in parallel give the same results as one at a time, and path 0 is the plain run.

use stake_engine::runner::{prepare, Prepared};
use stake_sim::{path_seed, run_paths, PathRun};

/// The shipped markets scenario (seeded jump-diffusion ETH/USD, liquidator, pools).
fn markets() -> Prepared {
    prepare(include_str!("../../../scenarios/lst-markets.toml"), None).unwrap()
}

/// The shipped slashing scenario with seeded service faults (2 % per operator per day on the
/// first service).
fn slashing() -> Prepared {
    let text = include_str!("../../../scenarios/avs-slashing.toml").replacen(
        "slash_on_fault = \"5%\"",
        "slash_on_fault = \"5%\"\nfault_probability = \"2%\"",
        1,
    );
    assert!(text.contains("fault_probability"));
    prepare(&text, None).unwrap()
}

/// The shipped LRT scenario (ezETH and rsETH over EigenPods, a seeded ETH/USD path, an Aave
/// loop and a Pendle market).
fn lrts() -> Prepared {
    prepare(include_str!("../../../scenarios/lrt-loop.toml"), None).unwrap()
}

fn hashes(p: &Prepared, n: u64, threads: usize) -> Vec<String> {
    let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
    let mut out = Vec::new();
    pool.install(|| {
        run_paths(p, 0, n, &|_| {}, &mut |r: PathRun| -> Result<(), ()> {
            assert_eq!(r.seed, path_seed(p.seed(), r.index));
            out.push((r.index, r.result.summary.final_state_hash));
            Ok(())
        })
        .unwrap();
    });
    // Handed over in path order.
    assert_eq!(out.iter().map(|x| x.0).collect::<Vec<_>>(), (0..n).collect::<Vec<_>>());
    out.into_iter().map(|x| x.1).collect()
}

#[test]
fn path_seeds_are_the_scenario_seed_then_chacha_streams() {
    assert_eq!(path_seed(7, 0), 7);
    let s: Vec<u64> = (0..64).map(|i| path_seed(7, i)).collect();
    let mut d = s.clone();
    d.sort_unstable();
    d.dedup();
    assert_eq!(d.len(), 64, "distinct seeds per path");
    assert_eq!(path_seed(7, 5), s[5], "a path's seed does not depend on the others");
    assert_ne!(path_seed(8, 5), path_seed(7, 5));
}

#[test]
fn one_thread_and_two_give_the_same_state_hash_on_every_path() {
    for p in [markets(), slashing(), lrts()] {
        let one = hashes(&p, 6, 1);
        let two = hashes(&p, 6, 2);
        assert_eq!(one, two, "{}", p.name());
        let mut d = one.clone();
        d.sort();
        d.dedup();
        assert_eq!(
            d.len(),
            6,
            "{}: every path differs (its randomness is its own)",
            p.name()
        );
    }
}

#[test]
fn path_zero_is_the_single_run_and_a_path_alone_is_the_same_path() {
    let p = markets();
    let single = p.run(&mut |_, _| {}).unwrap().summary.final_state_hash;
    let all = hashes(&p, 4, 2);
    assert_eq!(all[0], single);
    let mut alone = Vec::new();
    run_paths(&p, 3, 4, &|_| {}, &mut |r: PathRun| -> Result<(), ()> {
        alone.push(r.result.summary.final_state_hash);
        Ok(())
    })
    .unwrap();
    assert_eq!(alone, vec![all[3].clone()]);
}

#[test]
fn progress_counts_every_step_of_every_path() {
    let p = markets();
    let seen = std::sync::atomic::AtomicU64::new(0);
    run_paths(
        &p,
        0,
        3,
        &|n| {
            seen.fetch_max(n, std::sync::atomic::Ordering::Relaxed);
        },
        &mut |_: PathRun| -> Result<(), ()> { Ok(()) },
    )
    .unwrap();
    assert_eq!(seen.into_inner(), 3 * p.total_steps());
}

#[test]
fn a_sink_error_stops_the_run_after_the_paths_before_it() {
    let p = markets();
    let mut n = 0;
    let r = run_paths(&p, 0, 5, &|_| {}, &mut |r: PathRun| -> Result<(), String> {
        n += 1;
        if r.index == 1 {
            return Err("disk full".into());
        }
        Ok(())
    });
    match r {
        Err(stake_sim::RunPathsError::Sink(m)) => assert_eq!(m, "disk full"),
        other => panic!("{other:?}"),
    }
    assert_eq!(n, 2);
}
