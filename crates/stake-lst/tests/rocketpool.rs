//! Rocket Pool model (SPEC §4.2): hand-computed cases, every rejection path with an unchanged state
//! hash, invariants after every operation.

#![allow(clippy::unwrap_used, clippy::result_large_err)] // test helpers unwrap; errors carry values

use stake_ledger::{state_hash, AccountId, Ledger, Reject};
use stake_lst::rocketpool::*;
use stake_math::{u, U256};

const E: u128 = 1_000_000_000_000_000_000;
const T0: u64 = 1_700_000_000;
const DAY: u64 = 86_400;

fn eth(n: u128) -> U256 {
    u(n * E)
}

struct World {
    l: Ledger,
    rp: RocketPool,
    alice: AccountId,
    bob: AccountId,
    node: AccountId,
    beacon: AccountId,
}

impl World {
    fn new(params: RocketPoolParams) -> Self {
        let mut l = Ledger::new();
        let rp = RocketPool::new(&mut l, params).unwrap();
        let alice = l.account("alice");
        let bob = l.account("bob");
        let node = l.account("node1");
        let beacon = l.account("l0:beacon");
        l.mint(alice, rp.eth, eth(1_000)).unwrap();
        l.mint(bob, rp.eth, eth(1_000)).unwrap();
        l.mint(node, rp.eth, eth(100)).unwrap();
        l.mint(node, rp.rpl, eth(10_000)).unwrap();
        let w = World {
            l,
            rp,
            alice,
            bob,
            node,
            beacon,
        };
        w.check();
        w
    }
    fn check(&self) {
        self.rp.check_invariants(&self.l).unwrap();
    }
    fn hash(&self) -> ([u8; 32], [u8; 32]) {
        (state_hash(&self.l), state_hash(&self.rp))
    }
    fn reth(&self, a: AccountId) -> U256 {
        self.l.balance(a, self.rp.reth)
    }
    fn eth_of(&self, a: AccountId) -> U256 {
        self.l.balance(a, self.rp.eth)
    }
    /// Node with one validator staking: registers `kind`, stakes `rpl` RPL, deposits 1 validator,
    /// fills the user part from alice and plays the engine's move of 32 ETH into L0.
    fn staking_node(&mut self, kind: BondKind, rpl: U256) {
        self.rp.register_node(&self.l, self.node, kind, T0).unwrap();
        self.rp.stake_rpl(&mut self.l, self.node, rpl, T0).unwrap();
        self.rp.node_deposit(&mut self.l, self.node, 1, T0).unwrap();
        self.rp.deposit(&mut self.l, self.alice, kind.user_wei(), T0).unwrap();
        let plan = self.rp.deposit_plan();
        assert_eq!(plan, vec![("node1".to_string(), 1)]);
        self.rp.on_deposited(&mut self.l, &plan, T0).unwrap();
        assert_eq!(self.eth_of(self.rp.staging_account()), eth(32));
        let staging = self.rp.staging_account();
        self.l.transfer(staging, self.beacon, self.rp.eth, eth(32)).unwrap();
        self.check();
    }
    fn expect_rejected(
        &mut self,
        f: impl FnOnce(&mut Self) -> Result<Vec<RocketPoolEvent>, RocketPoolError>,
        want: RocketPoolError,
    ) {
        let before = self.hash();
        let err = f(self).unwrap_err();
        assert_eq!(err, want);
        assert_eq!(err.code(), want.code());
        assert_eq!(self.hash(), before, "state changed on rejection {want:?}");
        self.check();
    }
}

fn default_world() -> World {
    World::new(RocketPoolParams::default())
}

#[test]
fn deposit_charges_the_five_bp_fee_and_mints_one_to_one_before_the_first_report() {
    let mut w = default_world();
    let ev = w.rp.deposit(&mut w.l, w.alice, eth(10), T0).unwrap();
    // fee = 10e18 · 5e14 / 1e18 = 5e15; net = 9.995e18; supply 0 ⇒ 1:1.
    assert_eq!(
        ev,
        vec![RocketPoolEvent::Deposited {
            sender: w.alice,
            amount: eth(10),
            fee: u(5_000_000_000_000_000),
            reth: u(9_995_000_000_000_000_000)
        }]
    );
    assert_eq!(w.reth(w.alice), u(9_995_000_000_000_000_000));
    // The whole deposit, fee included, sits in the pool.
    assert_eq!(w.rp.deposit_pool_wei, eth(10));
    assert_eq!(w.eth_of(w.rp.accounts.deposit_pool), eth(10));
    w.check();
}

#[test]
fn deposit_mints_at_the_oracle_reported_rate_not_the_live_one() {
    let mut w = default_world();
    w.rp.submit_balances(eth(110), U256::ZERO, eth(100), T0).unwrap();
    // rate = 110/100; fee = 11e18·5e14/1e18 = 5.5e15; net = 10.9945e18; rETH = net·100/110 = 9.995e18.
    w.rp.deposit(&mut w.l, w.alice, eth(11), T0).unwrap();
    assert_eq!(w.reth(w.alice), u(9_995_000_000_000_000_000));
    assert_eq!(w.rp.rate_wad().unwrap(), u(1_100_000_000_000_000_000));
    // A second deposit does not move the reported totals: same price.
    w.rp.deposit(&mut w.l, w.bob, eth(11), T0 + 1).unwrap();
    assert_eq!(w.reth(w.bob), u(9_995_000_000_000_000_000));
    w.check();
}

#[test]
fn minimum_deposit_is_one_hundredth_of_an_ether() {
    let mut w = default_world();
    let (alice, min) = (w.alice, u(10_000_000_000_000_000));
    w.expect_rejected(
        |w| w.rp.deposit(&mut w.l, alice, min - 1, T0),
        RocketPoolError::BelowMinimumDeposit {
            amount: min - 1,
            minimum: min,
        },
    );
    w.rp.deposit(&mut w.l, alice, min, T0).unwrap();
    w.check();
}

#[test]
fn deposit_pool_cap_is_extended_by_the_validator_queue_capacity() {
    let mut w = World::new(RocketPoolParams {
        max_deposit_pool_wei: eth(100),
        ..Default::default()
    });
    let (alice, bob, node) = (w.alice, w.bob, w.node);
    w.rp.deposit(&mut w.l, alice, eth(100), T0).unwrap();
    let cent = u(10_000_000_000_000_000);
    w.expect_rejected(
        |w| w.rp.deposit(&mut w.l, bob, cent, T0),
        RocketPoolError::DepositPoolFull {
            needed: eth(100) + cent,
            maximum: eth(100),
        },
    );
    // A megapool validator in the queue needs 28 ETH of user funds: cap becomes 128 ETH.
    w.rp.register_node(&w.l, node, BondKind::Megapool4, T0).unwrap();
    w.rp.node_deposit(&mut w.l, node, 1, T0).unwrap();
    assert_eq!(w.rp.queue_capacity_wei, eth(28));
    assert_eq!(w.rp.maximum_deposit_amount().unwrap(), eth(28));
    w.rp.deposit(&mut w.l, bob, eth(28), T0).unwrap();
    w.expect_rejected(
        |w| w.rp.deposit(&mut w.l, bob, cent, T0),
        RocketPoolError::DepositPoolFull {
            needed: eth(128) + cent,
            maximum: eth(128),
        },
    );
    // Without assignments the cap is strict.
    w.rp.params.assign_deposits_enabled = false;
    assert_eq!(w.rp.maximum_deposit_amount().unwrap(), U256::ZERO);
}

#[test]
fn balance_updates_may_move_the_ratio_by_two_percent_and_no_more() {
    let mut w = default_world();
    // First update bypasses the delta rule.
    w.rp.submit_balances(eth(100), U256::ZERO, eth(100), T0).unwrap();
    // +2 % exactly: current 1e18, max change 2e16, new 1.02e18.
    w.rp.submit_balances(eth(102), U256::ZERO, eth(100), T0 + DAY).unwrap();
    // Next: current 1.02e18, max change ⌊1.02e18·0.02⌋ = 2.04e16. 104.04 ETH is the limit; 100 wei
    // more makes the ratio 1040400000000000001 and the change 20400000000000001.
    let over = u(104_040_000_000_000_000_100);
    w.expect_rejected(
        |w| w.rp.submit_balances(over, U256::ZERO, eth(100), T0 + 2 * DAY),
        RocketPoolError::RatioChangeTooLarge {
            current_ratio: u(1_020_000_000_000_000_000),
            new_ratio: u(1_040_400_000_000_000_001),
            max_change: u(20_400_000_000_000_000),
        },
    );
    // Downward likewise: 1.02 · 0.98 = 0.9996; 0.9996e18 − 1 is rejected.
    let under = u(99_959_999_999_999_999_900);
    w.expect_rejected(
        |w| w.rp.submit_balances(under, U256::ZERO, eth(100), T0 + 2 * DAY),
        RocketPoolError::RatioChangeTooLarge {
            current_ratio: u(1_020_000_000_000_000_000),
            new_ratio: u(999_599_999_999_999_999),
            max_change: u(20_400_000_000_000_000),
        },
    );
    w.rp.submit_balances(u(104_040_000_000_000_000_000), U256::ZERO, eth(100), T0 + 2 * DAY)
        .unwrap();
    assert_eq!(w.rp.rate_wad().unwrap(), u(1_040_400_000_000_000_000));
}

#[test]
fn balance_updates_come_at_most_once_a_day_with_the_five_percent_grace() {
    let mut w = default_world();
    w.rp.submit_balances(eth(100), U256::ZERO, eth(100), T0).unwrap();
    // earliest = T0 + 86400·95/100 = T0 + 82080.
    w.expect_rejected(
        |w| w.rp.submit_balances(eth(100), U256::ZERO, eth(100), T0 + 82_079),
        RocketPoolError::BalancesTooEarly {
            now: T0 + 82_079,
            earliest: T0 + 82_080,
        },
    );
    w.rp.submit_balances(eth(100), U256::ZERO, eth(100), T0 + 82_080)
        .unwrap();
    w.expect_rejected(
        |w| w.rp.submit_balances(eth(1), eth(2), eth(1), T0 + 10 * DAY),
        RocketPoolError::StakingExceedsTotal {
            staking: eth(2),
            total: eth(1),
        },
    );
    // A zero rETH supply cannot be priced once balances exist (the contract divides by it).
    w.expect_rejected(
        |w| w.rp.submit_balances(U256::ZERO, U256::ZERO, U256::ZERO, T0 + 10 * DAY),
        RocketPoolError::Math(stake_math::MathError::DivisionByZero),
    );
}

#[test]
fn rewards_split_gives_the_node_its_bond_rewards_plus_commission_on_the_user_part() {
    // LEB8, 14 %: 33 ETH on 32 ETH capital: rewards 1 ETH; node portion 1·8/32 = 0.25,
    // user portion 0.75, commission 0.75·0.14 = 0.105 ⇒ node 8.355, user 24.645.
    let c = u(140_000_000_000_000_000);
    assert_eq!(
        node_share(eth(33), eth(8), eth(24), c).unwrap(),
        u(8_355_000_000_000_000_000)
    );
    // Between the user capital and the capital the node absorbs the loss: 30 ⇒ node 6.
    assert_eq!(node_share(eth(30), eth(8), eth(24), c).unwrap(), eth(6));
    // Below the user capital the node gets nothing.
    assert_eq!(node_share(eth(20), eth(8), eth(24), c).unwrap(), U256::ZERO);

    let mut w = default_world();
    w.staking_node(BondKind::Minipool8, eth(1_000));
    let node = w.node;
    let ev =
        w.rp.report_balances(
            &w.l,
            &[NodeBalance {
                node,
                validators: 1,
                balance_wei: eth(33),
            }],
            T0 + DAY,
        )
        .unwrap();
    assert_eq!(
        ev[0],
        RocketPoolEvent::NodeBalanceSplit {
            node,
            balance: eth(33),
            node_share: u(8_355_000_000_000_000_000),
            user_share: u(24_645_000_000_000_000_000)
        }
    );
    // total = pool 0 + collateral 0 + user share 24.645; supply = 24 − 0.012 fee = 23.988 rETH.
    assert_eq!(w.rp.balances.total_eth, u(24_645_000_000_000_000_000));
    assert_eq!(w.rp.balances.reth_supply, u(23_988_000_000_000_000_000));
    assert_eq!(w.rp.balances.staking_eth, u(24_645_000_000_000_000_000));
    w.check();
}

#[test]
fn losses_hit_the_eth_bond_then_rpl_then_reth_holders() {
    let mut w = default_world();
    // LEB8 node with 1,000 RPL at 0.005 ETH (worth 5 ETH); minimum = ⌊24e18·0.1/0.005⌋ = 480 RPL.
    w.staking_node(BondKind::Minipool8, eth(1_000));
    let node = w.node;
    // A 2 ETH loss stays within the bond.
    let ev = w.rp.apply_validator_losses(&mut w.l, node, eth(2), T0).unwrap();
    assert_eq!(
        ev,
        vec![RocketPoolEvent::LossApplied {
            node,
            loss: eth(2),
            rewards_hit: U256::ZERO,
            bond_hit: eth(2),
            user_hit: U256::ZERO,
            rpl_slashed: U256::ZERO,
            rpl_eth_value: U256::ZERO,
            to_reth_holders: U256::ZERO
        }]
    );
    w.check();
    // 14 ETH more: 6 left in the bond, 8 reach the users; RPL for 8 ETH = 1,600 RPL > 1,000 staked ⇒
    // all 1,000 RPL slashed, worth 5 ETH; 3 ETH remain for rETH holders.
    let ev = w.rp.apply_validator_losses(&mut w.l, node, eth(14), T0).unwrap();
    assert_eq!(
        ev,
        vec![RocketPoolEvent::LossApplied {
            node,
            loss: eth(14),
            rewards_hit: U256::ZERO,
            bond_hit: eth(6),
            user_hit: eth(8),
            rpl_slashed: eth(1_000),
            rpl_eth_value: eth(5),
            to_reth_holders: eth(3)
        }]
    );
    let n = w.rp.node(node).unwrap();
    assert_eq!(
        (n.node_capital, n.user_capital, n.balance, n.rpl_staked),
        (U256::ZERO, eth(16), eth(16), U256::ZERO)
    );
    assert_eq!(w.l.balance(w.rp.accounts.auction, w.rp.rpl), eth(1_000));
    w.check();
    // The auction sells the RPL at the price: 5 ETH into the deposit pool.
    let bob = w.bob;
    w.rp.settle_auction(&mut w.l, bob, T0).unwrap();
    assert_eq!(w.rp.deposit_pool_wei, eth(5));
    assert_eq!(w.l.balance(bob, w.rp.rpl), eth(1_000));
    w.check();
    // Next balance update: total = pool 5 + user share of 16 ETH (capital N 0, U 16 ⇒ all 16) = 21 ETH
    // against 23.988 rETH: the holders carry 24 − 21 = 3 ETH.
    w.rp.report_balances(
        &w.l,
        &[NodeBalance {
            node,
            validators: 1,
            balance_wei: eth(16),
        }],
        T0 + DAY,
    )
    .unwrap();
    assert_eq!(w.rp.balances.total_eth, eth(21));
    assert_eq!(w.rp.balances.reth_supply, u(23_988_000_000_000_000_000));
    w.check();
}

#[test]
fn a_large_loss_cannot_reach_the_rate_in_one_update_because_of_rpip_61() {
    let mut w = default_world();
    w.staking_node(BondKind::Minipool8, eth(1_000));
    let node = w.node;
    w.rp.report_balances(
        &w.l,
        &[NodeBalance {
            node,
            validators: 1,
            balance_wei: eth(32),
        }],
        T0 + DAY,
    )
    .unwrap();
    // total 24, supply 23.988: ratio ⌊1e18·24/23.988⌋.
    let current = w.rp.balances.total_eth * u(E) / w.rp.balances.reth_supply;
    w.rp.apply_validator_losses(&mut w.l, node, eth(16), T0 + DAY).unwrap();
    let new_ratio = eth(16) * u(E) / u(23_988_000_000_000_000_000);
    w.expect_rejected(
        |w| {
            w.rp.report_balances(
                &w.l,
                &[NodeBalance {
                    node,
                    validators: 1,
                    balance_wei: eth(16),
                }],
                T0 + 2 * DAY,
            )
        },
        RocketPoolError::RatioChangeTooLarge {
            current_ratio: current,
            new_ratio,
            max_change: current * u(2) / u(100),
        },
    );
}

#[test]
fn burn_pays_from_collateral_and_excess_pool_only_and_reports_the_shortfall() {
    let mut w = default_world();
    let (alice, bob, node) = (w.alice, w.bob, w.node);
    w.rp.register_node(&w.l, node, BondKind::Minipool8, T0).unwrap();
    w.rp.stake_rpl(&mut w.l, node, eth(1_000), T0).unwrap();
    w.rp.node_deposit(&mut w.l, node, 1, T0).unwrap();
    // 24 ETH in the pool, all of it needed by the queued minipool: no excess.
    w.rp.deposit(&mut w.l, alice, eth(24), T0).unwrap();
    assert_eq!(w.rp.excess_balance(), U256::ZERO);
    w.expect_rejected(
        |w| w.rp.burn(&mut w.l, alice, eth(1), T0),
        RocketPoolError::InsufficientCollateral {
            required: eth(1),
            available: U256::ZERO,
            shortfall: eth(1),
        },
    );
    // Bob adds 0.5 ETH: excess 0.5, so 1 rETH is short by 0.5 ETH; 0.4 rETH burns.
    let half = u(E / 2);
    w.rp.deposit(&mut w.l, bob, half, T0).unwrap();
    w.expect_rejected(
        |w| w.rp.burn(&mut w.l, alice, eth(1), T0),
        RocketPoolError::InsufficientCollateral {
            required: eth(1),
            available: half,
            shortfall: half,
        },
    );
    let before = w.eth_of(alice);
    let ev = w.rp.burn(&mut w.l, alice, u(4 * E / 10), T0).unwrap();
    assert_eq!(
        ev,
        vec![RocketPoolEvent::Burned {
            holder: alice,
            reth: u(4 * E / 10),
            eth: u(4 * E / 10),
            from_deposit_pool: u(4 * E / 10)
        }]
    );
    assert_eq!(w.eth_of(alice), before + u(4 * E / 10));
    w.check();
}

#[test]
fn exits_pay_the_node_bond_and_commission_and_the_user_part_to_the_reth_contract() {
    let mut w = default_world();
    w.staking_node(BondKind::Minipool8, eth(1_000));
    let node = w.node;
    let mp = w.rp.withdrawal_account();
    // Skimmed 1 ETH of rewards: node 0.355, user 0.645.
    w.l.mint(mp, w.rp.eth, eth(1)).unwrap();
    w.rp.distribute_rewards(&mut w.l, node, eth(1), T0).unwrap();
    assert_eq!(w.rp.collateral_wei, u(645_000_000_000_000_000));
    assert_eq!(w.eth_of(node), eth(92) + u(355_000_000_000_000_000));
    w.check();
    // Full exit with 33 ETH swept: node 8.355, rETH contract 24.645 more.
    w.l.transfer(w.beacon, mp, w.rp.eth, eth(32)).unwrap();
    w.l.mint(mp, w.rp.eth, eth(1)).unwrap();
    let ev = w.rp.process_exit(&mut w.l, node, 1, eth(33), T0).unwrap();
    assert_eq!(
        ev,
        vec![RocketPoolEvent::ExitDistributed {
            node,
            validators: 1,
            swept: eth(33),
            node_share: u(8_355_000_000_000_000_000),
            user_share: u(24_645_000_000_000_000_000)
        }]
    );
    assert_eq!(w.rp.collateral_wei, u(25_290_000_000_000_000_000));
    assert_eq!(w.rp.node(node).unwrap().validators, 0);
    // Now burns are covered by the rETH contract.
    let alice = w.alice;
    w.rp.burn(&mut w.l, alice, eth(20), T0).unwrap();
    w.check();
}

#[test]
fn an_exit_below_the_user_capital_slashes_rpl_for_the_shortfall() {
    let mut w = default_world();
    w.staking_node(BondKind::Minipool8, eth(1_000));
    let node = w.node;
    let mp = w.rp.withdrawal_account();
    w.l.transfer(w.beacon, mp, w.rp.eth, eth(20)).unwrap();
    // 20 ETH back for 24 user capital: node 0, users 20, shortfall 4 ETH ⇒ ⌊4e18·1e18/5e15⌋ = 800 RPL.
    w.rp.process_exit(&mut w.l, node, 1, eth(20), T0).unwrap();
    assert_eq!(w.rp.auction_rpl, eth(800));
    assert_eq!(w.rp.node(node).unwrap().rpl_staked, eth(200));
    assert_eq!(w.rp.collateral_wei, eth(20));
    w.check();
}

#[test]
fn on_deposited_accepts_a_prefix_of_the_plan_and_rejects_others() {
    let mut w = default_world();
    let (alice, node) = (w.alice, w.node);
    w.rp.register_node(&w.l, node, BondKind::Megapool4, T0).unwrap();
    w.rp.node_deposit(&mut w.l, node, 3, T0).unwrap();
    w.rp.deposit(&mut w.l, alice, eth(60), T0).unwrap();
    // 60 ETH cover two 28-ETH user parts.
    assert_eq!(w.rp.deposit_plan(), vec![("node1".to_string(), 2)]);
    w.expect_rejected(
        |w| w.rp.on_deposited(&mut w.l, &[("node1".into(), 3)], T0),
        RocketPoolError::PlanMismatch {
            index: 0,
            reason: format!("deposit pool holds {} wei, {} wei needed", eth(60), eth(84)),
        },
    );
    w.expect_rejected(
        |w| w.rp.on_deposited(&mut w.l, &[("node9".into(), 1)], T0),
        RocketPoolError::PlanMismatch {
            index: 0,
            reason: "queue head is node1, plan names node9".into(),
        },
    );
    w.expect_rejected(
        |w| w.rp.on_deposited(&mut w.l, &[("node1".into(), 0)], T0),
        RocketPoolError::PlanMismatch {
            index: 0,
            reason: "zero validators".into(),
        },
    );
    w.rp.on_deposited(&mut w.l, &[("node1".into(), 1)], T0).unwrap();
    assert_eq!(w.rp.deposit_pool_wei, eth(32));
    assert_eq!(w.rp.node(node).unwrap().queued, 2);
    assert_eq!(w.rp.node(node).unwrap().validators, 1);
    assert_eq!(w.rp.tvl_wei().unwrap(), eth(32) + eth(8) + eth(32));
    w.check();
}

#[test]
fn every_other_rejection_names_its_values_and_changes_nothing() {
    let mut w = default_world();
    let (alice, bob, node) = (w.alice, w.bob, w.node);
    let carol = w.l.account("carol");
    // Deposits disabled.
    w.rp.params.deposit_enabled = false;
    w.expect_rejected(
        |w| w.rp.deposit(&mut w.l, alice, eth(1), T0),
        RocketPoolError::DepositsDisabled,
    );
    w.rp.params.deposit_enabled = true;
    // Depositor without ETH: the ledger error.
    let err = w.rp.deposit(&mut w.l, carol, eth(1), T0).unwrap_err();
    assert_eq!(err.code(), 1004);
    // Burns.
    w.expect_rejected(
        |w| w.rp.burn(&mut w.l, alice, U256::ZERO, T0),
        RocketPoolError::ZeroBurn,
    );
    w.expect_rejected(
        |w| w.rp.burn(&mut w.l, alice, eth(1), T0),
        RocketPoolError::InsufficientReth {
            balance: U256::ZERO,
            required: eth(1),
        },
    );
    // Nodes.
    let unknown = RocketPoolError::UnknownNode { node: "carol".into() };
    w.expect_rejected(|w| w.rp.node_deposit(&mut w.l, carol, 1, T0), unknown.clone());
    w.expect_rejected(|w| w.rp.stake_rpl(&mut w.l, carol, eth(1), T0), unknown.clone());
    w.expect_rejected(
        |w| w.rp.apply_validator_losses(&mut w.l, carol, eth(1), T0),
        unknown.clone(),
    );
    w.expect_rejected(|w| w.rp.process_exit(&mut w.l, carol, 1, eth(1), T0), unknown.clone());
    w.expect_rejected(
        |w| w.rp.distribute_rewards(&mut w.l, carol, eth(1), T0),
        unknown.clone(),
    );
    w.expect_rejected(
        |w| {
            w.rp.report_balances(
                &w.l,
                &[NodeBalance {
                    node: carol,
                    validators: 0,
                    balance_wei: U256::ZERO,
                }],
                T0,
            )
        },
        unknown,
    );
    w.rp.register_node(&w.l, node, BondKind::Minipool16, T0).unwrap();
    w.expect_rejected(
        |w| w.rp.register_node(&w.l, node, BondKind::Minipool8, T0),
        RocketPoolError::NodeAlreadyRegistered { node: "node1".into() },
    );
    w.expect_rejected(
        |w| w.rp.node_deposit(&mut w.l, node, 0, T0),
        RocketPoolError::ZeroAmount,
    );
    w.expect_rejected(
        |w| w.rp.stake_rpl(&mut w.l, node, U256::ZERO, T0),
        RocketPoolError::ZeroAmount,
    );
    // 16-ETH minipool borrows 16 ETH: minimum ⌊16e18·0.1/0.005⌋ = 320 RPL.
    w.expect_rejected(
        |w| w.rp.node_deposit(&mut w.l, node, 1, T0),
        RocketPoolError::InsufficientRplStake {
            staked: U256::ZERO,
            required: eth(320),
        },
    );
    w.rp.stake_rpl(&mut w.l, node, eth(320), T0).unwrap();
    w.rp.node_deposit(&mut w.l, node, 1, T0).unwrap();
    w.rp.deposit(&mut w.l, alice, eth(16), T0).unwrap();
    let plan = w.rp.deposit_plan();
    w.rp.on_deposited(&mut w.l, &plan, T0).unwrap();
    let staging = w.rp.staging_account();
    let beacon = w.beacon;
    w.l.transfer(staging, beacon, w.rp.eth, eth(32)).unwrap();
    w.expect_rejected(
        |w| w.rp.apply_validator_losses(&mut w.l, node, eth(33), T0),
        RocketPoolError::LossExceedsBalance {
            loss: eth(33),
            balance: eth(32),
        },
    );
    w.expect_rejected(
        |w| w.rp.apply_validator_losses(&mut w.l, node, U256::ZERO, T0),
        RocketPoolError::ZeroAmount,
    );
    w.expect_rejected(
        |w| w.rp.process_exit(&mut w.l, node, 2, eth(64), T0),
        RocketPoolError::TooManyValidators {
            requested: 2,
            staking: 1,
        },
    );
    w.expect_rejected(
        |w| w.rp.process_exit(&mut w.l, node, 0, eth(1), T0),
        RocketPoolError::ZeroAmount,
    );
    w.expect_rejected(
        |w| w.rp.process_exit(&mut w.l, node, 1, eth(32), T0),
        RocketPoolError::InsufficientSwept {
            available: U256::ZERO,
            required: eth(32),
        },
    );
    w.expect_rejected(
        |w| w.rp.distribute_rewards(&mut w.l, node, eth(1), T0),
        RocketPoolError::InsufficientSwept {
            available: U256::ZERO,
            required: eth(1),
        },
    );
    w.expect_rejected(
        |w| w.rp.distribute_rewards(&mut w.l, node, U256::ZERO, T0),
        RocketPoolError::ZeroAmount,
    );
    w.expect_rejected(
        |w| {
            w.rp.report_balances(
                &w.l,
                &[NodeBalance {
                    node,
                    validators: 2,
                    balance_wei: eth(64),
                }],
                T0,
            )
        },
        RocketPoolError::ValidatorCountMismatch {
            node: "node1".into(),
            reported: 2,
            expected: 1,
        },
    );
    w.expect_rejected(
        |w| w.rp.settle_auction(&mut w.l, bob, T0),
        RocketPoolError::NothingToAuction,
    );
    w.expect_rejected(|w| w.rp.set_rpl_price(U256::ZERO, T0), RocketPoolError::ZeroPrice);
    // Bidder without enough ETH: ledger error, nothing changes.
    w.rp.apply_validator_losses(&mut w.l, node, eth(20), T0).unwrap();
    let before = w.hash();
    assert_eq!(w.rp.settle_auction(&mut w.l, carol, T0).unwrap_err().code(), 1004);
    assert_eq!(w.hash(), before);
    w.check();
}

#[test]
fn minting_that_rounds_to_zero_and_pricing_against_zero_total_are_rejected() {
    let mut w = default_world();
    let alice = w.alice;
    // 1 rETH reported against 1e20 ETH: 0.01 ETH net of fee (9.995e15 wei) buys ⌊9.995e15/1e20⌋ = 0.
    w.rp.submit_balances(eth(100), U256::ZERO, u(1), T0).unwrap();
    let cent = u(10_000_000_000_000_000);
    w.expect_rejected(
        |w| w.rp.deposit(&mut w.l, alice, cent, T0),
        RocketPoolError::ZeroMint {
            net_wei: u(9_995_000_000_000_000),
        },
    );
    let mut w = default_world();
    w.rp.submit_balances(U256::ZERO, U256::ZERO, eth(5), T0).unwrap();
    w.expect_rejected(
        |w| w.rp.deposit(&mut w.l, alice, eth(1), T0),
        RocketPoolError::ZeroTotalEth,
    );
}

#[test]
fn error_codes_are_stable_and_in_the_rocketpool_range() {
    let all = [
        RocketPoolError::DepositsDisabled,
        RocketPoolError::ZeroTotalEth,
        RocketPoolError::ZeroBurn,
        RocketPoolError::ZeroAmount,
        RocketPoolError::NothingToAuction,
        RocketPoolError::ZeroPrice,
    ];
    let codes: Vec<u32> = all.iter().map(|e| e.code()).collect();
    assert_eq!(codes, vec![3100, 3104, 3105, 3114, 3120, 3121]);
    assert!(RocketPoolError::ZeroPrice.rejection().message.contains("RPL price"));
}

#[test]
fn replaying_the_same_operations_gives_the_same_state_hash() {
    let run = || {
        let mut w = default_world();
        w.staking_node(BondKind::Minipool16, eth(1_000));
        let (node, bob) = (w.node, w.bob);
        w.rp.deposit(&mut w.l, bob, eth(3), T0).unwrap();
        w.rp.report_balances(
            &w.l,
            &[NodeBalance {
                node,
                validators: 1,
                balance_wei: eth(32) + u(E / 7),
            }],
            T0 + DAY,
        )
        .unwrap();
        w.rp.burn(&mut w.l, bob, eth(1), T0 + DAY).unwrap();
        w.rp.apply_validator_losses(&mut w.l, node, eth(17), T0 + DAY).unwrap();
        w.check();
        w.hash()
    };
    assert_eq!(run(), run());
}

#[test]
fn state_round_trips_through_json_with_the_same_hash() {
    let mut w = default_world();
    w.staking_node(BondKind::Megapool4, eth(1));
    let json = serde_json::to_string(&w.rp).unwrap();
    let back: RocketPool = serde_json::from_str(&json).unwrap();
    assert_eq!(state_hash(&back), state_hash(&w.rp));
}
