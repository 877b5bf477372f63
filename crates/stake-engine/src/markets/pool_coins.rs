//! How the engine shows a pool its coins (SPEC §7.2): the pool math runs on *fair-value units*.
//!
//! - ETH / WETH and other plain coins: ledger amounts.
//! - Lido's stETH (held as shares): the token amount the shares are worth (`shares·pooled/shares`).
//! - An exchange-rate token (rETH, wstETH, cbETH, sfrxETH): its ETH value at the protocol rate,
//!   `⌊tokens·rate/1e18⌋`, and a payout of `v` moves `⌊v·1e18/rate⌋` tokens — Curve
//!   stableswap-ng's oracle-rate coins (`xp = balance·rate/1e18`). An rETH/ETH pool therefore
//!   trades around rETH's exchange rate, and its depth is measured against that fair price.
//!
//! User amounts are tokens: [`PoolCoins::to_pool`] converts them before they reach the pool and
//! [`PoolCoins::to_tokens`] converts pool amounts back for reports. The rate used by the last
//! pool sync is kept in [`super::PoolEntry::rates`] so that the pool's backing can be checked
//! from the ledger alone ([`check_rated_pool`]).

use serde::{Deserialize, Serialize};
use stake_ledger::{AccountId, AssetId, Ledger};
use stake_markets::stableswap::{Coins, SharesCoin, StableSwapError, StableSwapPool};
use stake_math::{mul_div_down, U256, WAD};

/// How the pool measures one coin.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum CoinUnit {
    /// Ledger amounts.
    Plain,
    /// Issuer shares shown as tokens (Lido).
    Shares {
        /// The issuer's total pooled ETH.
        total_pooled: U256,
        /// The issuer's total shares.
        total_shares: U256,
    },
    /// Tokens shown as their ETH value at `rate` (wad ETH per token, > 0).
    Rated {
        /// ETH per token, wad.
        rate: U256,
    },
}

/// The two coins of a pool and how each is measured.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PoolCoins {
    /// The pool's coins.
    pub coins: [AssetId; 2],
    /// Their units.
    pub units: [CoinUnit; 2],
}

impl PoolCoins {
    fn unit(&self, coin: AssetId) -> CoinUnit {
        if coin == self.coins[0] {
            self.units[0]
        } else if coin == self.coins[1] {
            self.units[1]
        } else {
            CoinUnit::Plain
        }
    }

    /// The pool amount of `tokens` of `coin` (floor; identity except for rated coins).
    ///
    /// Specification: fails only on overflow.
    pub fn to_pool(&self, coin: AssetId, tokens: U256) -> Result<U256, StableSwapError> {
        match self.unit(coin) {
            CoinUnit::Rated { rate } => Ok(mul_div_down(tokens, rate, WAD)?),
            _ => Ok(tokens),
        }
    }

    /// The tokens of `coin` a pool amount `v` is (floor; identity except for rated coins).
    ///
    /// Specification: fails on overflow or a zero rate.
    pub fn to_tokens(&self, coin: AssetId, v: U256) -> Result<U256, StableSwapError> {
        match self.unit(coin) {
            CoinUnit::Rated { rate } => Ok(mul_div_down(v, WAD, rate)?),
            _ => Ok(v),
        }
    }

    /// The rate of each rated coin (0 for the others), as kept by the pool entry.
    pub fn rates(&self) -> [U256; 2] {
        self.units.map(|u| match u {
            CoinUnit::Rated { rate } => rate,
            _ => U256::ZERO,
        })
    }
}

impl Coins for PoolCoins {
    fn balance_of(&self, ledger: &Ledger, coin: AssetId, holder: AccountId) -> Result<U256, StableSwapError> {
        let raw = ledger.balance(holder, coin);
        match self.unit(coin) {
            CoinUnit::Plain => Ok(raw),
            CoinUnit::Shares {
                total_pooled,
                total_shares,
            } => SharesCoin {
                coin,
                total_pooled,
                total_shares,
            }
            .amount_of(raw),
            CoinUnit::Rated { rate } => Ok(mul_div_down(raw, rate, WAD)?),
        }
    }

    fn transfer(
        &self,
        ledger: &mut Ledger,
        coin: AssetId,
        from: AccountId,
        to: AccountId,
        amount: U256,
    ) -> Result<(), StableSwapError> {
        let raw = match self.unit(coin) {
            CoinUnit::Plain => amount,
            CoinUnit::Shares {
                total_pooled,
                total_shares,
            } => SharesCoin {
                coin,
                total_pooled,
                total_shares,
            }
            .shares_for(amount)?,
            CoinUnit::Rated { rate } => mul_div_down(amount, WAD, rate)?,
        };
        Ok(ledger.transfer(from, to, coin, raw)?)
    }
}

/// Backing of a pool with rated coins, from the ledger and the rates of its last sync: LP supply
/// matches; plain coins' holdings and rated coins' value at the kept rate equal the pool's book.
/// (Shares coins need the issuer's live rate and are checked by the pool's own rules.)
pub(crate) fn check_rated_pool(pool: &StableSwapPool, rates: [U256; 2], ledger: &Ledger) -> Result<(), String> {
    let s = ledger.supply(pool.lp_token);
    if s != pool.lp_supply {
        return Err(format!(
            "{}: ledger LP supply {s} ≠ pool LP supply {}",
            pool.name, pool.lp_supply
        ));
    }
    for (k, rate) in rates.iter().enumerate() {
        let kind = ledger.asset_info(pool.coins[k]).map_err(|e| e.to_string())?.kind;
        if kind != stake_ledger::AssetKind::Plain {
            continue;
        }
        let raw = ledger.balance(pool.account, pool.coins[k]);
        let held = if *rate == U256::ZERO {
            raw
        } else {
            mul_div_down(raw, *rate, WAD).map_err(|e| e.to_string())?
        };
        if held != pool.stored_balances[k] {
            return Err(format!(
                "{}: coin {k} holdings {held} (at rate {rate}) ≠ booked {}",
                pool.name, pool.stored_balances[k]
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use stake_math::u;

    #[test]
    fn a_rated_coin_is_measured_in_eth_at_its_rate_and_paid_out_in_tokens() {
        let c = PoolCoins {
            coins: [AssetId(0), AssetId(1)],
            units: [
                CoinUnit::Plain,
                CoinUnit::Rated {
                    rate: WAD * u(11) / u(10),
                },
            ],
        };
        // 10 rETH at 1.1 = 11 ETH of value; 11 ETH of value = 10 rETH.
        assert_eq!(c.to_pool(AssetId(1), u(10) * WAD).unwrap(), u(11) * WAD);
        assert_eq!(c.to_tokens(AssetId(1), u(11) * WAD).unwrap(), u(10) * WAD);
        // 1 wei of value is 0 tokens (floor): the pool keeps dust.
        assert_eq!(c.to_tokens(AssetId(1), U256::ONE).unwrap(), U256::ZERO);
        assert_eq!(c.to_pool(AssetId(0), u(7)).unwrap(), u(7));
        assert_eq!(c.rates(), [U256::ZERO, WAD * u(11) / u(10)]);
    }
}
