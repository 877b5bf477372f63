//! Withdrawal queue (`WithdrawalQueueBase.sol`): cumulative (stETH, shares) requests, batch
//! finalisation at a max share rate, claims by checkpoint.

use super::error::LidoError;
use super::math::E27;
use serde::{Deserialize, Serialize};
use stake_ledger::AccountId;
use stake_math::{mul_div_down, Checked, U256};

/// Minimum request (`MIN_STETH_WITHDRAWAL_AMOUNT`, 100 wei).
pub const MIN_STETH_WITHDRAWAL_AMOUNT: U256 = U256::new(100);
/// Maximum request (`MAX_STETH_WITHDRAWAL_AMOUNT`, 1000 stETH).
pub const MAX_STETH_WITHDRAWAL_AMOUNT: U256 = U256::new(1_000_000_000_000_000_000_000);
/// Max batches `calculate_finalization_batches` returns (`MAX_BATCHES_LENGTH`).
pub const MAX_BATCHES_LENGTH: usize = 36;

/// One request; amounts are cumulative over the queue, as in the contract.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WithdrawalRequest {
    /// Σ stETH of requests up to and including this one.
    pub cumulative_steth: U256,
    /// Σ shares of requests up to and including this one.
    pub cumulative_shares: U256,
    /// Owner (`None` for the sentinel request 0).
    pub owner: Option<AccountId>,
    /// Creation time.
    pub timestamp: u64,
    /// Claimed already.
    pub claimed: bool,
    /// Timestamp of the last oracle report before creation.
    pub report_timestamp: u64,
}

/// A finalisation checkpoint: requests from `from_request_id` on were finalized at `max_share_rate`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Checkpoint {
    /// First request id covered.
    pub from_request_id: u64,
    /// Max share rate (ray).
    pub max_share_rate: U256,
}

/// Queue state.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WithdrawalQueue {
    /// Requests by id; index 0 is the zero sentinel.
    pub requests: Vec<WithdrawalRequest>,
    /// Last finalized id (0: none).
    pub last_finalized_request_id: u64,
    /// Finalisation checkpoints (ascending `from_request_id`).
    pub checkpoints: Vec<Checkpoint>,
    /// Ether locked for finalized, unclaimed requests.
    pub locked_ether: U256,
}

impl Default for WithdrawalQueue {
    fn default() -> Self {
        Self {
            requests: vec![WithdrawalRequest {
                cumulative_steth: U256::ZERO,
                cumulative_shares: U256::ZERO,
                owner: None,
                timestamp: 0,
                claimed: true,
                report_timestamp: 0,
            }],
            last_finalized_request_id: 0,
            checkpoints: Vec::new(),
            locked_ether: U256::ZERO,
        }
    }
}

/// `_calcBatch`: (share rate ray, stETH, shares) of the requests in `(prev, end]`.
pub fn calc_batch(prev: &WithdrawalRequest, end: &WithdrawalRequest) -> Result<(U256, U256, U256), LidoError> {
    let steth = end.cumulative_steth.sub_c(prev.cumulative_steth)?;
    let shares = end.cumulative_shares.sub_c(prev.cumulative_shares)?;
    let rate = if shares == U256::ZERO {
        U256::ZERO
    } else {
        mul_div_down(steth, E27, shares)?
    };
    Ok((rate, steth, shares))
}

/// Ether a request or batch gets at `max_share_rate`: `rate > max ? ⌊shares·max/1e27⌋ : stETH`
/// (losses passed on, gains never).
pub fn discounted(rate: U256, steth: U256, shares: U256, max_share_rate: U256) -> Result<U256, LidoError> {
    if rate > max_share_rate {
        Ok(mul_div_down(shares, max_share_rate, E27)?)
    } else {
        Ok(steth)
    }
}

impl WithdrawalQueue {
    /// Id of the last request (0 when none).
    pub fn last_request_id(&self) -> u64 {
        (self.requests.len() as u64).saturating_sub(1)
    }

    fn req(&self, id: u64) -> Result<&WithdrawalRequest, LidoError> {
        self.requests
            .get(stake_math::index(id))
            .ok_or(LidoError::InvalidRequestId { request_id: id })
    }

    /// stETH of requests not finalized yet (`unfinalizedStETH`).
    pub fn unfinalized_steth(&self) -> U256 {
        let last = self.requests.last().map(|r| r.cumulative_steth).unwrap_or_default();
        let fin = self
            .requests
            .get(stake_math::index(self.last_finalized_request_id))
            .map(|r| r.cumulative_steth)
            .unwrap_or_default();
        last.saturating_sub(fin)
    }

    /// Shares of requests not finalized yet.
    pub fn unfinalized_shares(&self) -> U256 {
        let last = self.requests.last().map(|r| r.cumulative_shares).unwrap_or_default();
        let fin = self
            .requests
            .get(stake_math::index(self.last_finalized_request_id))
            .map(|r| r.cumulative_shares)
            .unwrap_or_default();
        last.saturating_sub(fin)
    }

    /// `prefinalize`: ether to lock and shares to burn for `batches` at `max_share_rate`.
    ///
    /// Specification: fails with `ZeroShareRate` for a zero rate, `InvalidRequestId` when the
    /// first batch does not start after the last finalized request or a batch ends beyond the
    /// last request, `BatchesAreNotSorted` unless batch ends ascend strictly.
    pub fn prefinalize(&self, batches: &[u64], max_share_rate: U256) -> Result<(U256, U256), LidoError> {
        if max_share_rate == U256::ZERO {
            return Err(LidoError::ZeroShareRate);
        }
        let Some(first) = batches.first() else {
            return Ok((U256::ZERO, U256::ZERO));
        };
        if *first <= self.last_finalized_request_id {
            return Err(LidoError::InvalidRequestId { request_id: *first });
        }
        let mut eth = U256::ZERO;
        let mut shares = U256::ZERO;
        let mut prev_end = self.last_finalized_request_id;
        for (i, &end) in batches.iter().enumerate() {
            if i > 0 && end <= prev_end {
                return Err(LidoError::BatchesAreNotSorted);
            }
            if end > self.last_request_id() {
                return Err(LidoError::InvalidRequestId { request_id: end });
            }
            let (rate, st, sh) = calc_batch(self.req(prev_end)?, self.req(end)?)?;
            eth = eth.add_c(discounted(rate, st, sh, max_share_rate)?)?;
            shares = shares.add_c(sh)?;
            prev_end = end;
        }
        Ok((eth, shares))
    }

    /// `_finalize` (state part, after the checks of [`Self::prefinalize`]): records a checkpoint
    /// when the rate changes, locks `ether`, advances the finalized id. Returns (from, to, shares).
    pub(crate) fn finalize(
        &mut self,
        last_id: u64,
        ether: U256,
        max_share_rate: U256,
    ) -> Result<(u64, u64, U256), LidoError> {
        let from = self.last_finalized_request_id + 1;
        let shares = self
            .req(last_id)?
            .cumulative_shares
            .sub_c(self.req(self.last_finalized_request_id)?.cumulative_shares)?;
        if self.checkpoints.last().map(|c| c.max_share_rate) != Some(max_share_rate) {
            self.checkpoints.push(Checkpoint {
                from_request_id: from,
                max_share_rate,
            });
        }
        self.locked_ether = self.locked_ether.add_c(ether)?;
        self.last_finalized_request_id = last_id;
        Ok((from, last_id, shares))
    }

    /// Ether claimable by a finalized request (`_calculateClaimableEther`, checkpoint found by search).
    pub fn claimable_ether(&self, request_id: u64) -> Result<U256, LidoError> {
        if request_id == 0 || request_id > self.last_finalized_request_id {
            return Err(LidoError::RequestNotFoundOrNotFinalized { request_id });
        }
        let idx = self.checkpoints.partition_point(|c| c.from_request_id <= request_id);
        let cp = idx
            .checked_sub(1)
            .and_then(|i| self.checkpoints.get(i))
            .ok_or(LidoError::InvalidRequestId { request_id })?;
        let (rate, st, sh) = calc_batch(self.req(request_id - 1)?, self.req(request_id)?)?;
        discounted(rate, st, sh, cp.max_share_rate)
    }

    /// `calculateFinalizationBatches`: batch ends finalizable within `eth_budget` at
    /// `max_share_rate`, for requests created at or before `max_timestamp`. Returns the batch
    /// ends and the ether they lock.
    pub fn calculate_finalization_batches(
        &self,
        max_share_rate: U256,
        max_timestamp: u64,
        eth_budget: U256,
    ) -> Result<(Vec<u64>, U256), LidoError> {
        let mut batches: Vec<u64> = Vec::new();
        let mut remaining = eth_budget;
        let mut prev_rate = U256::ZERO;
        let mut id = self.last_finalized_request_id + 1;
        while id <= self.last_request_id() {
            let prev = self.req(id - 1)?;
            let req = self.req(id)?;
            if req.timestamp > max_timestamp {
                break;
            }
            let (rate, st, sh) = calc_batch(prev, req)?;
            let eth = discounted(rate, st, sh, max_share_rate)?;
            if eth > remaining {
                break;
            }
            let same = !batches.is_empty()
                && (prev.report_timestamp == req.report_timestamp
                    || (prev_rate <= max_share_rate && rate <= max_share_rate)
                    || (prev_rate > max_share_rate && rate > max_share_rate));
            if same {
                if let Some(last) = batches.last_mut() {
                    *last = id;
                }
            } else {
                if batches.len() == MAX_BATCHES_LENGTH {
                    break;
                }
                batches.push(id);
            }
            remaining -= eth;
            prev_rate = rate;
            id += 1;
        }
        Ok((batches, eth_budget - remaining))
    }
}
