//! The macro benchmark behind `stakestack bench`: per-operation costs at the protocol level (the
//! protocol crate's function on the world's own state) and at the engine level
//! ([`World::apply`] plus the per-transaction invariant check), with 10³ to 10⁵ accounts and
//! positions in the world; the cost of a full-stack daily step with 10³ to 10⁵ Morpho positions;
//! and Ethereum's daily step at mainnet size — side by side in one run, so the ratios are tracked.
//!
//! The engine never reads a clock: the caller passes one (nanoseconds since any origin).

use crate::action::{Action, Outcome, Tx, SYSTEM};
use crate::lst::LstModel;
use crate::markets::{coins_of, FeedPrices, MarketAction};
use crate::markets::{MorphoAction, MorphoPrices};
use crate::runner::{prepare, Prepared};
use crate::world::World;
use stake_ledger::AccountId;
use stake_markets::aave::PriceSource;
use stake_math::{Checked, U256};

/// One measured figure.
#[derive(Clone, Debug, PartialEq)]
pub struct Figure {
    /// What was measured (`transfer`, `aave borrow`, `daily step`, …).
    pub what: String,
    /// `protocol` or `engine`.
    pub level: &'static str,
    /// Accounts or positions in the world.
    pub size: u64,
    /// Median nanoseconds per operation or step.
    pub ns: f64,
}

impl Figure {
    /// Operations (or steps) per second.
    pub fn per_second(&self) -> f64 {
        if self.ns > 0.0 {
            1e9 / self.ns
        } else {
            f64::INFINITY
        }
    }
}

/// How much to measure.
#[derive(Clone, Debug)]
pub struct Options {
    /// World sizes (accounts, and Morpho positions), e.g. `[1_000, 10_000, 100_000]`.
    pub sizes: Vec<u64>,
    /// Operations per timed batch.
    pub batch: u64,
    /// Timed batches (the median is reported).
    pub batches: u64,
    /// Daily steps timed per world.
    pub steps: u64,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            sizes: vec![1_000, 10_000, 100_000],
            batch: 2_000,
            batches: 7,
            steps: 10,
        }
    }
}

const E18: u128 = 1_000_000_000_000_000_000;

/// The benchmark world: Ethereum, Lido, the stETH/ETH pool, Aave (WETH, wstETH), a wstETH/WETH
/// Morpho market with `n` borrowers, a PT-wstETH Pendle market, `n` funded holders and one
/// funded benchmark account.
pub fn world_text(n: u64) -> String {
    let third = (n / 3).max(1);
    // Enough WETH for every borrower (each borrows at most ≈ 0.55 WETH).
    let supply = n.max(200_000);
    format!(
        r#"name = "bench-{n}"
[clock]
start   = "2025-01-01"
horizon = "400d"
step    = "1d"
seed    = 1

[chains.ethereum]
staked        = "34_000_000 ETH"
el_reward_apr = "0.6%"

[lst.stETH]
model          = "lido"
initial_pooled = "9_600_000 ETH"
operators      = [{{ name = "lido-1" }}, {{ name = "lido-2" }}]

[market.ETH_USD]
start = "3300"

[[pools]]
name      = "steth-eth"
coins     = ["ETH", "stETH"]
a         = 50
fee       = "0.04%"
liquidity = ["60_000 ETH", "60_000 stETH"]

[lending.aave]
reserves = [
  {{ asset = "WETH",   initial_supply = "400_000 WETH" }},
  {{ asset = "wstETH", initial_supply = "50_000 wstETH" }},
]

[[oracles]]
asset = "wstETH"
kind  = "exchange_rate"

[[pendle]]
name           = "PT-wstETH"
underlying     = "wstETH"
expiry         = "2026-06-25"
scalar_root    = "20"
initial_anchor = "1.05"
fee            = "0.05%"
liquidity      = "20_000 wstETH"

[[lending.morpho]]
name           = "morpho-wsteth"
loan           = "WETH"
collateral     = "wstETH"
lltv           = "94.5%"
oracle         = "market"
pool           = "steth-eth"
initial_supply = "{supply} WETH"
borrowers = [
  {{ account = "tight", count = {third}, collateral = "0.5 wstETH", ltv = "90%" }},
  {{ account = "mid",   count = {third}, collateral = "0.5 wstETH", ltv = "70%" }},
  {{ account = "safe",  count = {third}, collateral = "0.5 wstETH", ltv = "40%" }},
]

[[agents]]
kind       = "liquidator"
balances   = ["5_000 WETH"]
min_profit = "0.01 ETH"

[[accounts]]
name     = "holder"
balances = ["1 ETH"]
count    = {n}

[[accounts]]
name     = "bench"
balances = ["1_000_000 ETH"]
"#
    )
}

fn must(world: &mut World, sender: &str, action: Action) -> Result<(), String> {
    let d = action.describe();
    match world.apply(&Tx {
        sender: sender.into(),
        action,
    }) {
        Outcome::Applied { .. } => Ok(()),
        Outcome::Rejected(r) => Err(format!("bench setup: {d} rejected: [{}] {}", r.code, r.message)),
    }
}

fn market(a: MarketAction) -> Action {
    Action::Market(a)
}

/// The built world with the benchmark account's positions opened: stETH, wstETH, WETH, Aave
/// collateral, Morpho collateral and PT.
pub fn build(n: u64) -> Result<(Prepared, World), String> {
    let p = prepare(&world_text(n), None).map_err(|e| format!("bench world: {e}"))?;
    let mut w = p.world().clone();
    let e = |x: u128| U256::new(x * E18);
    must(
        &mut w,
        "bench",
        Action::Stake {
            lst: "stETH".into(),
            amount: e(100_000),
        },
    )?;
    must(
        &mut w,
        "bench",
        Action::Wrap {
            lst: "stETH".into(),
            amount: e(60_000),
        },
    )?;
    must(&mut w, "bench", market(MarketAction::WrapEth { amount: e(100_000) }))?;
    must(
        &mut w,
        "bench",
        market(MarketAction::Supply {
            token: "wstETH".into(),
            amount: e(20_000),
        }),
    )?;
    must(
        &mut w,
        "bench",
        market(MarketAction::Morpho(MorphoAction::SupplyCollateral {
            market: "morpho-wsteth".into(),
            amount: e(20_000),
        })),
    )?;
    must(
        &mut w,
        "bench",
        market(MarketAction::MintPy {
            market: "PT-wstETH".into(),
            amount: e(5_000),
        }),
    )?;
    w.ledger.set_auditing(true);
    w.ledger.audit().map_err(|x| x.to_string())?;
    Ok((p, w))
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v.get(v.len() / 2).copied().unwrap_or(0.0)
}

/// Times `op` in `batches` batches of `batch` calls; the median ns per call.
fn time(clock: &dyn Fn() -> u64, o: &Options, mut op: impl FnMut() -> Result<(), String>) -> Result<f64, String> {
    for _ in 0..(o.batch / 4).max(1) {
        op()?;
    }
    let mut per = Vec::new();
    for _ in 0..o.batches.max(1) {
        let t0 = clock();
        for _ in 0..o.batch.max(1) {
            op()?;
        }
        per.push(clock().saturating_sub(t0) as f64 / o.batch.max(1) as f64);
    }
    Ok(median(per))
}

/// The engine-level operation: apply, then the per-transaction invariant check.
fn engine_op(w: &mut World, tx: &Tx) -> Result<(), String> {
    if let Outcome::Rejected(r) = w.apply(tx) {
        return Err(format!("{}: [{}] {}", tx.action.describe(), r.code, r.message));
    }
    w.check_after(tx)
        .map_err(|e| format!("invariant after {}: {e}", tx.action.describe()))
}

fn tx(action: Action) -> Tx {
    Tx {
        sender: "bench".into(),
        action,
    }
}

type ProtoOp = Box<dyn Fn(&mut World, AccountId) -> Result<(), String>>;

/// The operations: name, the protocol-level call, the engine-level transaction.
fn operations() -> Vec<(&'static str, ProtoOp, Tx)> {
    let small = U256::new(1_000_000_000_000); // 1e12 wei
    let err = |e: &dyn std::fmt::Display| e.to_string();
    vec![
        (
            "transfer (simple)",
            Box::new(move |w: &mut World, a: AccountId| {
                let to = w.ledger.find_account("holder-1").map_err(|e| err(&e))?;
                let eth = w.eth_asset;
                w.ledger.transfer(a, to, eth, U256::ONE).map_err(|e| err(&e))
            }) as ProtoOp,
            tx(Action::Transfer {
                asset: "ETH".into(),
                to: "holder-1".into(),
                amount: U256::ONE,
            }),
        ),
        (
            "lido submit (simple)",
            Box::new(move |w: &mut World, a: AccountId| {
                let now = w.now;
                match &mut w.lsts[0].model {
                    LstModel::Lido(l) => l.submit(&mut w.ledger, a, small, now).map(|_| ()).map_err(|e| err(&e)),
                    _ => Err("no Lido".into()),
                }
            }),
            tx(Action::Stake {
                lst: "stETH".into(),
                amount: small,
            }),
        ),
        (
            "stableswap exchange (complex)",
            Box::new(move |w: &mut World, a: AccountId| {
                let coins = coins_of(w, &w.markets.pools[0]).map_err(|e| err(&e))?;
                let now = w.now;
                let e = &mut w.markets.pools[0];
                e.pool
                    .exchange(&mut w.ledger, &coins, a, 0, 1, small, U256::ZERO, now)
                    .map(|_| ())
                    .map_err(|e| err(&e))
            }),
            tx(market(MarketAction::Swap {
                pool: "steth-eth".into(),
                token_in: "ETH".into(),
                amount: small,
                min_out: U256::ZERO,
            })),
        ),
        (
            "aave borrow with HF check (complex)",
            Box::new(move |w: &mut World, a: AccountId| {
                let now = w.now;
                let weth = w.markets.weth.ok_or("no WETH")?;
                let m = &mut w.markets;
                let px = FeedPrices {
                    oracles: &m.oracles,
                    feeds: &m.feeds,
                    max_age: m.max_price_age,
                };
                let aave = m.aave.as_mut().ok_or("no Aave")?;
                aave.borrow(&mut w.ledger, &px, a, weth, small, now)
                    .map(|_| ())
                    .map_err(|e| err(&e))
            }),
            tx(market(MarketAction::Borrow {
                token: "WETH".into(),
                amount: small,
            })),
        ),
        (
            "morpho borrow with health check (complex)",
            Box::new(move |w: &mut World, a: AccountId| {
                let now = w.now;
                let m = &mut w.markets;
                let px = MorphoPrices {
                    feeds: FeedPrices {
                        oracles: &m.oracles,
                        feeds: &m.feeds,
                        max_age: m.max_price_age,
                    },
                    markets: &m.morpho.markets,
                };
                let id = m.morpho.markets[0].id;
                m.morpho
                    .blue
                    .borrow(&mut w.ledger, &px, id, a, small, U256::ZERO, now)
                    .map(|_| ())
                    .map_err(|e| err(&e))
            }),
            tx(market(MarketAction::Morpho(MorphoAction::Borrow {
                market: "morpho-wsteth".into(),
                amount: small,
            }))),
        ),
        (
            "pendle swap PT→SY (complex)",
            Box::new(move |w: &mut World, a: AccountId| {
                let now = w.now;
                let market = w.markets.pendle_markets[0].market;
                let p = w.markets.pendle.as_mut().ok_or("no Pendle")?;
                p.swap_exact_pt_for_sy(&mut w.ledger, a, market, small, U256::ZERO, now)
                    .map(|_| ())
                    .map_err(|e| err(&e))
            }),
            tx(market(MarketAction::SellPt {
                market: "PT-wstETH".into(),
                amount: small,
                min_out: U256::ZERO,
            })),
        ),
    ]
}

/// Per-operation figures at both levels for a world of size `n`.
pub fn operation_figures(clock: &dyn Fn() -> u64, o: &Options, n: u64) -> Result<Vec<Figure>, String> {
    let (_, world) = build(n)?;
    let mut out = Vec::new();
    for (name, proto, engine) in operations() {
        let mut w = world.clone();
        let a = w.ledger.find_account("bench").map_err(|e| e.to_string())?;
        // The ledger records writes for the audit only in runs: off at the protocol level.
        w.ledger.set_auditing(false);
        let ns = time(clock, o, || proto(&mut w, a))?;
        out.push(Figure {
            what: name.into(),
            level: "protocol",
            size: n,
            ns,
        });
        let mut w = world.clone();
        let ns = time(clock, o, || engine_op(&mut w, &engine))?;
        out.push(Figure {
            what: name.into(),
            level: "engine",
            size: n,
            ns,
        });
    }
    Ok(out)
}

/// One daily step as the runner takes it — `AdvanceTime` by a day with its per-transaction
/// check, then the metric sample — in ns.
fn timed_day(clock: &dyn Fn() -> u64, p: &Prepared, w: &mut World) -> Result<f64, String> {
    let to = w.now + crate::time::DAY;
    let t0 = clock();
    engine_op(
        w,
        &Tx {
            sender: SYSTEM.into(),
            action: Action::AdvanceTime { to },
        },
    )?;
    let row = p.sample_row(w);
    let ns = clock().saturating_sub(t0) as f64;
    std::hint::black_box(row);
    Ok(ns)
}

/// Daily steps of the benchmark world of size `n`: median ns of `AdvanceTime` by one day with
/// its per-transaction check and the step's metric sample; and the full invariant check, which
/// runs every `full_every` steps.
pub fn step_figures(clock: &dyn Fn() -> u64, o: &Options, n: u64) -> Result<Vec<Figure>, String> {
    let (p, mut w) = build(n)?;
    let mut per = Vec::new();
    for _ in 0..o.steps.max(1) {
        per.push(timed_day(clock, &p, &mut w)?);
    }
    let t0 = clock();
    w.check_invariants().map_err(|e| format!("full check: {e}"))?;
    let full = clock().saturating_sub(t0) as f64;
    Ok(vec![
        Figure {
            what: "full-stack daily step".into(),
            level: "engine",
            size: n,
            ns: median(per),
        },
        Figure {
            what: "full invariant check".into(),
            level: "engine",
            size: n,
            ns: full,
        },
    ])
}

/// Opens `n` Aave borrowers `aave-borrower-<i>` funded by `funder`: each receives `collateral`
/// wstETH (a ledger transfer), supplies it and borrows WETH at 50 %–99 % of what its LTV
/// allows, so that their health factors spread from about 1.01 to 2. Protocol-level calls (the
/// world is set up, not run); ends with a ledger audit so the next per-transaction check sees
/// only what follows. Returns the borrowers.
pub fn open_aave_borrowers(w: &mut World, funder: &str, n: u64, collateral: U256) -> Result<Vec<AccountId>, String> {
    let err = |e: &dyn std::fmt::Display| e.to_string();
    let from = w.ledger.find_account(funder).map_err(|e| err(&e))?;
    let wsteth = w.ledger.asset("wstETH").map_err(|e| err(&e))?;
    let weth = w.markets.weth.ok_or("no WETH")?;
    let mut out = Vec::new();
    for i in 0..n {
        let who = w.ledger.account(&format!("aave-borrower-{i}"));
        w.ledger.transfer(from, who, wsteth, collateral).map_err(|e| err(&e))?;
        let now = w.now;
        let m = &mut w.markets;
        let px = FeedPrices {
            oracles: &m.oracles,
            feeds: &m.feeds,
            max_age: m.max_price_age,
        };
        let aave = m.aave.as_mut().ok_or("no Aave")?;
        aave.supply(&mut w.ledger, who, wsteth, collateral, now)
            .map_err(|e| err(&e))?;
        let avail = aave
            .account_data(&w.ledger, &px, who, now)
            .and_then(|d| d.available_borrows_base().map_err(stake_markets::aave::AaveError::from))
            .map_err(|e| err(&e))?;
        let p = px.price_base(weth, now)?;
        let pct = U256::from(50 + (i * 37) % 50);
        let want = pct
            .mul_c(U256::new(E18))
            .and_then(|num| Ok((num, p.mul_c(U256::from(100u8))?)))
            .and_then(|(num, den)| stake_math::mul_div_down(avail, num, den))
            .map_err(|e| err(&e))?;
        if want > U256::ZERO {
            aave.borrow(&mut w.ledger, &px, who, weth, want, now)
                .map_err(|e| err(&e))?;
        }
        out.push(who);
    }
    if w.ledger.is_auditing() {
        w.ledger.audit().map_err(|e| err(&e))?;
    }
    Ok(out)
}

/// Daily steps of the benchmark world of size `n` with `n` Aave borrowers besides its `n`
/// Morpho positions: the median ns of a full-stack daily step (as [`step_figures`]), and of the
/// scan of every Aave borrower's exact health factor — what the liquidator and the per-step
/// minimum health factor did before the liquidation index (`aave_index`), once per step.
pub fn aave_step_figures(clock: &dyn Fn() -> u64, o: &Options, n: u64) -> Result<Vec<Figure>, String> {
    let (p, mut w) = build(n)?;
    open_aave_borrowers(&mut w, "bench", n, U256::new(E18 / 20))?;
    let mut per = Vec::new();
    let mut scan = Vec::new();
    for _ in 0..o.steps.max(1) {
        per.push(timed_day(clock, &p, &mut w)?);
        let m = &w.markets;
        let px = FeedPrices {
            oracles: &m.oracles,
            feeds: &m.feeds,
            max_age: m.max_price_age,
        };
        let aave = m.aave.as_ref().ok_or("no Aave")?;
        let t0 = clock();
        let hfs = aave.health_factors(&w.ledger, &px, w.now).map_err(|e| e.to_string())?;
        scan.push(clock().saturating_sub(t0) as f64);
        std::hint::black_box(hfs);
    }
    let borrowers = u64::try_from(w.markets.aave.as_ref().map_or(0, |a| a.index.len())).unwrap_or(u64::MAX);
    Ok(vec![
        Figure {
            what: "full-stack daily step, N Aave borrowers".into(),
            level: "engine",
            size: borrowers,
            ns: median(per),
        },
        Figure {
            what: "  Aave HF scan of all borrowers (replaced)".into(),
            level: "protocol",
            size: borrowers,
            ns: median(scan),
        },
    ])
}

/// Ethereum's daily step on a world with `scenario`'s validators (the shipped
/// `eth-staking-basics` is mainnet-sized): median ns of one day of epochs and frame hooks.
pub fn ethereum_step(clock: &dyn Fn() -> u64, o: &Options, scenario: &str) -> Result<Figure, String> {
    let p = prepare(scenario, None).map_err(|e| format!("scenario: {e}"))?;
    let mut w = p.world().clone();
    w.ledger.set_auditing(true);
    let mut per = Vec::new();
    for _ in 0..o.steps.max(1) {
        let to = w.now + crate::time::DAY;
        let t0 = clock();
        let r = w.eth.advance_to(&mut w.ledger, to).map_err(|e| e.to_string())?;
        per.push(clock().saturating_sub(t0) as f64);
        w.now = to;
        std::hint::black_box(r);
    }
    let e = w.eth.current_epoch();
    let active: u64 = w
        .eth
        .groups()
        .iter()
        .filter(|g| g.activation_epoch <= e && e < g.exit_epoch)
        .map(|g| g.count)
        .sum();
    Ok(Figure {
        what: format!("ethereum daily step ({} validator groups)", w.eth.groups().len()),
        level: "l0",
        size: active,
        ns: median(per),
    })
}
