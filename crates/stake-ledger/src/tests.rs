use super::*;
use stake_math::u;

fn setup() -> (Ledger, AssetId, AccountId, AccountId) {
    let mut l = Ledger::new();
    let eth = l.register_asset("ETH", 18, "native", AssetKind::Plain).unwrap();
    let a = l.account("alice");
    let b = l.account("bob");
    l.mint(a, eth, u(100)).unwrap();
    (l, eth, a, b)
}

#[test]
fn transfer_moves_balance_and_conserves_supply() {
    let (mut l, eth, a, b) = setup();
    l.transfer(a, b, eth, u(40)).unwrap();
    assert_eq!(l.balance(a, eth), u(60));
    assert_eq!(l.balance(b, eth), u(40));
    assert_eq!(l.supply(eth), u(100));
    l.check_conservation().unwrap();
}

#[test]
fn overdraft_is_rejected_with_the_values_and_changes_nothing() {
    let (mut l, eth, a, b) = setup();
    let before = state_hash(&l);
    let err = l.transfer(a, b, eth, u(101)).unwrap_err();
    assert_eq!(
        err,
        LedgerError::InsufficientBalance {
            account: "alice".into(),
            asset: "ETH".into(),
            balance: u(100),
            required: u(101),
            decimals: 18,
        }
    );
    assert_eq!(
        err.to_string(),
        "insufficient balance: alice holds 0.0000000000000001 ETH (100 base units), \
         0.000000000000000101 ETH (101 base units) required"
    );
    assert_eq!(err.code(), 1004);
    assert_eq!(state_hash(&l), before);
    let err = l.burn(b, eth, u(1)).unwrap_err();
    assert_eq!(err.code(), 1004);
    assert_eq!(state_hash(&l), before);
}

#[test]
fn mint_overflow_is_rejected_and_changes_nothing() {
    let (mut l, eth, a, _) = setup();
    let before = state_hash(&l);
    let err = l.mint(a, eth, U256::MAX).unwrap_err();
    assert_eq!(err, LedgerError::SupplyOverflow { asset: "ETH".into() });
    assert_eq!(err.code(), 1005);
    assert_eq!(state_hash(&l), before);
}

#[test]
fn duplicate_and_unknown_assets_are_rejected() {
    let (mut l, _, _, _) = setup();
    let before = state_hash(&l);
    assert_eq!(
        l.register_asset("ETH", 18, "x", AssetKind::Plain).unwrap_err().code(),
        1002
    );
    assert_eq!(
        l.asset("DOGE").unwrap_err(),
        LedgerError::UnknownAsset { symbol: "DOGE".into() }
    );
    assert_eq!(l.find_account("carol").unwrap_err().code(), 1001);
    assert_eq!(state_hash(&l), before);
}

#[test]
fn rollback_undoes_a_multi_step_transaction_exactly() {
    let (mut l, eth, a, b) = setup();
    let before = state_hash(&l);
    let r: Result<(), LedgerError> = l.atomic(|l| {
        let c = l.account("carol");
        let st = l.register_asset("stETH", 18, "lido", AssetKind::Shares)?;
        l.transfer(a, b, eth, u(30))?;
        l.mint(c, st, u(5))?;
        l.transfer(b, c, eth, u(31)) // fails: bob has 30
    });
    assert_eq!(r.unwrap_err().code(), 1004);
    assert_eq!(state_hash(&l), before);
    assert!(l.find_account("carol").is_err());
    assert!(l.asset("stETH").is_err());
    l.check_conservation().unwrap();
}

#[test]
fn nested_checkpoints_roll_back_only_the_inner_part() {
    let (mut l, eth, a, b) = setup();
    let outer = l.checkpoint();
    l.transfer(a, b, eth, u(10)).unwrap();
    let inner = l.checkpoint();
    l.transfer(a, b, eth, u(10)).unwrap();
    l.rollback(inner);
    assert_eq!(l.balance(b, eth), u(10));
    l.commit(outer);
    assert_eq!(l.balance(b, eth), u(10));
}

#[test]
fn state_hash_ignores_zero_holdings_but_sees_every_balance() {
    let (mut l, eth, a, b) = setup();
    let h0 = state_hash(&l);
    l.transfer(a, b, eth, u(1)).unwrap();
    let h1 = state_hash(&l);
    assert_ne!(h0, h1);
    l.transfer(b, a, eth, u(1)).unwrap();
    assert_eq!(state_hash(&l), h0);
}

#[test]
fn an_outer_rollback_restores_a_balance_emptied_before_an_inner_rollback() {
    // alice sends everything (her entry is left at zero), an inner step fails and rolls back
    // (dropping zero entries), then the outer transaction fails too: alice gets her 100 back.
    let (mut l, eth, a, b) = setup();
    let before = state_hash(&l);
    let outer = l.checkpoint();
    l.transfer(a, b, eth, u(100)).unwrap();
    let inner = l.checkpoint();
    l.transfer(b, a, eth, u(1)).unwrap();
    l.rollback(inner);
    l.rollback(outer);
    assert_eq!(l.balance(a, eth), u(100));
    assert_eq!(l.balance(b, eth), U256::ZERO);
    assert_eq!(state_hash(&l), before);
    l.check_conservation().unwrap();
}

#[test]
fn the_audit_reports_what_was_touched_and_accepts_conserving_writes() {
    let (mut l, eth, a, b) = setup();
    l.set_auditing(true);
    let steth = l.register_asset("stETH", 18, "lido", AssetKind::Shares).unwrap();
    let c = l.account("carol");
    l.transfer(a, b, eth, u(10)).unwrap();
    l.transfer(b, c, eth, u(3)).unwrap();
    l.mint(c, steth, u(5)).unwrap();
    l.burn(c, steth, u(2)).unwrap();
    // A rolled-back span leaves values as they were; the audit still sees the slots.
    let cp = l.checkpoint();
    l.transfer(a, c, eth, u(50)).unwrap();
    l.mint(a, steth, u(7)).unwrap();
    l.rollback(cp);
    let t = l.audit().unwrap();
    assert_eq!(t.accounts, vec![a, b, c]);
    assert_eq!(t.assets, vec![eth, steth]);
    assert!(t.has_account(c) && t.has_asset(steth));
    // Drained: a second audit sees nothing.
    assert!(l.audit().unwrap().is_empty());
    assert_eq!(l.holder_count(eth), 3);
    assert_eq!(l.holder_count(steth), 1);
}

#[test]
fn the_audit_catches_a_balance_written_behind_the_supply() {
    let (mut l, eth, a, b) = setup();
    l.set_auditing(true);
    l.transfer(a, b, eth, u(1)).unwrap();
    // Broken on purpose: a write that bypasses mint/burn/transfer.
    l.set_balance(b, eth, u(2)).unwrap();
    let err = l.audit().unwrap_err();
    assert_eq!(
        err,
        LedgerError::ConservationBroken {
            asset: "ETH".into(),
            supply: u(100),
            held: u(101),
        }
    );
    // The full scan agrees.
    assert!(l.check_conservation().is_err());
}

#[test]
fn rollback_restores_holder_counts_and_drops_zero_entries_it_created() {
    let (mut l, eth, a, b) = setup();
    let before = state_hash(&l);
    let cp = l.checkpoint();
    l.transfer(a, b, eth, u(100)).unwrap();
    assert_eq!(l.holder_count(eth), 1);
    l.rollback(cp);
    assert_eq!(l.holder_count(eth), 1);
    assert_eq!(l.holdings_of(b), &[]);
    assert_eq!(state_hash(&l), before);
}
