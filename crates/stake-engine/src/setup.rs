//! Building a world from a scenario: every value gets its meaning here, and every error names the
//! key path it came from.

use crate::action::{Action, SYSTEM};
use crate::amount::{parse_amount, parse_bps, parse_wad_fraction};
use crate::lst::{LstEntry, LstModel};
use crate::scenario::{to_u64, LstCfg, Scenario, ScenarioError};
use crate::time::{parse_at, parse_date, parse_duration, EPOCH};
use crate::world::{World, DEPOSIT};
use stake_l0::EthParams;
use stake_ledger::{AssetKind, Ledger, Reject};
use stake_lst::exchange_rate::{ExchangeRateLst, ExchangeRateParams};
use stake_lst::lido::{Lido, LidoParams, ModuleKind, ModuleParams, OperatorParams, SanityLimits};
use stake_lst::rocketpool::{BondKind, NodeBalance, RocketPool, RocketPoolParams};
use stake_math::{u, Checked, U256, WAD};
use std::collections::BTreeMap;

/// How much of something a scheduled action moves.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AmountSpec {
    /// Exact base units.
    Exact(U256),
    /// The sender's whole balance of the relevant token at execution time.
    All,
}

/// A scheduled transaction (from `[[actions]]` or `[[events]]`).
#[derive(Clone, Debug)]
pub struct Scheduled {
    /// When.
    pub at: u64,
    /// Order among items at the same time (file order).
    pub seq: usize,
    /// Sender.
    pub sender: String,
    /// What (the amount may be resolved at execution time).
    pub action: Action,
    /// Set when the amount is `all`: the asset whose balance is used.
    pub all_of: Option<String>,
}

/// A world ready to run, with its schedule.
#[derive(Clone, Debug)]
pub struct Built {
    /// The world at the start.
    pub world: World,
    /// Scheduled transactions, sorted by (time, seq).
    pub schedule: Vec<Scheduled>,
    /// Start time.
    pub start: u64,
    /// End time.
    pub end: u64,
    /// Step.
    pub step: u64,
    /// Monte Carlo paths the scenario asks for (`clock.paths`, default 1).
    pub paths: u64,
}

/// Most Monte Carlo paths one run takes.
pub const MAX_PATHS: u64 = 1_000_000;

/// Checks a number of Monte Carlo paths (from `clock.paths` or `--paths`).
pub fn check_paths(paths: u64) -> Result<(), String> {
    if paths == 0 {
        return Err("must be at least 1".into());
    }
    if paths > MAX_PATHS {
        return Err(format!("{paths} paths is too many (max {MAX_PATHS})"));
    }
    Ok(())
}

fn err(path: impl Into<String>, msg: impl Into<String>) -> ScenarioError {
    ScenarioError::at(path, msg)
}

fn setup_err<E: Reject>(path: &str) -> impl Fn(E) -> ScenarioError + '_ {
    move |e| err(path, format!("setting up failed: [{}] {e}", e.code()))
}

fn ppm(s: &str, path: &str) -> Result<u64, ScenarioError> {
    let v = stake_math::parse::parse_fraction(s, u(1_000_000)).map_err(|e| err(path, format!("`{s}`: {e}")))?;
    u64::try_from(v).map_err(|_| err(path, "too large"))
}

fn amount_of(ledger: &Ledger, s: &str, expect: &[&str], path: &str) -> Result<U256, ScenarioError> {
    let dec = |sym: &str| {
        ledger
            .asset(sym)
            .ok()
            .and_then(|id| ledger.asset_info(id).ok())
            .map(|a| a.decimals)
    };
    let a = parse_amount(s, &dec).map_err(|e| err(path, e))?;
    match &a.asset {
        Some(sym) if !expect.contains(&sym.as_str()) => Err(err(
            path,
            format!("`{s}` is an amount of {sym}, expected {}", expect.join(" or ")),
        )),
        _ => Ok(a.base),
    }
}

impl Built {
    /// Builds the world of a parsed scenario.
    pub fn from_scenario(scn: &Scenario) -> Result<Built, ScenarioError> {
        let start = parse_date(&scn.clock.start).map_err(|e| err("clock.start", e))?;
        let horizon = parse_duration(&scn.clock.horizon).map_err(|e| err("clock.horizon", e))?;
        let step = parse_duration(&scn.clock.step).map_err(|e| err("clock.step", e))?;
        if step == 0 {
            return Err(err("clock.step", "must be positive"));
        }
        if horizon == 0 {
            return Err(err("clock.horizon", "must be positive"));
        }
        if step > horizon {
            return Err(err(
                "clock.step",
                format!(
                    "`{}` is longer than the horizon `{}`",
                    scn.clock.step, scn.clock.horizon
                ),
            ));
        }
        if horizon / step > 1_000_000 {
            return Err(err(
                "clock.step",
                format!("{} steps is too many (max 1,000,000)", horizon / step),
            ));
        }
        let paths = scn.clock.paths.unwrap_or(1);
        check_paths(paths).map_err(|m| err("clock.paths", m))?;
        let end = start
            .checked_add(horizon)
            .ok_or_else(|| err("clock.horizon", "ends too far in the future"))?;

        // L0
        let mut eth_params = EthParams::default();
        let ecfg = scn.chains.ethereum.clone().unwrap_or_default();
        if let Some(s) = &ecfg.el_reward_apr {
            eth_params.el_reward_apr_ppm = ppm(s, "chains.ethereum.el_reward_apr")?;
        }
        if let Some(s) = &ecfg.participation {
            let p = ppm(s, "chains.ethereum.participation")?;
            if p > 1_000_000 {
                return Err(err("chains.ethereum.participation", "must be at most 100%"));
            }
            eth_params.performance_ppm = p;
        }
        let perf = eth_params.performance_ppm;
        let mut world = World::new(start, eth_params).map_err(|e| err("chains.ethereum", e.to_string()))?;
        if let Some(s) = &ecfg.staked {
            let staked = amount_of(&world.ledger, s, &["ETH"], "chains.ethereum.staked")?;
            let count = staked / DEPOSIT;
            if count > U256::ZERO {
                let others = world.ledger.account("eth:others");
                world
                    .eth
                    .add_genesis_validators(
                        &mut world.ledger,
                        to_u64(count, "chains.ethereum.staked", "validators")?,
                        "others",
                        others,
                        others,
                        perf,
                    )
                    .map_err(setup_err("chains.ethereum.staked"))?;
            }
        }

        // L1
        let mut operator_names: BTreeMap<String, String> = BTreeMap::new();
        for (sym, cfg) in &scn.lst {
            let path = format!("lst.{sym}");
            for (i, o) in cfg.operators.iter().enumerate() {
                if let Some(prev) = operator_names.insert(o.name.clone(), sym.clone()) {
                    return Err(err(
                        format!("{path}.operators[{i}].name"),
                        format!("operator `{}` is already used by {prev}", o.name),
                    ));
                }
            }
            let entry = match cfg.model.as_str() {
                "lido" => build_lido(&mut world, sym, cfg, &path, start, perf)?,
                "rocketpool" => build_rocketpool(&mut world, sym, cfg, &path, start, perf)?,
                "exchange_rate" => build_exchange_rate(&mut world, sym, cfg, &path, start, perf)?,
                other => {
                    return Err(err(
                        format!("{path}.model"),
                        format!("unknown LST model `{other}` (available: lido, rocketpool, exchange_rate)"),
                    ));
                }
            };
            world.lsts.push(entry);
        }
        world.next_frame = start.saturating_add(world.frame_seconds);
        crate::restaking::build(&mut world, scn, start)?;
        crate::lrt::build(&mut world, scn, start)?;
        crate::products::build(&mut world, scn, start)?;
        crate::markets::build(&mut world, scn, start)?;

        // accounts
        for (i, a) in scn.accounts.iter().enumerate() {
            let path = format!("accounts[{i}]");
            if a.name.is_empty() || a.name.contains(':') || a.name == SYSTEM {
                return Err(err(
                    format!("{path}.name"),
                    format!("`{}` is not a user account name (no `:`; not `system`)", a.name),
                ));
            }
            let n = a.count.unwrap_or(1);
            if n == 0 || n > 1_000_000 {
                return Err(err(format!("{path}.count"), "must be between 1 and 1,000,000"));
            }
            for (j, b) in a.balances.iter().enumerate() {
                let bpath = format!("{path}.balances[{j}]");
                let dec = |sym: &str| {
                    world
                        .ledger
                        .asset(sym)
                        .ok()
                        .and_then(|id| world.ledger.asset_info(id).ok())
                        .map(|x| x.decimals)
                };
                let amt = parse_amount(b, &dec).map_err(|e| err(&bpath, e))?;
                let sym = amt
                    .asset
                    .ok_or_else(|| err(&bpath, format!("`{b}` needs a unit, e.g. `100 ETH`")))?;
                let asset = world.ledger.asset(&sym).map_err(|e| err(&bpath, e.to_string()))?;
                let kind = world
                    .ledger
                    .asset_info(asset)
                    .map_err(|e| err(&bpath, e.to_string()))?
                    .kind;
                if kind != AssetKind::Plain {
                    return Err(err(
                        &bpath,
                        format!("{sym} is a rebasing token: start with ETH and stake at `day 0` instead"),
                    ));
                }
                for k in 1..=n {
                    let name = if n == 1 {
                        a.name.clone()
                    } else {
                        format!("{}-{k}", a.name)
                    };
                    let acct = world.ledger.account(&name);
                    world
                        .ledger
                        .mint(acct, asset, amt.base)
                        .map_err(|e| err(&bpath, e.to_string()))?;
                    // A wrapped-ETH balance is backed: its ETH sits in the wrapper's reserve.
                    if let (Some(weth), Some(reserve)) = (world.markets.weth, world.markets.weth_reserve) {
                        if weth == asset {
                            let eth = world.eth_asset;
                            world
                                .ledger
                                .mint(reserve, eth, amt.base)
                                .map_err(|e| err(&bpath, e.to_string()))?;
                        }
                    }
                }
            }
        }

        let schedule = build_schedule(scn, &world, start, end)?;
        world
            .check_invariants()
            .map_err(|e| err("", format!("the initial world breaks an invariant: {e}")))?;
        Ok(Built {
            world,
            schedule,
            start,
            end,
            step,
            paths,
        })
    }
}

/// Genesis validators: the ETH an LST set aside for `plan` leaves `from` and the same amount is
/// active on Ethereum at once (a world that starts mid-history has no activation queue behind it).
fn genesis_validators(
    world: &mut World,
    from: stake_ledger::AccountId,
    plan: &[(String, u64)],
    credentials: stake_ledger::AccountId,
    fee_recipient: stake_ledger::AccountId,
    perf: u64,
    path: &str,
) -> Result<(), ScenarioError> {
    for (op, n) in plan {
        let wei = DEPOSIT.mul_c(U256::from(*n)).map_err(setup_err(path))?;
        world.ledger.burn(from, world.eth_asset, wei).map_err(setup_err(path))?;
        world
            .eth
            .add_genesis_validators(&mut world.ledger, *n, op, credentials, fee_recipient, perf)
            .map_err(setup_err(path))?;
    }
    Ok(())
}

fn build_lido(
    world: &mut World,
    sym: &str,
    cfg: &LstCfg,
    path: &str,
    start: u64,
    perf: u64,
) -> Result<LstEntry, ScenarioError> {
    for (k, v) in [
        ("deposit_fee", &cfg.deposit_fee),
        ("deposit_pool_cap", &cfg.deposit_pool_cap),
        ("vault_symbol", &cfg.vault_symbol),
    ] {
        if v.is_some() {
            return Err(err(format!("{path}.{k}"), "not a parameter of the lido model"));
        }
    }
    let mut params = LidoParams {
        symbol: sym.to_string(),
        wrapped_symbol: format!("w{sym}"),
        ..LidoParams::default()
    };
    let fee_bp = match &cfg.fee {
        Some(f) => {
            let v = parse_bps(f).map_err(|e| err(format!("{path}.fee"), e))?;
            if v > u(10_000) {
                return Err(err(format!("{path}.fee"), "must be at most 100%"));
            }
            to_u64(v, &format!("{path}.fee"), "fee")?
        }
        None => 1_000,
    };
    if let Some(s) = &cfg.staking_limit {
        params.max_stake_limit_wei = amount_of(&world.ledger, s, &["ETH"], &format!("{path}.staking_limit"))?;
    }
    let mut curated = Vec::new();
    let mut csm = Vec::new();
    for (i, o) in cfg.operators.iter().enumerate() {
        let op = OperatorParams {
            name: o.name.clone(),
            key_limit: 1_000_000,
        };
        match o.module.as_deref().unwrap_or("curated") {
            "curated" => curated.push(op),
            "csm" => csm.push(op),
            m => {
                return Err(err(
                    format!("{path}.operators[{i}].module"),
                    format!("unknown module `{m}` (curated or csm)"),
                ))
            }
        }
        for (k, v) in [
            ("rpl", &o.rpl),
            ("commission", &o.commission),
            ("participation", &o.participation),
        ] {
            if v.is_some() {
                return Err(err(
                    format!("{path}.operators[{i}].{k}"),
                    "not a parameter of lido operators",
                ));
            }
        }
        if o.validators.is_some() {
            return Err(err(
                format!("{path}.operators[{i}].validators"),
                "lido allocates validators itself (staking router): set `initial_pooled` on the LST instead",
            ));
        }
    }
    if curated.is_empty() && csm.is_empty() {
        return Err(err(format!("{path}.operators"), "lido needs at least one operator"));
    }
    params.modules.clear();
    if !curated.is_empty() {
        params.modules.push(ModuleParams {
            name: "curated".into(),
            kind: ModuleKind::Curated,
            module_fee_bp: fee_bp / 2,
            treasury_fee_bp: fee_bp - fee_bp / 2,
            stake_share_limit_bp: 10_000,
            operators: curated,
        });
    }
    if !csm.is_empty() {
        params.modules.push(ModuleParams {
            name: "csm".into(),
            kind: ModuleKind::Bonded {
                bond_first_wei: u(2_400_000_000_000_000_000),
                bond_next_wei: u(1_300_000_000_000_000_000),
            },
            module_fee_bp: fee_bp * 6 / 10,
            treasury_fee_bp: fee_bp - fee_bp * 6 / 10,
            stake_share_limit_bp: 500,
            operators: csm,
        });
    }
    // Genesis: no staking limit and no appeared-validators limit while the initial pool forms.
    let limit_enabled = params.staking_limit_enabled;
    let sanity = params.sanity.clone();
    params.staking_limit_enabled = false;
    params.sanity = SanityLimits {
        appeared_validators_per_day: u64::MAX / 4,
        ..sanity.clone()
    };
    let mut lido = Lido::new(&mut world.ledger, sym, params).map_err(setup_err(path))?;
    let eth_id = world.eth_asset;
    // CSM bonds: the operator stakes ETH and posts the stETH as its bond.
    for (i, o) in cfg.operators.iter().enumerate() {
        if let Some(b) = &o.bond {
            let bpath = format!("{path}.operators[{i}].bond");
            if o.module.as_deref() != Some("csm") {
                return Err(err(bpath, "only csm operators post a bond"));
            }
            let amount = amount_of(&world.ledger, b, &[sym], &bpath)?;
            let acct = world.ledger.account(&o.name);
            world.ledger.mint(acct, eth_id, amount).map_err(setup_err(&bpath))?;
            lido.submit(&mut world.ledger, acct, amount, start)
                .map_err(setup_err(&bpath))?;
            let bal = lido.balance_of(&world.ledger, acct).map_err(setup_err(&bpath))?;
            lido.post_bond(&mut world.ledger, &o.name, acct, bal)
                .map_err(setup_err(&bpath))?;
        }
    }
    let mut entry = LstEntry {
        symbol: sym.to_string(),
        model: LstModel::Lido(Box::new(lido)),
        start_rate_wad: WAD,
        start_time: start,
        track: BTreeMap::new(),
    };
    if let Some(s) = &cfg.initial_pooled {
        let ipath = format!("{path}.initial_pooled");
        let amount = amount_of(&world.ledger, s, &["ETH"], &ipath)?;
        let genesis = world.ledger.account(&format!("{sym}:genesis"));
        world.ledger.mint(genesis, eth_id, amount).map_err(setup_err(&ipath))?;
        if let LstModel::Lido(l) = &mut entry.model {
            l.submit(&mut world.ledger, genesis, amount, start)
                .map_err(setup_err(&ipath))?;
            let plan = l.deposit_plan();
            l.on_deposited(&world.ledger, &plan).map_err(setup_err(&ipath))?;
            let a = l.accounts().clone();
            genesis_validators(world, a.buffer, &plan, a.withdrawal_vault, a.el_vault, perf, &ipath)?;
        }
    }
    // The first report at the start sees the genesis validators.
    entry
        .oracle_report(&mut world.ledger, &world.eth, start)
        .map_err(|e| err(path, format!("genesis report failed: {e}")))?;
    if let LstModel::Lido(l) = &mut entry.model {
        l.set_staking_limit_enabled(limit_enabled, start)
            .map_err(setup_err(path))?;
        l.set_sanity_limits(sanity);
    }
    entry.start_rate_wad = entry.model.rate_wad().map_err(|e| err(path, e.to_string()))?;
    Ok(entry)
}

fn build_rocketpool(
    world: &mut World,
    sym: &str,
    cfg: &LstCfg,
    path: &str,
    start: u64,
    perf: u64,
) -> Result<LstEntry, ScenarioError> {
    for (k, v) in [
        ("fee", &cfg.fee),
        ("staking_limit", &cfg.staking_limit),
        ("vault_symbol", &cfg.vault_symbol),
    ] {
        if v.is_some() {
            return Err(err(
                format!("{path}.{k}"),
                "not a parameter of the rocketpool model (commission is per network: 14% minipools)",
            ));
        }
    }
    let mut params = RocketPoolParams {
        symbol: sym.to_string(),
        ..RocketPoolParams::default()
    };
    if let Some(f) = &cfg.deposit_fee {
        params.deposit_fee_wad = parse_wad_fraction(f).map_err(|e| err(format!("{path}.deposit_fee"), e))?;
    }
    if let Some(c) = &cfg.deposit_pool_cap {
        params.max_deposit_pool_wei = amount_of(&world.ledger, c, &["ETH"], &format!("{path}.deposit_pool_cap"))?;
    }
    let mut rp = RocketPool::new(&mut world.ledger, params.clone()).map_err(setup_err(path))?;
    let eth_id = world.eth_asset;
    let rpl_id = world.ledger.asset(&params.rpl_symbol).map_err(setup_err(path))?;
    let mut user_needed = U256::ZERO;
    for (i, o) in cfg.operators.iter().enumerate() {
        let opath = format!("{path}.operators[{i}]");
        if o.module.is_some() || o.participation.is_some() || o.commission.is_some() {
            return Err(err(&opath, "rocketpool operators take `bond`, `rpl` and `validators`"));
        }
        let bond = amount_of(
            &world.ledger,
            o.bond.as_deref().unwrap_or("8 ETH"),
            &["ETH"],
            &format!("{opath}.bond"),
        )?;
        let kind = if bond == u(8) * WAD {
            BondKind::Minipool8
        } else if bond == u(16) * WAD {
            BondKind::Minipool16
        } else if bond == u(4) * WAD {
            BondKind::Megapool4
        } else {
            return Err(err(
                format!("{opath}.bond"),
                "bond must be 8 ETH or 16 ETH (minipools) or 4 ETH (megapool)",
            ));
        };
        let node = world.ledger.account(&o.name);
        rp.register_node(&world.ledger, node, kind, start)
            .map_err(setup_err(&opath))?;
        if let Some(r) = &o.rpl {
            let rpath = format!("{opath}.rpl");
            let amount = amount_of(&world.ledger, r, &[&params.rpl_symbol], &rpath)?;
            world.ledger.mint(node, rpl_id, amount).map_err(setup_err(&rpath))?;
            rp.stake_rpl(&mut world.ledger, node, amount, start)
                .map_err(setup_err(&rpath))?;
        }
        let n = o.validators.unwrap_or(0);
        if n > 0 {
            let vpath = format!("{opath}.validators");
            let wei = kind.bond_wei().mul_c(U256::from(n)).map_err(setup_err(&vpath))?;
            world.ledger.mint(node, eth_id, wei).map_err(setup_err(&vpath))?;
            rp.node_deposit(&mut world.ledger, node, n, start)
                .map_err(setup_err(&vpath))?;
            user_needed = user_needed
                .add_c(kind.user_wei().mul_c(U256::from(n)).map_err(setup_err(&vpath))?)
                .map_err(setup_err(&vpath))?;
        }
    }
    let ipath = format!("{path}.initial_pooled");
    let initial = match &cfg.initial_pooled {
        Some(s) => amount_of(&world.ledger, s, &["ETH"], &ipath)?,
        None => U256::ZERO,
    };
    if initial > U256::ZERO || user_needed > U256::ZERO {
        // Genesis depositors fund the operators' validators (plus the deposit fee) and whatever
        // more `initial_pooled` asks for.
        let gross =
            stake_math::mul_div_up(user_needed, WAD, WAD - params.deposit_fee_wad).map_err(setup_err(&ipath))?;
        let amount = initial.max(gross);
        let genesis = world.ledger.account(&format!("{sym}:genesis"));
        world.ledger.mint(genesis, eth_id, amount).map_err(setup_err(&ipath))?;
        let saved_cap = rp.params.max_deposit_pool_wei;
        rp.params.max_deposit_pool_wei = amount.max(saved_cap);
        rp.deposit(&mut world.ledger, genesis, amount, start)
            .map_err(setup_err(&ipath))?;
        rp.params.max_deposit_pool_wei = saved_cap;
        loop {
            let plan = rp.deposit_plan();
            if plan.is_empty() {
                break;
            }
            rp.on_deposited(&mut world.ledger, &plan, start)
                .map_err(setup_err(&ipath))?;
            let (staging, creds) = (rp.staging_account(), rp.withdrawal_account());
            genesis_validators(world, staging, &plan, creds, creds, perf, &ipath)?;
        }
        let reports: Vec<NodeBalance> = rp
            .nodes
            .values()
            .filter(|n| n.validators > 0)
            .map(|n| NodeBalance {
                node: n.account,
                validators: n.validators,
                balance_wei: world.eth.summary_by_operator(&n.name).balance_wei,
            })
            .collect();
        rp.report_balances(&world.ledger, &reports, start)
            .map_err(setup_err(&ipath))?;
    }
    let start_rate_wad = rp.rate_wad().map_err(setup_err(path))?;
    Ok(LstEntry {
        symbol: sym.to_string(),
        model: LstModel::RocketPool(Box::new(rp)),
        start_rate_wad,
        start_time: start,
        track: BTreeMap::new(),
    })
}

fn build_exchange_rate(
    world: &mut World,
    sym: &str,
    cfg: &LstCfg,
    path: &str,
    start: u64,
    perf: u64,
) -> Result<LstEntry, ScenarioError> {
    for (k, v) in [
        ("staking_limit", &cfg.staking_limit),
        ("deposit_fee", &cfg.deposit_fee),
        ("deposit_pool_cap", &cfg.deposit_pool_cap),
        ("vault_symbol", &cfg.vault_symbol),
    ] {
        if v.is_some() {
            return Err(err(format!("{path}.{k}"), "not a parameter of the exchange_rate model"));
        }
    }
    let mut params = ExchangeRateParams {
        symbol: sym.to_string(),
        ..ExchangeRateParams::cbeth()
    };
    if let Some(f) = &cfg.fee {
        let fee = parse_wad_fraction(f).map_err(|e| err(format!("{path}.fee"), e))?;
        if fee > WAD {
            return Err(err(format!("{path}.fee"), "must be at most 100%"));
        }
        params.commission_wad = fee;
    }
    match cfg.operators.as_slice() {
        [] => {}
        [o] => {
            if o.module.is_some() || o.bond.is_some() || o.rpl.is_some() || o.validators.is_some() {
                return Err(err(
                    format!("{path}.operators[0]"),
                    "exchange_rate operators take only `name`",
                ));
            }
            params.operator = o.name.clone();
        }
        _ => {
            return Err(err(
                format!("{path}.operators"),
                "the exchange_rate model has one (custodial) operator",
            ))
        }
    }
    let mut x = ExchangeRateLst::new(&mut world.ledger, params.clone()).map_err(setup_err(path))?;
    let eth_id = world.eth_asset;
    if let Some(s) = &cfg.initial_pooled {
        let ipath = format!("{path}.initial_pooled");
        let amount = amount_of(&world.ledger, s, &["ETH"], &ipath)?;
        let genesis = world.ledger.account(&format!("{sym}:genesis"));
        world.ledger.mint(genesis, eth_id, amount).map_err(setup_err(&ipath))?;
        x.deposit(&mut world.ledger, genesis, amount, start)
            .map_err(setup_err(&ipath))?;
        let plan = x.deposit_plan();
        if !plan.is_empty() {
            x.on_deposited(&mut world.ledger, &plan, start)
                .map_err(setup_err(&ipath))?;
            let (staging, creds) = (x.staging_account(), x.withdrawal_account());
            genesis_validators(world, staging, &plan, creds, creds, perf, &ipath)?;
        }
    }
    let mut entry = LstEntry {
        symbol: sym.to_string(),
        model: LstModel::ExchangeRate(Box::new(x)),
        start_rate_wad: WAD,
        start_time: start,
        track: BTreeMap::new(),
    };
    if cfg.initial_pooled.is_some() {
        entry
            .oracle_report(&mut world.ledger, &world.eth, start)
            .map_err(|e| err(path, format!("genesis report failed: {e}")))?;
    }
    entry.start_rate_wad = entry.model.rate_wad().map_err(|e| err(path, e.to_string()))?;
    Ok(entry)
}

/// An account a transaction names must exist when the run starts (declared in `[[accounts]]`, or
/// an operator's; a role such as a Symbiotic vault's resolver may send too): a misspelt name is an error at its line, with the closest known name, rather
/// than a transfer to nobody or an "insufficient balance" at run time.
fn known_account(world: &World, name: &str, path: &str) -> Result<(), ScenarioError> {
    if world.ledger.find_account(name).is_ok() {
        return Ok(());
    }
    let users = world.ledger.account_names().filter(|n| !n.contains(':'));
    Err(err(
        path,
        format!(
            "unknown account `{}`{}",
            crate::amount::clip(name),
            did_you_mean(name, users)
        ),
    ))
}

/// An operator a transaction or event names must run validators, be a restaking operator (an
/// EigenLayer/Symbiotic/Jito operator, a Babylon finality provider), or be an account that may
/// run validators of its own later (an EigenPod owner restaking natively).
fn known_operator(world: &World, scn: &Scenario, name: &str, path: &str) -> Result<(), ScenarioError> {
    let r = &world.restaking;
    let symbiotic = scn.restaking.symbiotic.iter().flat_map(|s| &s.vaults);
    let names = || {
        let symbiotic = symbiotic.clone().flat_map(|v| {
            v.operators
                .iter()
                .map(|o| o.operator.as_str())
                .chain(v.operator.as_deref())
        });
        world
            .eth
            .cohorts()
            .iter()
            .map(|c| c.operator.as_str())
            .chain(r.operators.iter().map(String::as_str))
            .chain(r.babylon.iter().flat_map(|b| b.providers.keys().map(String::as_str)))
            .chain(r.jito.iter().flat_map(|j| j.operators.iter().map(String::as_str)))
            .chain(symbiotic)
    };
    if names().any(|n| n == name) || world.ledger.find_account(name).is_ok() {
        return Ok(());
    }
    Err(err(
        path,
        format!(
            "unknown operator `{}`{}",
            crate::amount::clip(name),
            did_you_mean(name, names())
        ),
    ))
}

/// ` (did you mean `x`?)` for the closest candidate within a few edits, else nothing.
pub(crate) fn did_you_mean<'a>(name: &str, candidates: impl Iterator<Item = &'a str>) -> String {
    let limit = (name.chars().count() / 3).max(2);
    let best = candidates
        .filter(|c| *c != name)
        .map(|c| (edit_distance(name, c), c))
        .filter(|(d, _)| *d <= limit)
        .min();
    match best {
        Some((_, c)) => format!(" (did you mean `{c}`?)"),
        None => String::new(),
    }
}

/// Levenshtein distance in characters (short names only: inputs are clipped to 64 characters).
fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().take(64).collect();
    let b: Vec<char> = b.chars().take(64).collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.iter().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            let sub = prev[j] + usize::from(ca != cb);
            cur[j + 1] = sub.min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

/// The most times one `[[actions]]` entry may repeat (as many as the most steps a run may have).
const MAX_REPEATS: u64 = 1_000_000;

fn build_schedule(scn: &Scenario, world: &World, start: u64, end: u64) -> Result<Vec<Scheduled>, ScenarioError> {
    let ledger = &world.ledger;
    let mut out = Vec::new();
    let mut seq = 0usize;
    let lst_of = |path: &str, lst: &Option<String>| -> Result<String, ScenarioError> {
        let l = lst
            .clone()
            .ok_or_else(|| err(format!("{path}.lst"), "which LST? (e.g. lst = \"stETH\")"))?;
        world.lst(&l).map_err(|e| err(format!("{path}.lst"), e.to_string()))?;
        Ok(l)
    };
    for (i, a) in scn.actions.iter().enumerate() {
        let path = format!("actions[{i}]");
        let at = parse_at(&a.at, start).map_err(|e| err(format!("{path}.at"), e))?;
        if at > end {
            return Err(err(format!("{path}.at"), "is after the horizon"));
        }
        if a.account.is_empty() || a.account.contains(':') || a.account == SYSTEM {
            return Err(err(
                format!("{path}.account"),
                format!("`{}` is not a user account", a.account),
            ));
        }
        let is_role = scn
            .restaking
            .symbiotic
            .iter()
            .flat_map(|s| &s.vaults)
            .any(|v| v.resolver.as_deref() == Some(a.account.as_str()));
        if !is_role {
            known_account(world, &a.account, &format!("{path}.account"))?;
        }
        if let Some(to) = &a.to {
            known_account(world, to, &format!("{path}.to"))?;
        }
        if let Some(op) = &a.operator {
            known_operator(world, scn, op, &format!("{path}.operator"))?;
        }
        let amount_path = format!("{path}.amount");
        let need_amount = |expect: &[&str]| -> Result<(U256, Option<String>), ScenarioError> {
            let s = a.amount.as_deref().ok_or_else(|| err(&amount_path, "missing amount"))?;
            if s.trim() == "all" {
                return Ok((U256::ZERO, Some(expect[0].to_string())));
            }
            let v = amount_of(ledger, s, expect, &amount_path)?;
            if v == U256::ZERO {
                return Err(err(&amount_path, "must be positive"));
            }
            Ok((v, None))
        };
        let (action, all_of) = match a.op.as_str() {
            _ if a.lrt.is_some() => {
                crate::lrt::schedule_action(a, &path, world).unwrap_or_else(|| Err(err(&path, "unreachable")))?
            }
            "underwrite" | "buy_cover" | "vault_deposit" | "vault_withdraw" | "vault_claim" => {
                crate::products::schedule_action(a, &path).unwrap_or_else(|| Err(err(&path, "unreachable")))?
            }
            "stake" => {
                let lst = lst_of(&path, &a.lst)?;
                let (amount, all) = need_amount(&["ETH"])?;
                (Action::Stake { lst, amount }, all)
            }
            "wrap" => {
                let lst = lst_of(&path, &a.lst)?;
                let (amount, all) = need_amount(&[lst.as_str()])?;
                (Action::Wrap { lst, amount }, all)
            }
            "unwrap" => {
                let lst = lst_of(&path, &a.lst)?;
                let w = format!("w{lst}");
                let (amount, all) = need_amount(&[w.as_str()])?;
                (Action::Unwrap { lst, amount }, all)
            }
            "request_withdrawal" => {
                let lst = lst_of(&path, &a.lst)?;
                let (amount, all) = need_amount(&[lst.as_str()])?;
                (Action::RequestWithdrawal { lst, amount }, all)
            }
            "burn" => {
                let lst = lst_of(&path, &a.lst)?;
                let (amount, all) = need_amount(&[lst.as_str()])?;
                (Action::Burn { lst, amount }, all)
            }
            "claim" => (
                Action::Claim {
                    lst: lst_of(&path, &a.lst)?,
                    request_id: None,
                },
                None,
            ),
            _ if crate::restaking::schedule_action(a, &path, world, start).is_some() => (
                crate::restaking::schedule_action(a, &path, world, start)
                    .unwrap_or_else(|| Err(err(&path, "unreachable")))?,
                None,
            ),
            _ if crate::markets::schedule_action(a, &path, world, start).is_some() => (
                crate::markets::schedule_action(a, &path, world, start)
                    .unwrap_or_else(|| Err(err(&path, "unreachable")))?,
                None,
            ),
            "transfer" => {
                let asset = a
                    .asset
                    .clone()
                    .ok_or_else(|| err(format!("{path}.asset"), "which asset?"))?;
                ledger
                    .asset(&asset)
                    .map_err(|e| err(format!("{path}.asset"), e.to_string()))?;
                let to = a.to.clone().ok_or_else(|| err(format!("{path}.to"), "to whom?"))?;
                let (amount, all) = need_amount(&[asset.as_str()])?;
                (Action::Transfer { asset, to, amount }, all)
            }
            other => {
                return Err(err(
                    format!("{path}.do"),
                    format!(
                        "unknown action `{other}` (stake, wrap, unwrap, request_withdrawal, claim, burn, transfer)"
                    ),
                ))
            }
        };
        let every = match &a.every {
            Some(e) => Some(parse_duration(e).map_err(|x| err(format!("{path}.every"), x))?.max(1)),
            None => None,
        };
        if a.times.is_some() && every.is_none() {
            return Err(err(format!("{path}.times"), "`times` needs `every`"));
        }
        if a.times == Some(0) {
            return Err(err(format!("{path}.times"), "must be positive"));
        }
        if let Some(e) = every {
            let repeats = a.times.unwrap_or(u64::MAX).min((end - at) / e + 1);
            if repeats > MAX_REPEATS {
                return Err(err(
                    format!("{path}.every"),
                    format!("repeats {repeats} times (max {MAX_REPEATS}; set `times` or a longer `every`)"),
                ));
            }
        }
        let mut t = at;
        let mut n = 0u64;
        loop {
            out.push(Scheduled {
                at: t,
                seq,
                sender: a.account.clone(),
                action: action.clone(),
                all_of: all_of.clone(),
            });
            seq += 1;
            n += 1;
            if a.times.is_some_and(|k| n >= k) {
                break;
            }
            match every {
                Some(e) if t.checked_add(e).is_some_and(|next| next <= end) => t += e,
                _ => break,
            }
        }
    }
    for (i, e) in scn.events.iter().enumerate() {
        let path = format!("events[{i}]");
        let at = parse_at(&e.at, start).map_err(|x| err(format!("{path}.at"), x))?;
        if at > end {
            return Err(err(format!("{path}.at"), "is after the horizon"));
        }
        if let Some(acct) = &e.account {
            known_account(world, acct, &format!("{path}.account"))?;
        }
        if let Some(op) = &e.operator {
            known_operator(world, scn, op, &format!("{path}.operator"))?;
        }
        let (sender, action, all_of) = match e.kind.as_str() {
            "slash_validators" => {
                let operator = e
                    .operator
                    .clone()
                    .ok_or_else(|| err(format!("{path}.operator"), "which operator?"))?;
                let count = e
                    .validators
                    .ok_or_else(|| err(format!("{path}.validators"), "how many validators?"))?;
                if count == 0 {
                    return Err(err(format!("{path}.validators"), "must be positive"));
                }
                (SYSTEM.to_string(), Action::SlashValidators { operator, count }, None)
            }
            "withdrawal_surge" => {
                let lst = lst_of(&path, &e.lst)?;
                let account = e
                    .account
                    .clone()
                    .ok_or_else(|| err(format!("{path}.account"), "whose withdrawal?"))?;
                let s = e
                    .amount
                    .as_deref()
                    .ok_or_else(|| err(format!("{path}.amount"), "missing amount"))?;
                if s.trim() == "all" {
                    (
                        account,
                        Action::RequestWithdrawal {
                            lst: lst.clone(),
                            amount: U256::ZERO,
                        },
                        Some(lst),
                    )
                } else {
                    let amount = amount_of(ledger, s, &[lst.as_str()], &format!("{path}.amount"))?;
                    (account, Action::RequestWithdrawal { lst, amount }, None)
                }
            }
            "finality_loss" => {
                let d = e
                    .duration
                    .as_deref()
                    .ok_or_else(|| err(format!("{path}.duration"), "how long? (e.g. \"2d\")"))?;
                let secs = parse_duration(d).map_err(|x| err(format!("{path}.duration"), x))?;
                (
                    SYSTEM.to_string(),
                    Action::FinalityLoss {
                        epochs: secs.div_ceil(EPOCH),
                    },
                    None,
                )
            }
            "el_reward_apr" => {
                let v = e
                    .value
                    .as_deref()
                    .ok_or_else(|| err(format!("{path}.value"), "the new APR, e.g. \"1%\""))?;
                (
                    SYSTEM.to_string(),
                    Action::SetElRewardApr {
                        apr_ppm: ppm(v, &format!("{path}.value"))?,
                    },
                    None,
                )
            }
            _ if crate::restaking::schedule_event(e, &path, world, start).is_some() => {
                let (s, a) = crate::restaking::schedule_event(e, &path, world, start)
                    .unwrap_or_else(|| Err(err(&path, "unreachable")))?;
                (s, a, None)
            }
            _ if crate::markets::schedule_event(e, &path, world, start).is_some() => {
                let (s, a) = crate::markets::schedule_event(e, &path, world, start)
                    .unwrap_or_else(|| Err(err(&path, "unreachable")))?;
                (s, a, None)
            }
            other => {
                return Err(err(
                    format!("{path}.kind"),
                    format!(
                        "unknown event `{other}` (slash_validators, withdrawal_surge, finality_loss, el_reward_apr)"
                    ),
                ))
            }
        };
        out.push(Scheduled {
            at,
            seq,
            sender,
            action,
            all_of,
        });
        seq += 1;
    }
    out.sort_by_key(|s| (s.at, s.seq));
    Ok(out)
}
