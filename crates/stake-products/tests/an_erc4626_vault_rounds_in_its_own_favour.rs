//! The ERC-4626 vault: OpenZeppelin v5's conversions and rounding per entry point, the max*
//! reverts, the donation attack, and a property test of its invariants.

use crate::common::{e, rejects, w};
use proptest::prelude::*;
use stake_ledger::Reject;
use stake_math::{U256, WAD};
use stake_products::vault::{Vault, VaultError};

/// 100 deposited, 10 donated: T = 110, S = 100.
fn vault_110_100() -> Vault {
    let mut v = Vault::new(0).unwrap();
    assert_eq!(v.deposit(w(100)).unwrap(), w(100));
    v.donate(w(10)).unwrap();
    v.check_invariants().unwrap();
    v
}

#[test]
fn each_entry_point_rounds_as_openzeppelin() {
    let v = vault_110_100();
    // 11·101/111 = 10.009…
    assert_eq!(v.preview_deposit(w(11)).unwrap(), w(10));
    assert_eq!(v.convert_to_shares(w(11)).unwrap(), w(10));
    // 10·111/101 = 10.990…
    assert_eq!(v.preview_mint(w(10)).unwrap(), w(11));
    assert_eq!(v.preview_redeem(w(10)).unwrap(), w(10));
    assert_eq!(v.convert_to_assets(w(10)).unwrap(), w(10));
    assert_eq!(v.preview_withdraw(w(11)).unwrap(), w(11));
    assert_eq!(v.max_deposit().unwrap(), U256::MAX);
    assert_eq!(v.max_mint().unwrap(), U256::MAX);
    assert_eq!(v.max_redeem(w(100)).unwrap(), w(100));
    // maxWithdraw = previewRedeem(maxRedeem) = ⌊100·111/101⌋.
    assert_eq!(v.max_withdraw(w(100)).unwrap(), w(109));

    let mut d = v.clone();
    assert_eq!(d.deposit(w(11)).unwrap(), w(10));
    assert_eq!((d.idle, d.total_supply), (w(121), w(110)));
    let mut mi = v.clone();
    assert_eq!(mi.mint(w(10)).unwrap(), w(11));
    let mut wd = v.clone();
    assert_eq!(wd.withdraw(w(11), w(100)).unwrap(), w(11));
    assert_eq!((wd.idle, wd.total_supply), (w(99), w(89)));
    let mut r = v;
    assert_eq!(r.redeem(w(10), w(100)).unwrap(), w(10));
    for x in [d, mi, wd, r] {
        x.check_invariants().unwrap();
    }
}

#[test]
fn the_decimals_offset_scales_the_first_mint() {
    let mut v = Vault::new(3).unwrap();
    assert_eq!(v.deposit(e(1)).unwrap(), e(1_000));
    assert_eq!(v.share_price_wad().unwrap(), WAD);
    v.check_invariants().unwrap();
}

#[test]
fn every_max_revert_names_the_values_and_leaves_the_state_unchanged() {
    let mut v = vault_110_100();
    v.deposit_limit = w(150);
    assert_eq!(v.max_deposit().unwrap(), w(40));
    // maxMint = ⌊40·101/111⌋ = 36.
    assert_eq!(v.max_mint().unwrap(), w(36));
    rejects(
        &mut v,
        VaultError::ExceededMaxDeposit {
            assets: w(41),
            max: w(40),
        },
        |v| v.deposit(w(41)),
    );
    rejects(
        &mut v,
        VaultError::ExceededMaxMint {
            shares: w(37),
            max: w(36),
        },
        |v| v.mint(w(37)),
    );
    rejects(
        &mut v,
        VaultError::ExceededMaxRedeem {
            shares: w(101),
            max: w(100),
        },
        |v| v.redeem(w(101), w(100)),
    );
    rejects(
        &mut v,
        VaultError::ExceededMaxWithdraw {
            assets: w(110),
            max: w(109),
        },
        |v| v.withdraw(w(110), w(100)),
    );
    rejects(
        &mut v,
        VaultError::InsufficientAssets {
            amount: w(111),
            available: w(110),
        },
        |v| v.allocate(w(111)),
    );
    rejects(
        &mut v,
        VaultError::InsufficientAssets {
            amount: w(1),
            available: w(0),
        },
        |v| v.deallocate(w(1)),
    );
    assert_eq!(Vault::new(19), Err(VaultError::InvalidDecimalsOffset { offset: 19 }));
    assert_eq!(VaultError::InvalidDecimalsOffset { offset: 19 }.code(), 7004);
}

#[test]
fn assets_in_strategies_cap_exits_at_the_idle_buffer() {
    let mut v = vault_110_100();
    v.allocate(w(60)).unwrap();
    assert_eq!(
        (v.idle, v.strategy_assets, v.total_assets().unwrap()),
        (w(50), w(60), w(110))
    );
    // ⌊50·101/111⌋ = 45 shares; they redeem ⌊45·111/101⌋ = 49.
    assert_eq!(v.max_redeem(w(100)).unwrap(), w(45));
    assert_eq!(v.max_withdraw(w(100)).unwrap(), w(49));
    rejects(
        &mut v,
        VaultError::ExceededMaxRedeem {
            shares: w(46),
            max: w(45),
        },
        |v| v.redeem(w(46), w(100)),
    );
    assert_eq!(v.redeem(w(45), w(100)).unwrap(), w(49));
    v.check_invariants().unwrap();
}

/// The attacker deposits 1 wei, donates 1 ETH, the victim deposits 1 ETH, both redeem.
/// Returns (attacker loss, victim loss).
fn donation_attack(offset: u8) -> (U256, U256) {
    let mut v = Vault::new(offset).unwrap();
    let attacker_shares = v.deposit(U256::ONE).unwrap();
    v.donate(e(1)).unwrap();
    let victim_shares = v.deposit(e(1)).unwrap();
    v.check_invariants().unwrap();
    let attacker_out = v.redeem(attacker_shares, attacker_shares).unwrap();
    let victim_out = v.redeem(victim_shares, victim_shares).unwrap();
    v.check_invariants().unwrap();
    (e(1) + U256::ONE - attacker_out, e(1) - victim_out)
}

#[test]
fn a_donation_attack_on_an_empty_vault_costs_the_attacker_more_than_the_victim() {
    // Offset 0: 1 share each; the attacker gets ⌊(2e18 + 2)/3⌋ back.
    let (attacker, victim) = donation_attack(0);
    assert_eq!(attacker, w(333_333_333_333_333_334));
    assert_eq!(victim, w(333_333_333_333_333_333));
    assert!(attacker >= victim);
    // Offset 6: the victim's 1 ETH buys 1,999,999 shares against the attacker's 1,000,000; the
    // attacker loses half its donation, the victim 2.5e-7 ETH.
    let (attacker, victim) = donation_attack(6);
    assert_eq!(attacker, w(499_999_874_999_968_751));
    assert_eq!(victim, w(250_000_062_499));
    assert!(attacker >= victim);
}

#[derive(Clone, Debug)]
enum Op {
    Deposit(usize, u64),
    Mint(usize, u64),
    Withdraw(usize, u64),
    Redeem(usize, u64),
    Donate(u64),
    Allocate(u64),
    Loss(u64),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        (0..2usize, 0..u64::MAX).prop_map(|(u, a)| Op::Deposit(u, a)),
        (0..2usize, 0..u64::MAX).prop_map(|(u, a)| Op::Mint(u, a)),
        (0..2usize, 0..u64::MAX).prop_map(|(u, a)| Op::Withdraw(u, a)),
        (0..2usize, 0..=100u64).prop_map(|(u, p)| Op::Redeem(u, p)),
        (0..u64::MAX).prop_map(Op::Donate),
        (0..=100u64).prop_map(Op::Allocate),
        (0..=100u64).prop_map(Op::Loss),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// After every operation: the invariants hold, Σ balances = supply, a rejection changed
    /// nothing, and nobody ever redeems more than they put in plus the donations and less losses.
    #[test]
    fn vault_invariants_hold_after_every_operation(ops in proptest::collection::vec(op(), 1..40), offset in 0u8..=6) {
        let mut v = Vault::new(offset).unwrap();
        let mut bal = [U256::ZERO; 2];
        let (mut put_in, mut taken_out) = (U256::ZERO, U256::ZERO);
        for o in ops {
            let before = v.clone();
            let r = match o {
                Op::Deposit(u, a) => v.deposit(U256::from(a)).map(|s| { bal[u] += s; put_in += U256::from(a); }),
                Op::Mint(u, s) => v.mint(U256::from(s)).map(|a| { bal[u] += U256::from(s); put_in += a; }),
                Op::Withdraw(u, a) => v.withdraw(U256::from(a), bal[u]).map(|s| { bal[u] -= s; taken_out += U256::from(a); }),
                Op::Redeem(u, p) => {
                    let s = bal[u] * U256::from(p) / 100;
                    v.redeem(s, bal[u]).map(|a| { bal[u] -= s; taken_out += a; })
                }
                Op::Donate(a) => v.donate(U256::from(a)).map(|()| put_in += U256::from(a)),
                Op::Allocate(p) => v.allocate(v.idle * U256::from(p) / 100),
                Op::Loss(p) => { let s = v.strategy_assets; v.report_strategy_assets(s - s * U256::from(p) / 100); Ok(()) }
            };
            if r.is_err() {
                prop_assert_eq!(&v, &before);
            }
            v.check_invariants().unwrap();
            prop_assert_eq!(bal[0] + bal[1], v.total_supply);
            prop_assert!(taken_out + v.total_assets().unwrap() <= put_in);
        }
    }
}
