//! Chains beyond Ethereum: the published reward formulas, warm-up limits, slashing, Bitcoin
//! timelocks; numbers computed by hand.

use stake_l0::bitcoin::BitcoinError;
use stake_l0::chains::*;
use stake_l0::{Bitcoin, BitcoinParams, Chain, GenericChain, GenericParams, L0Error, Offence, RewardModel};
use stake_ledger::{state_hash, AssetKind, Ledger};
use stake_math::{u, U256};

const WAD: u128 = 1_000_000_000_000_000_000;
const SOL: u128 = 1_000_000_000;

#[test]
fn solana_inflation_starts_at_8_percent_and_ends_at_the_terminal_rate() {
    let p = SolanaInflation::default();
    assert_eq!(solana_inflation_rate(&p, U256::ZERO).unwrap(), u(8 * WAD / 100));
    // 8 % · 0.85^20 = 0.31 % < 1.5 %: the floor holds.
    assert_eq!(solana_inflation_rate(&p, u(20 * WAD)).unwrap(), u(15 * WAD / 1000));
    // 8 % · 0.85 = 6.8 %, to within LogExpMath's 1e-15.
    let y1 = solana_inflation_rate(&p, u(WAD)).unwrap();
    let want = u(68 * WAD / 1000);
    let diff = if y1 > want { y1 - want } else { want - y1 };
    assert!(diff < u(1_000), "{y1}");
}

#[test]
fn polkadot_inflation_is_linear_below_the_ideal_ratio() {
    let c = NposCurve::default();
    // 2.5 % + 7.5 % · ⌊0.5/0.75⌋ = 74,999,999,999,999,999 (two floors).
    assert_eq!(
        npos_staker_inflation(&c, u(WAD / 2)).unwrap(),
        u(74_999_999_999_999_999)
    );
    // At the ideal ratio: the maximum, 10 %.
    assert_eq!(npos_staker_inflation(&c, u(75 * WAD / 100)).unwrap(), u(WAD / 10));
    assert!(npos_staker_inflation(&c, u(WAD + 1)).is_err());
    // One offender of 297: ⌊3e9/297⌋ = 10,101,010 ppb, squared: 102,030 ppb.
    assert_eq!(polkadot_equivocation_slash_ppb(1, 297).unwrap(), 102_030);
    assert_eq!(polkadot_equivocation_slash_ppb(100, 297).unwrap(), 1_000_000_000);
}

#[test]
fn cosmos_inflation_holds_at_the_goal_and_mints_the_block_provision() {
    let m = CosmosMint::default();
    assert_eq!(
        cosmos_next_inflation(&m, m.inflation_wad, m.goal_bonded_wad).unwrap(),
        m.inflation_wad
    );
    // Below the goal inflation rises, above it falls, within [7 %, 20 %].
    assert!(cosmos_next_inflation(&m, m.inflation_wad, u(WAD / 3)).unwrap() > m.inflation_wad);
    assert_eq!(
        cosmos_next_inflation(&m, m.inflation_min_wad, u(WAD)).unwrap(),
        m.inflation_min_wad
    );
    // 13 % of 480 M ATOM over 6,311,520 blocks: ⌊6.24e13 / 6,311,520⌋ = 9,886,683 uatom.
    assert_eq!(
        cosmos_block_provision(m.inflation_wad, u(480_000_000 * 1_000_000), m.blocks_per_year).unwrap(),
        u(9_886_683)
    );
}

#[test]
fn sui_subsidy_drops_ten_percent_every_thirty_epochs() {
    let a = u(1_000_000 * SOL);
    assert_eq!(sui_subsidy_step(a, 28, 30, 1_000).unwrap(), (a, a, 29));
    assert_eq!(sui_subsidy_step(a, 29, 30, 1_000).unwrap(), (a, u(900_000 * SOL), 30));
}

#[test]
fn solana_warm_up_activates_at_most_9_percent_of_effective_stake_per_epoch() {
    let mut ledger = Ledger::new();
    let sol = ledger.register_asset("SOL", 9, "native", AssetKind::Plain).unwrap();
    let alice = ledger.account("alice");
    ledger.mint(alice, sol, u(500 * SOL)).unwrap();
    let mut p = GenericParams::solana();
    p.reward = RewardModel::NoRewards;
    p.mev_tips_per_epoch = U256::ZERO;
    p.external_stake = u(1_000 * SOL);
    let mut chain = GenericChain::new(p, &mut ledger, 0).unwrap();
    chain.stake(&mut ledger, alice, u(500 * SOL), "v1", alice, 0).unwrap();
    assert_eq!(chain.stake_of(alice, "v1"), (U256::ZERO, u(500 * SOL)));
    chain.advance_to(&mut ledger, 172_800).unwrap();
    // 9 % of 1,000 SOL effective.
    assert_eq!(chain.stake_of(alice, "v1"), (u(90 * SOL), u(410 * SOL)));
    chain.advance_to(&mut ledger, 2 * 172_800).unwrap();
    // 9 % of 1,090 SOL = 98.1 SOL more.
    assert_eq!(chain.stake_of(alice, "v1"), (u(188_100_000_000), u(311_900_000_000)));
    chain.check_invariants(&ledger).unwrap();
    ledger.check_conservation().unwrap();
}

#[test]
fn solana_rejects_slashing_and_cosmos_jails_for_downtime() {
    let mut ledger = Ledger::new();
    let sol = ledger.register_asset("SOL", 9, "native", AssetKind::Plain).unwrap();
    ledger.register_asset("ATOM", 6, "native", AssetKind::Plain).unwrap();
    let alice = ledger.account("alice");
    ledger.mint(alice, sol, u(10 * SOL)).unwrap();
    let mut chain = GenericChain::new(GenericParams::solana(), &mut ledger, 0).unwrap();
    chain.stake(&mut ledger, alice, u(10 * SOL), "v1", alice, 0).unwrap();
    let before = (state_hash(&ledger), state_hash(&chain));
    assert_eq!(
        chain.slash(&mut ledger, "v1", Offence::DoubleSign, 0).unwrap_err(),
        L0Error::SlashingDisabled {
            chain: "solana".to_string()
        }
    );
    assert_eq!((state_hash(&ledger), state_hash(&chain)), before);

    let atom = ledger.asset("ATOM").unwrap();
    ledger.mint(alice, atom, u(1_000_000_000)).unwrap();
    let mut p = GenericParams::cosmos("ATOM");
    p.external_stake = U256::ZERO;
    let mut cosmos = GenericChain::new(p, &mut ledger, 0).unwrap();
    cosmos
        .stake(&mut ledger, alice, u(1_000_000_000), "v1", alice, 0)
        .unwrap();
    let ev = cosmos.slash(&mut ledger, "v1", Offence::Downtime, 0).unwrap();
    // 0.01 % of 1,000 ATOM = 0.1 ATOM.
    assert_eq!(
        ev,
        vec![stake_l0::L0Event::StakeSlashed {
            operator: "v1".to_string(),
            amount: u(100_000)
        }]
    );
    assert!(cosmos.is_jailed("v1"));
    // Jailed through epoch 0: no reward.
    assert_eq!(cosmos.advance_to(&mut ledger, 86_400).unwrap(), vec![]);
    assert!(!cosmos.is_jailed("v1"));
    cosmos.check_invariants(&ledger).unwrap();
    ledger.check_conservation().unwrap();
}

#[test]
fn bitcoin_outputs_are_spendable_only_after_their_timelock() {
    let mut ledger = Ledger::new();
    let btc = ledger.register_asset("BTC", 8, "native", AssetKind::Plain).unwrap();
    let alice = ledger.account("alice");
    let bob = ledger.account("bob");
    ledger.mint(alice, btc, u(100_000_000)).unwrap();
    let mut chain = Bitcoin::new(BitcoinParams::default(), &mut ledger, 0).unwrap();
    assert_eq!(
        chain.lock(&mut ledger, alice, u(1), 65_536, 0).unwrap_err(),
        BitcoinError::InvalidTimelock { blocks: 65_536 }
    );
    let id = chain.lock(&mut ledger, alice, u(100_000_000), 1_008, 0).unwrap();
    let before = (state_hash(&ledger), state_hash(&chain));
    assert_eq!(
        chain.spend(&mut ledger, id, alice, 1_007 * 600).unwrap_err(),
        BitcoinError::StillLocked {
            id,
            height: 1_007,
            spendable_at: 1_008
        }
    );
    assert_eq!(
        chain.spend(&mut ledger, id, bob, 1_008 * 600).unwrap_err(),
        BitcoinError::NotOwner { id }
    );
    assert_eq!((state_hash(&ledger), state_hash(&chain)), before);
    chain.check_invariants(&ledger).unwrap();
    assert_eq!(
        chain.spend(&mut ledger, id, alice, 1_008 * 600).unwrap(),
        u(100_000_000)
    );
    assert_eq!(ledger.balance(alice, btc), u(100_000_000));
    chain.check_invariants(&ledger).unwrap();
}

#[test]
fn solana_stake_earns_its_share_of_inflation_and_tips_less_commission() {
    let mut ledger = Ledger::new();
    let sol = ledger.register_asset("SOL", 9, "native", AssetKind::Plain).unwrap();
    let alice = ledger.account("alice");
    ledger.mint(alice, sol, u(1_000 * SOL)).unwrap();
    let mut p = GenericParams::solana();
    if let RewardModel::Solana(s) = &mut p.reward {
        s.years_at_genesis_wad = u(30 * WAD); // the 1.5 % terminal rate
    }
    let mut chain = GenericChain::new(p, &mut ledger, 0).unwrap();
    chain.stake(&mut ledger, alice, u(1_000 * SOL), "v1", alice, 0).unwrap();
    // Epoch 0: the stake warms up and earns nothing; the pool goes to the other 400 M SOL.
    assert_eq!(chain.advance_to(&mut ledger, 172_800).unwrap().len(), 0);
    chain.advance_to(&mut ledger, 2 * 172_800).unwrap();
    // Epoch years ⌊172,800·1e22/315,569,259,936⌋ = 5,475,818,526,653,871; the epoch-1 pool
    // ⌊cap·1.5 %·years⌋ = 49,286,414,659,337 lamports on the grown capitalization; the share
    // of 1,000 SOL: 123,198,085 of it and 19,997,086 of the 8,000 SOL tips; commissions 5 % and
    // 8 %: 7,759,670 to the operator, 135,435,499 compounded.
    assert_eq!(chain.last_pool(), u(49_286_414_659_337));
    assert_eq!(chain.stake_of(alice, "v1"), (u(1_000 * SOL + 135_435_499), U256::ZERO));
    let op = chain.commission_account(&mut ledger, "v1");
    assert_eq!(ledger.balance(op, sol), u(7_759_670));
    chain.check_invariants(&ledger).unwrap();
    ledger.check_conservation().unwrap();
}
