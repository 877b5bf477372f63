//! The world: one ledger, the Ethereum L0 and the L1 liquid staking tokens, composed.
//!
//! Protocols never call each other; the world moves stake between them:
//! - **deposits**: an LST's `deposit_plan` → its `on_deposited` accounting → `Ethereum::deposit`
//!   moves the ETH from the LST's buffer/staging account into the beacon account, where it waits
//!   in the activation queue;
//! - **oracle reports** (once per frame, 225 epochs = 1 day): L0 summaries by withdrawal
//!   credentials and by operator become the LST's report;
//! - **exits**: an LST's `validators_to_exit` → `Ethereum::request_exits` → `on_exits_requested`;
//!   the exit churn and the sweep decide when ETH arrives at the withdrawal vault.
//!
//! A periodic hook that a protocol rejects (an oracle report failing a sanity check, say) does not
//! stop time: it is recorded in [`World::hook_rejections`] and the frame goes on, as on mainnet.

use crate::action::{Action, Outcome, Tx, SYSTEM};
use crate::error::{proto, EngineError};
use crate::event::Event;
use crate::lst::LstEntry;
use serde::Serialize;
use stake_l0::{Ethereum, FinalityLoss};
use stake_ledger::{hash_serde, AccountId, AssetId, Ledger, Reject, Rejection, StateHash};
use stake_math::U256;

/// One ETH in wei.
pub const ETHER: U256 = U256::new(1_000_000_000_000_000_000);
/// One validator's deposit.
pub const DEPOSIT: U256 = U256::new(32_000_000_000_000_000_000);

/// A rejected periodic hook.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct HookRejection {
    /// When.
    pub time: u64,
    /// Which hook (`stETH oracle report`, …).
    pub hook: String,
    /// Why.
    pub rejection: Rejection,
}

/// The world.
#[derive(Clone, Debug)]
pub struct World {
    /// Balances of everything.
    pub ledger: Ledger,
    /// Current time (Unix seconds).
    pub now: u64,
    /// Ethereum.
    pub eth: Ethereum,
    /// Liquid staking tokens, in declaration order.
    pub lsts: Vec<LstEntry>,
    /// The ETH asset.
    pub eth_asset: AssetId,
    /// Length of an oracle frame (seconds).
    pub frame_seconds: u64,
    /// Time of the next frame hook.
    pub next_frame: u64,
    /// Rejected periodic hooks.
    pub hook_rejections: Vec<HookRejection>,
    /// Validators slashed by events.
    pub slashed_validators: u64,
    /// L2 restaking.
    pub restaking: crate::restaking::RestakingWorld,
    /// L4 markets.
    pub markets: crate::markets::MarketWorld,
    /// L3 liquid restaking tokens.
    pub lrt: crate::lrt::LrtWorld,
    /// L5 products (insurance funds).
    pub products: crate::products::ProductsWorld,
}

impl StateHash for World {
    fn hash_state(&self, h: &mut blake3::Hasher) {
        h.update(&self.now.to_le_bytes());
        h.update(&self.next_frame.to_le_bytes());
        self.ledger.hash_state(h);
        hash_serde(h, &self.eth);
        for l in &self.lsts {
            h.update(l.symbol.as_bytes());
            l.model.hash_state(h);
            hash_serde(h, &l.track);
        }
        self.restaking.hash_state(h);
        self.markets.hash_state(h);
        self.lrt.hash_state(h);
        self.products.hash_state(h);
    }
}

impl World {
    /// An empty world at `start` with Ethereum and the ETH asset.
    pub fn new(start: u64, eth_params: stake_l0::EthParams) -> Result<World, EngineError> {
        let mut ledger = Ledger::new();
        let eth_asset = ledger
            .register_asset("ETH", 18, "native", stake_ledger::AssetKind::Plain)
            .map_err(proto)?;
        let eth = Ethereum::new(eth_params, &mut ledger, start).map_err(proto)?;
        Ok(World {
            ledger,
            now: start,
            eth,
            lsts: Vec::new(),
            eth_asset,
            frame_seconds: 225 * 384,
            next_frame: start,
            hook_rejections: Vec::new(),
            slashed_validators: 0,
            restaking: Default::default(),
            markets: Default::default(),
            lrt: Default::default(),
            products: Default::default(),
        })
    }

    /// Reseeds every random process of the world — service faults and slash draws, the ETH/USD
    /// price path — as if it had been built with `seed`. A Monte Carlo path is the built world,
    /// cloned and reseeded with its own seed; the structure (accounts, positions, parameters) is
    /// shared.
    pub fn reseed(&mut self, seed: u64) {
        self.restaking.seed = seed;
        self.markets.reseed(seed);
    }

    /// BLAKE3 state hash of the whole world.
    pub fn state_hash(&self) -> [u8; 32] {
        stake_ledger::state_hash(self)
    }

    /// The LST with this symbol.
    pub fn lst(&self, symbol: &str) -> Result<&LstEntry, EngineError> {
        self.lsts
            .iter()
            .find(|l| l.symbol == symbol)
            .ok_or_else(|| EngineError::UnknownLst {
                lst: symbol.to_string(),
            })
    }

    fn lst_index(&self, symbol: &str) -> Result<usize, EngineError> {
        self.lsts
            .iter()
            .position(|l| l.symbol == symbol)
            .ok_or_else(|| EngineError::UnknownLst {
                lst: symbol.to_string(),
            })
    }

    /// Every invariant, in full: ledger conservation (a scan of every account), Ethereum's,
    /// and every protocol's rules including the sums over all holders and positions.
    pub fn check_invariants(&self) -> Result<(), String> {
        self.ledger.check_conservation().map_err(|e| e.to_string())?;
        self.check_protocols(true, None)
    }

    /// Ethereum's rules (when `eth`), every LST's backing, and restaking's and the markets'
    /// rules: in full without `touched`, else their per-transaction subsets.
    fn check_protocols(&self, eth: bool, touched: Option<&stake_ledger::Touched>) -> Result<(), String> {
        if eth {
            self.eth
                .check_invariants(&self.ledger)
                .map_err(|e| format!("ethereum: {e}"))?;
        }
        for l in &self.lsts {
            l.model
                .check_backing(&self.ledger)
                .map_err(|e| format!("{}: {e}", l.symbol))?;
        }
        match touched {
            None => self.restaking.check_invariants(&self.ledger),
            Some(_) => self.restaking.check_backing(&self.ledger),
        }
        .map_err(|e| format!("restaking: {e}"))?;
        // Per transaction only the O(1) backing rules; the sums over open requests, covers and
        // queued withdrawals run in the full check.
        let full = touched.is_none();
        self.lrt
            .check_backing(&self.ledger, self.eth_asset, full)
            .map_err(|e| format!("lrt: {e}"))?;
        self.products
            .check_backing(&self.ledger, self.eth_asset, full)
            .map_err(|e| format!("products: {e}"))?;
        match touched {
            None => self.markets.check_invariants(&self.ledger),
            Some(t) => self.markets.check_touched(&self.ledger, t),
        }
        .map_err(|e| format!("markets: {e}"))
    }

    /// The per-transaction invariant check (SPEC §1.4), on what the writes since the previous
    /// check touched: conservation of every touched asset ([`Ledger::audit`]), each protocol's
    /// backing rules (reserves, vaults, markets — never a scan of holders or positions), the
    /// per-user rules of the touched accounts, and Ethereum's when the beacon account was
    /// touched or `system` says a system action (time, slashing) ran. The sums over every
    /// holder and position run in [`World::check_invariants`], at the runner's full-check
    /// cadence, at the end of a run and after every transaction under `--paranoid`.
    ///
    /// Needs the ledger's write recording on ([`Ledger::set_auditing`]); without it only the
    /// protocol rules are checked.
    pub fn check_touched(&mut self, system: bool) -> Result<(), String> {
        let touched = if self.ledger.is_auditing() {
            self.ledger.audit().map_err(|e| e.to_string())?
        } else {
            stake_ledger::Touched::default()
        };
        let eth = system || touched.has_account(self.eth.beacon_account());
        self.check_protocols(eth, Some(&touched))
    }

    /// [`Self::check_touched`] narrowed by what `tx` can have changed, so that a simple operation
    /// costs what it touched:
    /// - a transfer of ETH between two accounts that hold no protocol's custody (every account a
    ///   protocol's rules read is named `<protocol>:<role>` — `stETH:buffer`, `aave:WETH`,
    ///   `eigenlayer:pod:<owner>`, `<service>:treasury`; user, operator and service names may not
    ///   contain `:`) changes no protocol state and no balance any protocol rule reads: only the
    ///   conservation of ETH over the touched accounts is checked;
    /// - a user operation of one LST (stake, wrap, unwrap, request, claim, burn) changes that
    ///   LST's state, its custody accounts, its tokens and the user's ETH: that LST's backing
    ///   rules are checked (with Ethereum's if the beacon account was touched);
    /// - anything else — system actions, restaking and market operations, transfers of any other
    ///   asset or involving a custody account — gets the whole [`Self::check_touched`].
    pub fn check_after(&mut self, tx: &Tx) -> Result<(), String> {
        enum Scope {
            All,
            Lst(usize),
            Conservation,
        }
        let custody = |name: &str| name.contains(':');
        let scope = match &tx.action {
            Action::Transfer { asset, to, .. }
                if !custody(to) && !custody(&tx.sender) && self.ledger.asset(asset).ok() == Some(self.eth_asset) =>
            {
                Scope::Conservation
            }
            Action::Stake { lst, .. }
            | Action::Wrap { lst, .. }
            | Action::Unwrap { lst, .. }
            | Action::RequestWithdrawal { lst, .. }
            | Action::Claim { lst, .. }
            | Action::Burn { lst, .. }
                if !custody(&tx.sender) =>
            {
                self.lst_index(lst).map_or(Scope::All, Scope::Lst)
            }
            _ => Scope::All,
        };
        match scope {
            Scope::All => self.check_touched(tx.action.is_system()),
            Scope::Conservation => {
                if self.ledger.is_auditing() {
                    self.ledger.audit().map_err(|e| e.to_string())?;
                }
                Ok(())
            }
            Scope::Lst(i) => {
                let touched = if self.ledger.is_auditing() {
                    self.ledger.audit().map_err(|e| e.to_string())?
                } else {
                    stake_ledger::Touched::default()
                };
                if touched.has_account(self.eth.beacon_account()) {
                    self.eth
                        .check_invariants(&self.ledger)
                        .map_err(|e| format!("ethereum: {e}"))?;
                }
                let l = &self.lsts[i];
                l.model
                    .check_backing(&self.ledger)
                    .map_err(|e| format!("{}: {e}", l.symbol))
            }
        }
    }

    /// Applies a transaction atomically: `Applied` with its events, or `Rejected` with the state
    /// hash unchanged.
    pub fn apply(&mut self, tx: &Tx) -> Outcome {
        // AdvanceTime runs many hooks; keep a copy of the (small) protocol states so that a
        // failure half-way restores them exactly. Other actions touch one protocol, which
        // guarantees its own state is unchanged when it rejects.
        let backup = matches!(tx.action, Action::AdvanceTime { .. }).then(|| {
            (
                self.eth.clone(),
                self.lsts.clone(),
                self.now,
                self.next_frame,
                self.hook_rejections.len(),
                self.slashed_validators,
                self.restaking.clone(),
                self.markets.clone(),
                self.lrt.clone(),
                self.products.clone(),
            )
        });
        let cp = self.ledger.checkpoint();
        match self.dispatch(tx) {
            Ok(events) => {
                self.ledger.commit(cp);
                Outcome::Applied { events }
            }
            Err(e) => {
                self.ledger.rollback(cp);
                if let Some((eth, lsts, now, next_frame, hooks, slashed, restaking, markets, lrt, products)) = backup {
                    self.restaking = restaking;
                    self.lrt = lrt;
                    self.products = products;
                    self.markets = markets;
                    self.eth = eth;
                    self.lsts = lsts;
                    self.now = now;
                    self.next_frame = next_frame;
                    self.hook_rejections.truncate(hooks);
                    self.slashed_validators = slashed;
                }
                let mut r = e.rejection();
                r.message = self.name_assets(&r.message);
                Outcome::Rejected(r)
            }
        }
    }

    /// [`Self::apply`] for a transaction an agent or a random process sends from inside a frame
    /// or event hook: a rejection changes nothing, as always, and is recorded as a hook rejection
    /// named `hook` unless its code is `quiet` (an expected refusal such as "nothing to claim").
    /// `Err(true)` when it was recorded, `Err(false)` when it was quiet.
    pub(crate) fn apply_in_hook(
        &mut self,
        sender: &str,
        action: Action,
        hook: impl FnOnce() -> String,
        quiet: Option<u32>,
    ) -> Result<Vec<Event>, bool> {
        match self.apply(&Tx {
            sender: sender.into(),
            action,
        }) {
            Outcome::Applied { events } => Ok(events),
            Outcome::Rejected(r) if quiet == Some(r.code) => Err(false),
            Outcome::Rejected(r) => {
                let time = self.now;
                self.hook_rejections.push(HookRejection {
                    time,
                    hook: hook(),
                    rejection: r,
                });
                Err(true)
            }
        }
    }

    /// Rewrites a protocol message for people: protocol crates know assets by id only, so
    /// `#4` becomes the asset's symbol and a feed key `FeedKey { asset: AssetId(4), denom: Usd }`
    /// becomes `wstETH/USD`. Anything that is not a known asset id is left as it is.
    pub fn name_assets(&self, msg: &str) -> String {
        let symbol = |digits: &str| -> Option<String> {
            let id: u16 = digits.parse().ok()?;
            let info = self.ledger.asset_info(stake_ledger::AssetId(id)).ok()?;
            Some(info.symbol.clone())
        };
        let mut out = String::with_capacity(msg.len());
        let mut rest = msg;
        while !rest.is_empty() {
            if let Some(tail) = rest.strip_prefix("FeedKey { asset: AssetId(") {
                let digits: String = tail.chars().take_while(char::is_ascii_digit).collect();
                let after = &tail[digits.len()..];
                let denom = ["Usd", "Eth"].into_iter().find_map(|d| {
                    after
                        .strip_prefix(&format!("), denom: {d} }}"))
                        .map(|r| (d.to_uppercase(), r))
                });
                if let (Some(sym), Some((d, r))) = (symbol(&digits), denom) {
                    out.push_str(&format!("{sym}/{d}"));
                    rest = r;
                    continue;
                }
            }
            if let Some(tail) = rest.strip_prefix('#') {
                let digits: String = tail.chars().take_while(char::is_ascii_digit).collect();
                if let Some(sym) = (!digits.is_empty()).then(|| symbol(&digits)).flatten() {
                    out.push_str(&sym);
                    rest = &tail[digits.len()..];
                    continue;
                }
            }
            // `N wei` reads as `X ETH (N wei)`: protocol messages name raw base units, people
            // read ether. Only a whole number standing alone (not the tail of a word or id).
            let at_word_start = !out.chars().last().is_some_and(|c| c.is_alphanumeric() || c == '#');
            if at_word_start && rest.starts_with(|c: char| c.is_ascii_digit()) {
                let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
                let after = &rest[digits.len()..];
                let unit_ends = after
                    .strip_prefix(" wei")
                    .filter(|r| !r.starts_with(|c: char| c.is_alphanumeric()));
                if let (Some(r), Ok(v)) = (unit_ends, stake_math::parse_u256(&digits)) {
                    out.push_str(&format!("{} ETH ({digits} wei)", crate::amount::format_units(v, 18)));
                    rest = r;
                    continue;
                }
                out.push_str(&digits);
                rest = after;
                continue;
            }
            let mut chars = rest.chars();
            if let Some(c) = chars.next() {
                out.push(c);
            }
            rest = chars.as_str();
        }
        out
    }

    fn dispatch(&mut self, tx: &Tx) -> Result<Vec<Event>, EngineError> {
        if tx.action.is_system() && tx.sender != SYSTEM {
            return Err(EngineError::NotSystem {
                sender: tx.sender.clone(),
            });
        }
        match &tx.action {
            Action::AdvanceTime { to } => self.advance_to(*to),
            Action::SlashValidators { operator, count } => {
                let ev = self
                    .eth
                    .slash(&mut self.ledger, operator, *count, self.now)
                    .map_err(proto)?;
                self.slashed_validators += count;
                Ok(ev.into_iter().map(Event::Ethereum).collect())
            }
            Action::SetElRewardApr { apr_ppm } => {
                self.eth.set_el_reward_apr_ppm(*apr_ppm);
                Ok(Vec::new())
            }
            Action::FinalityLoss { epochs } => {
                let from = self.eth.current_epoch() + 1;
                let mut windows = self.eth.params().finality_lost.clone();
                windows.push(FinalityLoss {
                    from_epoch: from,
                    to_epoch: from.saturating_add(*epochs),
                });
                self.eth.set_finality_lost(windows);
                Ok(Vec::new())
            }
            Action::Transfer { asset, to, amount } => self.transfer(&tx.sender, asset, to, *amount),
            Action::Restaking(a) => crate::restaking::apply(self, &tx.sender, a),
            Action::Market(a) => crate::markets::apply(self, &tx.sender, a),
            Action::Lrt(a) => crate::lrt::apply(self, &tx.sender, a),
            Action::Product(a) => crate::products::apply(self, &tx.sender, a),
            Action::Stake { lst, amount }
            | Action::Wrap { lst, amount }
            | Action::Unwrap { lst, amount }
            | Action::RequestWithdrawal { lst, amount }
            | Action::Burn { lst, amount } => {
                if *amount == U256::ZERO {
                    return Err(EngineError::ZeroAmount { what: "amount".into() });
                }
                let i = self.lst_index(lst)?;
                let sender = self.ledger.account(&tx.sender);
                let now = self.now;
                self.lsts[i].user_op(&mut self.ledger, sender, &tx.action, now)
            }
            Action::Claim { lst, .. } => {
                let i = self.lst_index(lst)?;
                let sender = self.ledger.account(&tx.sender);
                let now = self.now;
                self.lsts[i].user_op(&mut self.ledger, sender, &tx.action, now)
            }
        }
    }

    fn transfer(&mut self, sender: &str, asset: &str, to: &str, amount: U256) -> Result<Vec<Event>, EngineError> {
        let asset_id = self.ledger.asset(asset).map_err(proto)?;
        let from = self.ledger.account(sender);
        let to_id = self.ledger.account(to);
        // A rebasing token is moved by its issuer (amount → shares).
        if let Some(i) = self
            .lsts
            .iter()
            .position(|l| l.model.rebasing_asset() == Some(asset_id))
        {
            let now = self.now;
            return self.lsts[i].transfer_rebasing(&mut self.ledger, from, to_id, amount, now);
        }
        self.ledger.transfer(from, to_id, asset_id, amount).map_err(proto)?;
        // aTokens or debt tokens moved outside Aave's functions: re-key both accounts in
        // Aave's liquidation index (the per-transaction check compares their entries).
        if let Some(a) = self.markets.aave.as_mut() {
            if a.reserves
                .iter()
                .any(|r| r.a_token == asset_id || r.debt_token == asset_id)
            {
                a.reindex(&self.ledger, &[from, to_id]);
            }
        }
        Ok(vec![Event::Transferred {
            asset: asset.into(),
            from: sender.into(),
            to: to.into(),
            units: amount,
        }])
    }

    /// Moves time to `to`, running the frame hooks (oracle reports, deposits, exits) at each frame
    /// boundary in time order, with Ethereum processing every epoch in between.
    pub fn advance_to(&mut self, to: u64) -> Result<Vec<Event>, EngineError> {
        if to < self.now {
            return Err(EngineError::TimeInPast { now: self.now, to });
        }
        let from = self.now;
        let mut events = Vec::new();
        while self.next_frame <= to {
            let t = self.next_frame;
            let ev = self.eth.advance_to(&mut self.ledger, t).map_err(proto)?;
            events.extend(ev.into_iter().map(Event::Ethereum));
            self.now = t;
            events.extend(self.run_frame(t));
            events.extend(crate::restaking::on_frame(self, t));
            events.extend(crate::lrt::on_frame(self, t));
            events.extend(crate::products::on_frame(self, t));
            events.extend(crate::markets::on_frame(self, t));
            self.next_frame = t.saturating_add(self.frame_seconds);
        }
        let ev = self.eth.advance_to(&mut self.ledger, to).map_err(proto)?;
        events.extend(ev.into_iter().map(Event::Ethereum));
        self.now = to;
        events.push(Event::TimeAdvanced { from, to });
        Ok(events)
    }

    /// The frame hooks at `t`: reports, then deposits, then exits, for each LST.
    fn run_frame(&mut self, t: u64) -> Vec<Event> {
        let mut events = Vec::new();
        for i in 0..self.lsts.len() {
            for (name, step) in [("oracle report", 0u8), ("deposits", 1), ("exits", 2)] {
                // Only the deposit and exit hooks change Ethereum; the report only reads it.
                let eth_backup = (step != 0).then(|| self.eth.clone());
                let lst_backup = self.lsts[i].clone();
                let cp = self.ledger.checkpoint();
                let r = match step {
                    0 => self.lsts[i].oracle_report(&mut self.ledger, &self.eth, t),
                    1 => self.lsts[i].deposit(&mut self.ledger, &mut self.eth, t),
                    _ => self.lsts[i].exits(&mut self.ledger, &mut self.eth, t),
                };
                match r {
                    Ok(ev) => {
                        self.ledger.commit(cp);
                        events.extend(ev);
                    }
                    Err(e) => {
                        self.ledger.rollback(cp);
                        if let Some(eth) = eth_backup {
                            self.eth = eth;
                        }
                        self.lsts[i] = lst_backup;
                        self.hook_rejections.push(HookRejection {
                            time: t,
                            hook: format!("{} {name}", self.lsts[i].symbol),
                            rejection: e.rejection(),
                        });
                    }
                }
            }
        }
        events
    }

    /// An account id by name (created if new).
    pub fn account(&mut self, name: &str) -> AccountId {
        self.ledger.account(name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejection_messages_name_assets_by_symbol() {
        let mut w = World::new(0, stake_l0::EthParams::default()).expect("world");
        let id = w
            .ledger
            .register_asset("wstETH", 18, "lido", stake_ledger::AssetKind::Plain)
            .expect("asset");
        let n = id.0;
        let msg = format!(
            "aave: price of #{n} unavailable: stale price for FeedKey {{ asset: AssetId({n}), denom: Usd }}: age 5 s; #999 and #x stay"
        );
        assert_eq!(
            w.name_assets(&msg),
            "aave: price of wstETH unavailable: stale price for wstETH/USD: age 5 s; #999 and #x stay"
        );
        assert_eq!(w.name_assets("ünïcode # ok #"), "ünïcode # ok #");
        assert_eq!(
            w.name_assets("STAKE_LIMIT: 12500000000000000000 wei offered, limit 7 wei; 3 weird, x1 wei"),
            "STAKE_LIMIT: 12.5 ETH (12500000000000000000 wei) offered, limit 0.000000000000000007 ETH (7 wei); \
             3 weird, x1 wei"
        );
    }
}
