//! Babylon BTC staking in the world (SPEC §5.4).
//!
//! `[restaking.babylon]` declares the BTC asset (an external asset, 8 decimals), the secured
//! chains' reward token, the timelock, the unbonding delay, the slashing rate and the finality
//! providers; `stakers` lock BTC at the start. A service with `protocol = "babylon"` is a chain
//! secured by the providers it lists.
//!
//! - **Rewards**: the day's budget (in the reward token) is split over the providers by voting
//!   power (`⌊R·vp/ΣVP⌋`) and paid with `distribute_rewards` (commission to the provider, the rest
//!   through its reward index); stakers claim with `do = "babylon_claim_rewards"`.
//! - **Faults**: the provider double-signed: `slash_provider` burns `⌈pool·rate⌉` of its
//!   delegators' BTC and jails it for good.
//! - Every frame expired timelocks leave the active set.

use super::funds::{account_name, acquire};
use super::{err, guarded_ok, reject, setup_err, RestakingEvent};
use crate::amount::{parse_bps, parse_wad_fraction};
use crate::error::{proto, EngineError};
use crate::event::Event;
use crate::scenario::ScenarioError;
use crate::time::parse_duration;
use crate::world::World;
use serde::Deserialize;
use stake_ledger::{AccountId, AssetKind, Ledger};
use stake_math::{mul_div_down, U256, WAD};
use stake_restaking::babylon::{Babylon, BabylonEvent, BabylonParams, DelegationStatus};
use std::collections::BTreeMap;

/// `[restaking.babylon]`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BabylonCfg {
    /// BTC asset symbol (default `BTC`, declared in `[[restaking.assets]]`).
    pub btc: Option<String>,
    /// Reward token of the secured chains (default: the BTC asset).
    pub reward_token: Option<String>,
    /// Staking timelock of new delegations (default `150d`).
    pub timelock: Option<String>,
    /// Minimum timelock (default `1d`).
    pub min_timelock: Option<String>,
    /// Maximum timelock (default `1000d`).
    pub max_timelock: Option<String>,
    /// Unbonding delay (default `7d`, 1,008 BTC blocks).
    pub unbonding: Option<String>,
    /// Fraction of a slashed provider's delegated BTC burned (default `10%`).
    pub slashing_rate: Option<String>,
    /// Minimum stake (default `0.0005 BTC`).
    pub min_stake: Option<String>,
    /// Finality providers.
    #[serde(default)]
    pub providers: Vec<ProviderCfg>,
    /// Genesis delegations.
    #[serde(default)]
    pub stakers: Vec<StakerCfg>,
}

/// A finality provider: `{ name = "fp-1", commission = "5%" }` (commission paid to account `name`).
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProviderCfg {
    /// Name.
    pub name: String,
    /// Commission on rewards (default 0).
    pub commission: Option<String>,
}

/// A genesis delegation: `{ account = "hodler", provider = "fp-1", amount = "100 BTC" }`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StakerCfg {
    /// Staker account (the BTC is minted to it, then locked).
    pub account: String,
    /// Provider.
    pub provider: String,
    /// BTC.
    pub amount: String,
}

fn ev(v: Vec<BabylonEvent>) -> impl Iterator<Item = Event> {
    v.into_iter().map(|e| Event::Restaking(RestakingEvent::Babylon(e)))
}

fn dur(s: &Option<String>, default: &str, path: &str) -> Result<u64, ScenarioError> {
    parse_duration(s.as_deref().unwrap_or(default)).map_err(|e| err(path, e))
}

fn plain_asset(world: &World, sym: &str, path: &str) -> Result<stake_ledger::AssetId, ScenarioError> {
    let id = world.ledger.asset(sym).map_err(|_| {
        err(
            path,
            format!("unknown asset `{sym}` (declare it in [[restaking.assets]])"),
        )
    })?;
    let kind = world.ledger.asset_info(id).map_err(setup_err(path))?.kind;
    if kind != AssetKind::Plain {
        return Err(err(path, format!("{sym} is not a plain token")));
    }
    Ok(id)
}

/// Builds Babylon: parameters, providers and genesis delegations.
pub(super) fn build(world: &mut World, cfg: &BabylonCfg, start: u64) -> Result<(), ScenarioError> {
    let p = "restaking.babylon";
    let btc_sym = cfg.btc.clone().unwrap_or_else(|| "BTC".into());
    let btc = plain_asset(world, &btc_sym, &format!("{p}.btc"))?;
    let reward_sym = cfg.reward_token.clone().unwrap_or_else(|| btc_sym.clone());
    let reward = plain_asset(world, &reward_sym, &format!("{p}.reward_token"))?;
    let rate = parse_wad_fraction(cfg.slashing_rate.as_deref().unwrap_or("10%"))
        .map_err(|e| err(format!("{p}.slashing_rate"), e))?;
    if rate == U256::ZERO || rate > WAD {
        return Err(err(format!("{p}.slashing_rate"), "must be in (0, 100%]"));
    }
    let min_stake = match &cfg.min_stake {
        Some(s) => super::funds::amount_of(world, s, &btc_sym, &format!("{p}.min_stake"))?,
        None => U256::from(50_000u32),
    };
    let params = BabylonParams {
        btc,
        reward_asset: reward,
        unbonding_secs: dur(&cfg.unbonding, "7d", &format!("{p}.unbonding"))?,
        min_staking_secs: dur(&cfg.min_timelock, "1d", &format!("{p}.min_timelock"))?,
        max_staking_secs: dur(&cfg.max_timelock, "1000d", &format!("{p}.max_timelock"))?,
        slashing_rate_wad: rate,
        min_stake,
    };
    let timelock = dur(&cfg.timelock, "150d", &format!("{p}.timelock"))?;
    if timelock < params.min_staking_secs || timelock > params.max_staking_secs {
        return Err(err(format!("{p}.timelock"), "outside [min_timelock, max_timelock]"));
    }
    let mut b = Babylon::new(&mut world.ledger, params).map_err(setup_err(p))?;
    for (i, pr) in cfg.providers.iter().enumerate() {
        let path = format!("{p}.providers[{i}]");
        account_name(&pr.name, &format!("{path}.name"))?;
        let bps = match &pr.commission {
            Some(c) => {
                let v = parse_bps(c).map_err(|e| err(format!("{path}.commission"), e))?;
                u16::try_from(v).map_err(|_| err(format!("{path}.commission"), "at most 100%"))?
            }
            None => 0,
        };
        b.register_provider(&mut world.ledger, &pr.name, bps, &pr.name)
            .map_err(setup_err(&format!("{path}.name")))?;
    }
    world.restaking.babylon_timelock = timelock;
    for (i, s) in cfg.stakers.iter().enumerate() {
        let path = format!("{p}.stakers[{i}]");
        if !b.providers.contains_key(&s.provider) {
            return Err(err(
                format!("{path}.provider"),
                format!("`{}` is not a finality provider", s.provider),
            ));
        }
        let got = acquire(world, &s.account, &btc_sym, &s.amount, &format!("{path}.amount"), start)?;
        let acct = world.ledger.account(&s.account);
        b.delegate(&mut world.ledger, acct, &s.provider, got, timelock, start)
            .map_err(setup_err(&format!("{path}.amount")))?;
    }
    world.restaking.babylon = Some(b);
    Ok(())
}

fn parts(world: &mut World) -> Result<(&mut Babylon, &mut Ledger), EngineError> {
    let b = world
        .restaking
        .babylon
        .as_mut()
        .ok_or_else(|| reject(9032, "the scenario has no [restaking.babylon]".into()))?;
    Ok((b, &mut world.ledger))
}

/// Locks BTC (None = the whole balance) with the scenario's timelock and delegates it.
pub(super) fn stake(
    world: &mut World,
    sender: &str,
    provider: &str,
    amount: Option<U256>,
) -> Result<Vec<Event>, EngineError> {
    let now = world.now;
    let timelock = world.restaking.babylon_timelock;
    let acct = world.ledger.account(sender);
    let (b, ledger) = parts(world)?;
    let amount = amount.unwrap_or_else(|| ledger.balance(acct, b.params.btc));
    Ok(ev(b
        .delegate(ledger, acct, provider, amount, timelock, now)
        .map_err(proto)?)
    .collect())
}

fn mine(b: &Babylon, acct: AccountId, f: impl Fn(u64, &stake_restaking::babylon::BtcDelegation) -> bool) -> Vec<u64> {
    b.delegations
        .iter()
        .filter(|(id, d)| d.staker == acct && f(**id, d))
        .map(|(id, _)| *id)
        .collect()
}

/// Starts unbonding every active delegation of the sender (to `provider` if given).
pub(super) fn unbond(world: &mut World, sender: &str, provider: Option<&str>) -> Result<Vec<Event>, EngineError> {
    let now = world.now;
    let acct = world.ledger.account(sender);
    let (b, _) = parts(world)?;
    let ids = mine(b, acct, |_, d| {
        d.status == DelegationStatus::Active && provider.is_none_or(|p| p == d.provider)
    });
    if ids.is_empty() {
        return Err(reject(9033, format!("{sender} has no active BTC delegation to unbond")));
    }
    let mut out = Vec::new();
    for id in ids {
        out.extend(ev(b.unbond(id, acct, now).map_err(proto)?));
    }
    Ok(out)
}

/// Withdraws every unlocked delegation of the sender.
pub(super) fn withdraw(world: &mut World, sender: &str) -> Result<Vec<Event>, EngineError> {
    let now = world.now;
    let acct = world.ledger.account(sender);
    let (b, ledger) = parts(world)?;
    let ids = mine(b, acct, |_, d| match d.status {
        DelegationStatus::Withdrawn => false,
        DelegationStatus::Unbonding { until } => until <= now,
        DelegationStatus::Active | DelegationStatus::Expired => d.end <= now,
    });
    if ids.is_empty() {
        return Err(reject(
            9033,
            format!("{sender} has no unlocked BTC delegation to withdraw"),
        ));
    }
    let mut out = Vec::new();
    for id in ids {
        out.extend(ev(b.withdraw(ledger, id, acct, now).map_err(proto)?));
    }
    Ok(out)
}

/// Claims the rewards of every delegation of the sender.
pub(super) fn claim_rewards(world: &mut World, sender: &str) -> Result<Vec<Event>, EngineError> {
    let acct = world.ledger.account(sender);
    let (b, ledger) = parts(world)?;
    let ids = mine(b, acct, |id, _| b.pending_rewards(id).unwrap_or_default() > U256::ZERO);
    if ids.is_empty() {
        return Err(reject(9033, format!("{sender} has no Babylon rewards to claim")));
    }
    let mut out = Vec::new();
    for id in ids {
        out.extend(ev(b.claim_rewards(ledger, id, acct).map_err(proto)?));
    }
    Ok(out)
}

/// A fault (double sign) of a finality provider.
pub(super) fn fault(world: &mut World, service: &str, provider: &str) -> Result<Vec<Event>, EngineError> {
    let (b, ledger) = parts(world)?;
    let e = b.slash_provider(ledger, provider).map_err(proto)?;
    let burned = e
        .iter()
        .map(|x| match x {
            BabylonEvent::Slash { burned, .. } => *burned,
            _ => U256::ZERO,
        })
        .fold(U256::ZERO, |a, c| a.saturating_add(c));
    let mut out: Vec<Event> = ev(e).collect();
    out.extend(super::svc_ev(
        world
            .restaking
            .services
            .record_slash(service, provider, burned)
            .map_err(proto)?,
    ));
    Ok(out)
}

/// Frame work: expired timelocks leave the active set.
pub(super) fn on_frame(world: &mut World, t: u64, events: &mut Vec<Event>) {
    if world.restaking.babylon.is_none() {
        return;
    }
    guarded_ok(world, t, "babylon expirations".into(), events, |w| {
        let (b, _) = parts(w)?;
        Ok(ev(b.process_expirations(t).map_err(proto)?).collect())
    });
}

/// Voting power of each provider.
pub(super) fn pairs(world: &World, providers: &[String]) -> Vec<(String, U256)> {
    let Some(b) = &world.restaking.babylon else {
        return Vec::new();
    };
    providers
        .iter()
        .map(|p| (p.clone(), b.voting_power(p).unwrap_or_default()))
        .collect()
}

/// Pays `total` of the reward token from the treasury to the providers by voting power.
pub(super) fn distribute(
    world: &mut World,
    providers: &[String],
    from: AccountId,
    total: U256,
) -> Result<(BTreeMap<String, U256>, Vec<Event>), EngineError> {
    let ps = pairs(world, providers);
    let sum = ps.iter().fold(U256::ZERO, |a, p| a.saturating_add(p.1));
    let mut paid = BTreeMap::new();
    let mut events = Vec::new();
    if sum == U256::ZERO || total == U256::ZERO {
        return Ok((paid, events));
    }
    let (b, ledger) = parts(world)?;
    for (p, vp) in ps {
        let part = mul_div_down(total, vp, sum).map_err(proto)?;
        if part == U256::ZERO {
            continue;
        }
        events.extend(ev(b.distribute_rewards(ledger, from, &p, part).map_err(proto)?));
        paid.insert(p, part);
    }
    Ok((paid, events))
}

/// (stake, voting power) of a provider.
pub(super) fn provider_values(world: &World, p: &str) -> (U256, U256) {
    let Some(b) = &world.restaking.babylon else {
        return (U256::ZERO, U256::ZERO);
    };
    let pool = b.providers.get(p).map(|x| x.pool_btc).unwrap_or_default();
    (pool, b.voting_power(p).unwrap_or_default())
}
