//! EigenPods (`EigenPod`, `EigenPodManager`): native restaking of beacon-chain validators.

use super::math::{calc_withdrawable, mul_wad, reduce_bcsf, WAD_U64};
use super::strategies::max_mag;
use super::{pod_account_name, EigenLayer, ElError, ElEvent, Pod, BEACON_STRATEGY, GWEI};
use stake_ledger::Ledger;
use stake_math::{Checked, U256};

impl EigenLayer {
    /// Deploys `owner`'s pod (`createPod`). Its ledger account [`pod_account_name`] is the
    /// withdrawal-credential address of the owner's validators.
    ///
    /// Specification:
    /// - fails with `PodExists` if the owner already has one.
    pub fn create_pod(&mut self, owner: &str) -> Result<Vec<ElEvent>, ElError> {
        if self.pods.contains_key(owner) {
            return Err(ElError::PodExists {
                owner: owner.to_string(),
            });
        }
        self.pods.insert(owner.to_string(), Pod::default());
        Ok(vec![ElEvent::PodDeployed {
            owner: owner.to_string(),
            account: pod_account_name(owner),
        }])
    }

    /// Verifies a validator's withdrawal credentials (`verifyWithdrawalCredentials`), crediting
    /// `effective_balance_gwei · 1e9` beacon-chain shares.
    ///
    /// Specification:
    /// - fails with `PodNotFound`, `ValidatorAlreadyVerified`, `InvalidEffectiveBalance` (zero);
    /// - fails with `FullySlashed` if the owner's slashing factor is 0 (operator or beacon chain).
    pub fn verify_withdrawal_credentials(
        &mut self,
        ledger: &Ledger,
        owner: &str,
        validator_index: u64,
        effective_balance_gwei: u64,
        block: u64,
    ) -> Result<Vec<ElEvent>, ElError> {
        let pod = self.pods.get(owner).ok_or_else(|| ElError::PodNotFound {
            owner: owner.to_string(),
        })?;
        if pod.validators.contains_key(&validator_index) {
            return Err(ElError::ValidatorAlreadyVerified { index: validator_index });
        }
        if effective_balance_gwei == 0 {
            return Err(ElError::InvalidEffectiveBalance {
                gwei: effective_balance_gwei,
            });
        }
        let shares = U256::from(effective_balance_gwei).mul_c(GWEI)?;
        let beacon = pod.beacon_balance_gwei.add_c(U256::from(effective_balance_gwei))?;
        let mut w = self.work(owner);
        self.add_shares(ledger, &mut w, BEACON_STRATEGY, shares, block)?;
        self.commit(w);
        if let Some(pod) = self.pods.get_mut(owner) {
            pod.validators.insert(validator_index, effective_balance_gwei);
            pod.beacon_balance_gwei = beacon;
        }
        Ok(vec![ElEvent::ValidatorRestaked {
            owner: owner.to_string(),
            index: validator_index,
            shares,
        }])
    }

    /// Proves a checkpoint: `beacon_balance_wei_now` is the current total beacon balance of the
    /// pod's verified validators (the engine reads it from L0); ETH swept to the pod's ledger
    /// account since the last checkpoint is read from the ledger. The change
    /// `Δ = podBalance + beaconNow − beaconPrev` (whole gwei) is credited as shares when positive,
    /// and when negative cuts the beacon-chain slashing factor
    /// `BCSF' = ⌊BCSF·(prev − |Δ|)/prev⌋` with `prev = restakedExecutionLayer + beaconPrev`,
    /// removing `calcWithdrawable(s, k, mulWad(maxMag, BCSF − BCSF'))` from the operator.
    ///
    /// Specification:
    /// - fails with `PodNotFound`;
    /// - fails with `PodBalanceBelowRestaked` if the pod account holds less ETH than already accounted;
    /// - fails with `FullySlashed` when crediting shares at a zero slashing factor.
    pub fn checkpoint(
        &mut self,
        ledger: &Ledger,
        owner: &str,
        beacon_balance_wei_now: U256,
        block: u64,
    ) -> Result<Vec<ElEvent>, ElError> {
        let pod = self.pods.get(owner).cloned().ok_or_else(|| ElError::PodNotFound {
            owner: owner.to_string(),
        })?;
        let eth = ledger.asset(&self.eth_symbol)?;
        let pod_wei = match ledger.find_account(&pod_account_name(owner)) {
            Ok(a) => ledger.balance(a, eth),
            Err(_) => U256::ZERO,
        };
        let pod_gwei = pod_wei / GWEI;
        if pod_gwei < pod.restaked_el_gwei {
            return Err(ElError::PodBalanceBelowRestaked {
                balance: pod_wei,
                restaked: pod.restaked_el_gwei.mul_c(GWEI)?,
            });
        }
        let new_el = pod_gwei - pod.restaked_el_gwei;
        let now_gwei = beacon_balance_wei_now / GWEI;
        let prev_restaked_gwei = pod.restaked_el_gwei.add_c(pod.beacon_balance_gwei)?;
        let gains = new_el.add_c(now_gwei)?;
        let mut w = self.work(owner);
        let mut added = U256::ZERO;
        let mut decrease = U256::ZERO;
        if gains > pod.beacon_balance_gwei {
            added = (gains - pod.beacon_balance_gwei).mul_c(GWEI)?;
            self.add_shares(ledger, &mut w, BEACON_STRATEGY, added, block)?;
        } else if gains < pod.beacon_balance_gwei {
            decrease = (pod.beacon_balance_gwei - gains).mul_c(GWEI)?;
            self.points_touch(ledger, &mut w, BEACON_STRATEGY, block)?;
            let prev_bcsf = w.staker.bcsf.unwrap_or(WAD_U64);
            let new_bcsf = reduce_bcsf(prev_bcsf, prev_restaked_gwei.mul_c(GWEI)?, decrease)?;
            let bcsf_decrease = prev_bcsf - new_bcsf;
            w.staker.bcsf = Some(new_bcsf);
            if let Some((_, op)) = &mut w.op {
                let pos = w.staker.positions.get(BEACON_STRATEGY).cloned().unwrap_or_default();
                let m = max_mag(op, BEACON_STRATEGY);
                let remove = calc_withdrawable(
                    pos.deposit_shares,
                    pos.dsf,
                    mul_wad(U256::from(m), U256::from(bcsf_decrease))?,
                )?;
                let e = op.shares.entry(BEACON_STRATEGY.to_string()).or_default();
                *e = e.sub_c(remove)?;
            }
        }
        let bcsf = w.staker.bcsf.unwrap_or(WAD_U64);
        self.commit(w);
        if let Some(p) = self.pods.get_mut(owner) {
            p.restaked_el_gwei = pod.restaked_el_gwei + new_el;
            p.beacon_balance_gwei = now_gwei;
            p.last_checkpoint_block = block;
        }
        Ok(vec![ElEvent::CheckpointFinalized {
            owner: owner.to_string(),
            shares_added: added,
            decrease,
            bcsf,
        }])
    }

    /// Beacon-chain slashing factor of a pod owner (WAD if never cut).
    pub fn beacon_chain_slashing_factor(&self, owner: &str) -> u64 {
        self.stakers.get(owner).and_then(|s| s.bcsf).unwrap_or(WAD_U64)
    }
}
