//! Oracles (SPEC §7.1): Chainlink-like price feeds per asset in ETH and USD.
//!
//! A [`Feed`] publishes an answer with an update time; a new answer is published only when the
//! observed value deviates from the last answer by more than `deviation_bps`, or when the
//! heartbeat has elapsed (Chainlink's aggregator rule). Consumers read through
//! [`Oracles::price`] (rejects an answer older than the feed's heartbeat) or
//! [`Oracles::price_max_age`] (a consumer's own bound, e.g. Renzo's 86,460 s).
//!
//! Feed kinds ([`FeedKind`]):
//! * `Fixed` — a constant (ETH/ETH = 1), always fresh;
//! * `ExchangeRate { base }` — protocol rate × the base feed's price, computed at read time
//!   like Aave's CAPO / wstETH adapters; a *market* depeg does not move it;
//! * `Market { pool }` — the AMM / market price, observed by the caller; a depeg moves it;
//! * `PtLinearDiscount { maturity, max_rate }` — `1 − max_rate·time_to_maturity/YEAR`
//!   (floored at 0), exact and computed at read time (Pendle's linear-discount PT oracle);
//! * `PtTwap { maturity }` — PT price from the market's TWAP ln-implied rate,
//!   `1e18·1e18 / exp(ln_rate·time_to_maturity/YEAR)` (Pendle's `getPtToAssetRate`).
//!
//! Scenario controls ([`Control`]): freeze (no new answers), lag by N seconds (serve the answer
//! that was current at `now − N`, from a bounded history), manipulate (override the answer).

use serde::{Deserialize, Serialize};
use stake_ledger::{AssetId, LedgerError, Reject, StateHash};
use stake_math::{logexp, mul_div_down, pow10, signed, Checked, MathError, U256, WAD};
use std::fmt;

/// How many published answers a feed keeps for lagged reads.
pub const HISTORY_LEN: usize = 256;
/// Year length used by the PT feeds (Pendle: 365 days).
pub const ONE_YEAR: u64 = 31_536_000;
/// Renzo's staleness bound for its price feeds (heartbeat 86,400 s + 60 s).
pub const RENZO_MAX_AGE: u64 = 86_460;
/// Longest chain of exchange-rate feeds followed when pricing.
const MAX_DEPTH: usize = 4;

/// What a price is quoted in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Denom {
    /// In ETH.
    Eth,
    /// In US dollars.
    Usd,
}

/// Identifies a feed: an asset priced in a denomination.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct FeedKey {
    /// The priced asset.
    pub asset: AssetId,
    /// The quote.
    pub denom: Denom,
}

/// Where a feed's answer comes from.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum FeedKind {
    /// A constant answer.
    Fixed,
    /// Observed protocol exchange rate (wad, e.g. stETH per wstETH) × the `base` feed's price.
    ExchangeRate {
        /// The feed of the asset the rate is denominated in (e.g. ETH/USD).
        base: FeedKey,
    },
    /// The market / AMM price, observed by the caller.
    Market {
        /// Name of the pool the price is read from (provenance only).
        pool: String,
    },
    /// PT price `1 − max_rate·ttm/YEAR`, floored at 0.
    PtLinearDiscount {
        /// Maturity, seconds.
        maturity: u64,
        /// Maximum (discount) rate per year, wad.
        max_rate: U256,
    },
    /// PT price from the observed TWAP ln-implied rate (wad).
    PtTwap {
        /// Maturity, seconds.
        maturity: u64,
    },
}

/// Scenario controls of a feed.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Control {
    /// No new answers are published while frozen.
    pub frozen: bool,
    /// Serve the answer that was current `lag` seconds ago.
    pub lag: u64,
    /// Serve this answer (in the feed's decimals, always fresh) instead of the real one; the
    /// second field is when the override was set.
    pub manipulated: Option<(U256, u64)>,
}

/// One published answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Round {
    /// Round number (1, 2, …).
    pub round_id: u64,
    /// The answer: a price in the feed's decimals (Fixed, Market), a rate (wad) for
    /// ExchangeRate, a ln-implied rate (wad) for PtTwap.
    pub value: U256,
    /// Publication time, seconds.
    pub updated_at: u64,
}

/// A Chainlink-like feed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Feed {
    /// What it prices.
    pub key: FeedKey,
    /// Where its answer comes from.
    pub kind: FeedKind,
    /// Decimals of the price it serves (18 = wad, 8 = Chainlink USD).
    pub decimals: u8,
    /// Maximum time between answers, seconds.
    pub heartbeat: u64,
    /// Publish when the observation moves more than this (basis points).
    pub deviation_bps: U256,
    /// Published answers, oldest first, at most [`HISTORY_LEN`]. Structurally shared, so that
    /// copying a feed (to undo a failed hook) costs O(1), not its history.
    pub history: imbl::Vector<Round>,
    /// Scenario controls.
    pub control: Control,
}

impl Feed {
    /// The latest published answer.
    pub fn latest(&self) -> Option<&Round> {
        self.history.back()
    }
}

/// A price as served to a consumer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Price {
    /// The price, in `decimals`.
    pub value: U256,
    /// Decimals of `value`.
    pub decimals: u8,
    /// When the answer behind it was published.
    pub updated_at: u64,
}

impl Price {
    /// The price scaled to 18 decimals (floor).
    ///
    /// Specification: fails on overflow.
    pub fn wad(&self) -> Result<U256, OracleError> {
        Ok(rescale(self.value, self.decimals, 18)?)
    }
}

fn rescale(v: U256, from: u8, to: u8) -> Result<U256, MathError> {
    if from == to {
        Ok(v)
    } else if from < to {
        v.mul_c(pow10(u32::from(to - from))?)
    } else {
        v.div_c(pow10(u32::from(from - to))?)
    }
}

/// What the registry did.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum OracleEvent {
    /// A feed was registered.
    FeedAdded {
        /// Its key.
        key: FeedKey,
    },
    /// A new answer was published.
    AnswerUpdated {
        /// Feed.
        key: FeedKey,
        /// The round.
        round: Round,
    },
    /// An observation did not meet the deviation/heartbeat rule and was not published.
    UpdateSkipped {
        /// Feed.
        key: FeedKey,
        /// The observed value.
        observed: U256,
        /// Observation time.
        at: u64,
    },
    /// Controls changed.
    ControlChanged {
        /// Feed.
        key: FeedKey,
        /// New controls.
        control: Control,
    },
}

/// A rejected oracle operation or read. Codes 6000–6099.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum OracleError {
    /// No such feed.
    UnknownFeed {
        /// The key asked for.
        key: FeedKey,
    },
    /// The feed already exists.
    DuplicateFeed {
        /// The key.
        key: FeedKey,
    },
    /// The answer is older than the consumer accepts.
    StalePrice {
        /// Feed.
        key: FeedKey,
        /// Publication time of the answer.
        updated_at: u64,
        /// Now.
        now: u64,
        /// Maximum accepted age, seconds.
        max_age: u64,
    },
    /// The feed has never published.
    NoAnswer {
        /// Feed.
        key: FeedKey,
    },
    /// A lagged read asks for a time before the oldest answer kept.
    LagBeyondHistory {
        /// Feed.
        key: FeedKey,
        /// The time asked for (`now − lag`).
        at: u64,
        /// Oldest answer kept.
        oldest: u64,
    },
    /// An observation earlier than the last answer.
    TimeWentBackwards {
        /// Feed.
        key: FeedKey,
        /// Last publication time.
        updated_at: u64,
        /// The observation time.
        now: u64,
    },
    /// A feed definition that cannot work.
    InvalidFeed {
        /// Feed.
        key: FeedKey,
        /// Why.
        reason: &'static str,
    },
    /// Arithmetic failure; its own code.
    Math(MathError),
}

impl From<MathError> for OracleError {
    fn from(e: MathError) -> Self {
        OracleError::Math(e)
    }
}

impl From<LedgerError> for OracleError {
    fn from(e: LedgerError) -> Self {
        match e {
            LedgerError::Math(m) => OracleError::Math(m),
            other => OracleError::Math(MathError::OutOfDomain {
                func: "ledger",
                value: other.to_string(),
            }),
        }
    }
}

impl fmt::Display for OracleError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            OracleError::UnknownFeed { key } => write!(f, "no feed for {key:?}"),
            OracleError::DuplicateFeed { key } => write!(f, "feed for {key:?} already exists"),
            OracleError::StalePrice {
                key,
                updated_at,
                now,
                max_age,
            } => write!(
                f,
                "stale price for {key:?}: updated at {updated_at}, now {now}, age {} s > max {max_age} s",
                now.saturating_sub(*updated_at)
            ),
            OracleError::NoAnswer { key } => write!(f, "feed {key:?} has no answer yet"),
            OracleError::LagBeyondHistory { key, at, oldest } => {
                write!(f, "feed {key:?} keeps no answer at {at} (oldest {oldest})")
            }
            OracleError::TimeWentBackwards { key, updated_at, now } => {
                write!(
                    f,
                    "feed {key:?} observed at {now}, before its last answer at {updated_at}"
                )
            }
            OracleError::InvalidFeed { key, reason } => write!(f, "invalid feed {key:?}: {reason}"),
            OracleError::Math(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for OracleError {}

impl Reject for OracleError {
    fn code(&self) -> u32 {
        match self {
            OracleError::UnknownFeed { .. } => 6000,
            OracleError::DuplicateFeed { .. } => 6001,
            OracleError::StalePrice { .. } => 6002,
            OracleError::NoAnswer { .. } => 6003,
            OracleError::LagBeyondHistory { .. } => 6004,
            OracleError::TimeWentBackwards { .. } => 6005,
            OracleError::InvalidFeed { .. } => 6006,
            OracleError::Math(e) => e.code(),
        }
    }
}

/// `1e18 − ⌊max_rate·ttm/YEAR⌋`, floored at 0, with `ttm = max(maturity − now, 0)`.
///
/// Specification: fails only on overflow.
pub fn pt_linear_discount_price(maturity: u64, max_rate: U256, now: u64) -> Result<U256, OracleError> {
    let ttm = U256::from(maturity.saturating_sub(now));
    let discount = max_rate.mul_c(ttm)?.div_c(U256::from(ONE_YEAR))?;
    Ok(WAD.saturating_sub(discount))
}

/// Pendle's PT-to-asset rate from a ln-implied rate: `1e18` at or after maturity, else
/// `⌊1e18·1e18 / exp(⌊ln_rate·ttm/YEAR⌋)⌋` (`exp` is the LogExpMath port).
///
/// Specification: fails with a math error if the exponent is outside `exp`'s domain.
pub fn pt_price_from_ln_rate(maturity: u64, ln_implied_rate: U256, now: u64) -> Result<U256, OracleError> {
    if maturity <= now {
        return Ok(WAD);
    }
    let ttm = U256::from(maturity - now);
    let exponent = ln_implied_rate.mul_c(ttm)?.div_c(U256::from(ONE_YEAR))?;
    let rate = signed::to_unsigned(logexp::exp(signed::to_signed(exponent)?)?)?;
    Ok(mul_div_down(WAD, WAD, rate)?)
}

/// The registry of feeds.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Oracles {
    /// Feeds sorted by key.
    feeds: Vec<Feed>,
}

impl StateHash for Oracles {
    fn hash_state(&self, h: &mut blake3::Hasher) {
        stake_ledger::hash_serde(h, self);
    }
}

impl Oracles {
    /// An empty registry.
    pub fn new() -> Self {
        Self::default()
    }

    fn index(&self, key: FeedKey) -> Result<usize, OracleError> {
        self.feeds
            .binary_search_by_key(&key, |f| f.key)
            .map_err(|_| OracleError::UnknownFeed { key })
    }

    /// The feed for `key`.
    ///
    /// Specification: fails with [`OracleError::UnknownFeed`].
    pub fn feed(&self, key: FeedKey) -> Result<&Feed, OracleError> {
        Ok(&self.feeds[self.index(key)?])
    }

    /// Every feed, sorted by key.
    pub fn feeds(&self) -> &[Feed] {
        &self.feeds
    }

    /// Registers a feed and, if `initial` is given, publishes it as round 1 at `now`.
    ///
    /// Specification:
    /// * fails with [`OracleError::DuplicateFeed`] if the key exists;
    /// * fails with [`OracleError::InvalidFeed`] if `decimals > 36`, an exchange-rate feed is
    ///   its own base or its base is not registered.
    #[allow(clippy::too_many_arguments)]
    pub fn add_feed(
        &mut self,
        key: FeedKey,
        kind: FeedKind,
        decimals: u8,
        heartbeat: u64,
        deviation_bps: U256,
        initial: Option<U256>,
        now: u64,
    ) -> Result<Vec<OracleEvent>, OracleError> {
        let pos = match self.feeds.binary_search_by_key(&key, |f| f.key) {
            Ok(_) => return Err(OracleError::DuplicateFeed { key }),
            Err(p) => p,
        };
        if decimals > 36 {
            return Err(OracleError::InvalidFeed {
                key,
                reason: "decimals > 36",
            });
        }
        if let FeedKind::ExchangeRate { base } = &kind {
            if *base == key {
                return Err(OracleError::InvalidFeed {
                    key,
                    reason: "exchange-rate feed is its own base",
                });
            }
            self.index(*base).map_err(|_| OracleError::InvalidFeed {
                key,
                reason: "base feed not registered",
            })?;
        }
        let mut feed = Feed {
            key,
            kind,
            decimals,
            heartbeat,
            deviation_bps,
            history: imbl::Vector::new(),
            control: Control::default(),
        };
        let mut events = vec![OracleEvent::FeedAdded { key }];
        if let Some(v) = initial {
            let round = Round {
                round_id: 1,
                value: v,
                updated_at: now,
            };
            feed.history.push_back(round);
            events.push(OracleEvent::AnswerUpdated { key, round });
        }
        self.feeds.insert(pos, feed);
        Ok(events)
    }

    /// Offers an observation of the feed's source at `now` (a price for Fixed/Market, the
    /// protocol rate for ExchangeRate, the TWAP ln-implied rate for PtTwap). It is published as
    /// a new round iff the feed is not frozen and either it has no answer, the heartbeat has
    /// elapsed (`now − updated_at ≥ heartbeat`) or it deviates by more than `deviation_bps`
    /// (`|new − old|·1e4 > bps·old`). Returns `AnswerUpdated` or `UpdateSkipped`.
    ///
    /// Specification:
    /// * fails with [`OracleError::UnknownFeed`];
    /// * fails with [`OracleError::TimeWentBackwards`] if `now` precedes the last answer.
    pub fn observe(&mut self, key: FeedKey, observed: U256, now: u64) -> Result<Vec<OracleEvent>, OracleError> {
        let idx = self.index(key)?;
        let feed = &self.feeds[idx];
        let publish = match feed.latest() {
            None => !feed.control.frozen,
            Some(last) => {
                if now < last.updated_at {
                    return Err(OracleError::TimeWentBackwards {
                        key,
                        updated_at: last.updated_at,
                        now,
                    });
                }
                let heartbeat_due = now - last.updated_at >= feed.heartbeat;
                let diff = if observed > last.value {
                    observed - last.value
                } else {
                    last.value - observed
                };
                let deviated = diff.mul_c(stake_math::BPS)? > feed.deviation_bps.mul_c(last.value)?;
                !feed.control.frozen && (heartbeat_due || deviated)
            }
        };
        if !publish {
            return Ok(vec![OracleEvent::UpdateSkipped { key, observed, at: now }]);
        }
        Ok(vec![self.publish(idx, observed, now)])
    }

    /// Publishes `value` as a new round at `now` regardless of the deviation/heartbeat rule
    /// (an admin `set`; a frozen feed stays frozen and ignores it).
    ///
    /// Specification: fails with [`OracleError::UnknownFeed`] or
    /// [`OracleError::TimeWentBackwards`].
    pub fn set(&mut self, key: FeedKey, value: U256, now: u64) -> Result<Vec<OracleEvent>, OracleError> {
        let idx = self.index(key)?;
        let feed = &self.feeds[idx];
        if let Some(last) = feed.latest() {
            if now < last.updated_at {
                return Err(OracleError::TimeWentBackwards {
                    key,
                    updated_at: last.updated_at,
                    now,
                });
            }
        }
        if feed.control.frozen {
            return Ok(vec![OracleEvent::UpdateSkipped {
                key,
                observed: value,
                at: now,
            }]);
        }
        Ok(vec![self.publish(idx, value, now)])
    }

    fn publish(&mut self, idx: usize, value: U256, now: u64) -> OracleEvent {
        let feed = &mut self.feeds[idx];
        let round_id = feed.latest().map(|r| r.round_id + 1).unwrap_or(1);
        let round = Round {
            round_id,
            value,
            updated_at: now,
        };
        if feed.history.len() >= HISTORY_LEN {
            feed.history.pop_front();
        }
        feed.history.push_back(round);
        OracleEvent::AnswerUpdated { key: feed.key, round }
    }

    fn set_control(&mut self, key: FeedKey, f: impl FnOnce(&mut Control)) -> Result<Vec<OracleEvent>, OracleError> {
        let idx = self.index(key)?;
        let c = &mut self.feeds[idx].control;
        f(c);
        Ok(vec![OracleEvent::ControlChanged {
            key,
            control: c.clone(),
        }])
    }

    /// Freezes (`true`) or unfreezes a feed: while frozen no answer is published, so the last one
    /// ages until consumers reject it.
    ///
    /// Specification: fails with [`OracleError::UnknownFeed`].
    pub fn freeze(&mut self, key: FeedKey, frozen: bool) -> Result<Vec<OracleEvent>, OracleError> {
        self.set_control(key, |c| c.frozen = frozen)
    }

    /// Lags a feed: reads serve the answer that was current `lag` seconds ago (0 = live).
    ///
    /// Specification: fails with [`OracleError::UnknownFeed`].
    pub fn lag(&mut self, key: FeedKey, lag: u64) -> Result<Vec<OracleEvent>, OracleError> {
        self.set_control(key, |c| c.lag = lag)
    }

    /// Overrides a feed's served price (in its decimals) from `now` on, or removes the override.
    ///
    /// Specification: fails with [`OracleError::UnknownFeed`].
    pub fn manipulate(&mut self, key: FeedKey, value: Option<U256>, now: u64) -> Result<Vec<OracleEvent>, OracleError> {
        self.set_control(key, |c| c.manipulated = value.map(|v| (v, now)))
    }

    /// The price a consumer reads at `now`, rejecting an answer older than the feed's heartbeat.
    ///
    /// Specification: as [`Oracles::price_max_age`] with `max_age = heartbeat`.
    pub fn price(&self, key: FeedKey, now: u64) -> Result<Price, OracleError> {
        let hb = self.feed(key)?.heartbeat;
        self.price_max_age(key, now, hb)
    }

    /// The price a consumer reads at `now`, rejecting an answer older than `max_age`
    /// (`now − updated_at > max_age`). Fixed and linear-discount feeds are always fresh; an
    /// exchange-rate feed is as old as the older of its rate and its base price.
    ///
    /// Specification:
    /// * fails with [`OracleError::UnknownFeed`], [`OracleError::NoAnswer`];
    /// * fails with [`OracleError::LagBeyondHistory`] if a lagged read predates the history;
    /// * fails with [`OracleError::StalePrice`] naming the answer's time, now and the bound.
    pub fn price_max_age(&self, key: FeedKey, now: u64, max_age: u64) -> Result<Price, OracleError> {
        let p = self.raw_price(key, now, 0)?;
        if now.saturating_sub(p.updated_at) > max_age {
            return Err(OracleError::StalePrice {
                key,
                updated_at: p.updated_at,
                now,
                max_age,
            });
        }
        Ok(p)
    }

    /// The price without any staleness check (for reports).
    ///
    /// Specification: as [`Oracles::price_max_age`] without the staleness rejection.
    pub fn price_unchecked(&self, key: FeedKey, now: u64) -> Result<Price, OracleError> {
        self.raw_price(key, now, 0)
    }

    /// The round current at `at` (the latest published at or before it).
    fn round_at(feed: &Feed, at: u64) -> Result<Round, OracleError> {
        let key = feed.key;
        let first = feed.history.front().ok_or(OracleError::NoAnswer { key })?;
        let pos = match feed.history.binary_search_by(|r| {
            if r.updated_at <= at {
                std::cmp::Ordering::Less
            } else {
                std::cmp::Ordering::Greater
            }
        }) {
            Ok(p) | Err(p) => p,
        };
        if pos == 0 {
            return Err(OracleError::LagBeyondHistory {
                key,
                at,
                oldest: first.updated_at,
            });
        }
        Ok(feed.history[pos - 1])
    }

    fn raw_price(&self, key: FeedKey, now: u64, depth: usize) -> Result<Price, OracleError> {
        if depth > MAX_DEPTH {
            return Err(OracleError::InvalidFeed {
                key,
                reason: "exchange-rate chain too deep",
            });
        }
        let feed = self.feed(key)?;
        let dec = feed.decimals;
        if let Some((v, _since)) = feed.control.manipulated {
            // A manipulated answer is kept fresh by whoever manipulates it.
            return Ok(Price {
                value: v,
                decimals: dec,
                updated_at: now,
            });
        }
        let at = now.saturating_sub(feed.control.lag);
        match &feed.kind {
            FeedKind::PtLinearDiscount { maturity, max_rate } => {
                let wad = pt_linear_discount_price(*maturity, *max_rate, at)?;
                Ok(Price {
                    value: rescale(wad, 18, dec)?,
                    decimals: dec,
                    updated_at: now,
                })
            }
            FeedKind::Fixed => {
                // A fixed (externally set) answer never ages, but a lagged read serves the
                // answer that was current `lag` seconds ago.
                let r = if feed.control.lag > 0 {
                    Self::round_at(feed, at)?
                } else {
                    feed.latest().copied().ok_or(OracleError::NoAnswer { key })?
                };
                Ok(Price {
                    value: r.value,
                    decimals: dec,
                    updated_at: now,
                })
            }
            FeedKind::Market { .. } => {
                let r = Self::round_at(feed, at)?;
                Ok(Price {
                    value: r.value,
                    decimals: dec,
                    updated_at: r.updated_at,
                })
            }
            FeedKind::PtTwap { maturity } => {
                let r = Self::round_at(feed, at)?;
                let wad = pt_price_from_ln_rate(*maturity, r.value, at)?;
                Ok(Price {
                    value: rescale(wad, 18, dec)?,
                    decimals: dec,
                    updated_at: r.updated_at,
                })
            }
            FeedKind::ExchangeRate { base } => {
                let r = Self::round_at(feed, at)?;
                let b = self.raw_price(*base, at, depth + 1)?;
                // rate (wad) × base price (base decimals) → this feed's decimals, floor.
                let v = mul_div_down(r.value, b.value, WAD)?;
                let v = rescale(v, b.decimals, dec)?;
                Ok(Price {
                    value: v,
                    decimals: dec,
                    updated_at: r.updated_at.min(b.updated_at),
                })
            }
        }
    }

    /// [`Self::check_invariants`] for what one transaction can have changed: a transaction only
    /// appends rounds, so each feed's history is checked at its newest pair (and its length),
    /// not round by round. O(feeds).
    pub fn check_recent(&self) -> Result<(), String> {
        self.check_with(false)
    }

    /// Conservation-style checks: feeds sorted and unique, histories bounded and increasing
    /// in time and round, exchange-rate bases registered.
    pub fn check_invariants(&self) -> Result<(), String> {
        self.check_with(true)
    }

    fn check_with(&self, whole_history: bool) -> Result<(), String> {
        for w in self.feeds.windows(2) {
            if w[0].key >= w[1].key {
                return Err(format!("feeds not strictly sorted at {:?}", w[1].key));
            }
        }
        for f in &self.feeds {
            if f.history.len() > HISTORY_LEN {
                return Err(format!("feed {:?} history {} > {HISTORY_LEN}", f.key, f.history.len()));
            }
            let pairs: Box<dyn Iterator<Item = (&Round, &Round)>> = if whole_history {
                Box::new(f.history.iter().zip(f.history.iter().skip(1)))
            } else {
                let n = f.history.len();
                let newest = n
                    .checked_sub(2)
                    .and_then(|i| Some((f.history.get(i)?, f.history.get(i + 1)?)));
                Box::new(newest.into_iter())
            };
            for (a, b) in pairs {
                if b.updated_at < a.updated_at || b.round_id != a.round_id + 1 {
                    return Err(format!("feed {:?} history out of order at round {}", f.key, b.round_id));
                }
            }
            if let FeedKind::ExchangeRate { base } = &f.kind {
                self.index(*base).map_err(|e| e.to_string())?;
            }
        }
        Ok(())
    }
}
