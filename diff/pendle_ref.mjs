// Differential-test oracle for stakestack (test-only; see crates/stake-math/tests/logexp_diff.rs and
// crates/stake-markets/tests/pendle_diff.rs). Reads one JSON request per line on stdin and writes
// one JSON answer per line on stdout, using the reference implementation published by Pendle
// (@pendle/core-v2-offchain-math, pinned in package.json). All numbers are decimal strings.
//
// Requests:
//   {"op":"ln","x":"…"}                 -> {"ok":"…"} | {"err":"<ErrorClass>"}
//   {"op":"exp","x":"…"}                -> {"ok":"…"} | {"err":"<ErrorClass>"}
//   {"op":"swapExactPtForSy"|"swapSyForExactPt", "totalPt","totalSy","totalLp","scalarRoot",
//    "lnFeeRateRoot","reserveFeePercent","lastLnImpliedRate","pyIndex","timeToExpiry","amount"}
//     -> {"ok":{"netSy":…,"netSyFee":…,"netSyToReserve":…,"lnImpliedRate":…,
//               "preFeeRate":…,"newRate":…}} | {"err":"<ErrorClass>"}
//   preFeeRate / newRate are the market exchange rates of the trade and of the state after it:
//   the on-chain MarketMathCore also rejects either being < 1, which the offchain library omits.
import * as readline from 'node:readline';
import { createRequire } from 'node:module';

// The package's ESM build uses directory imports that Node cannot resolve: load its CommonJS build.
const require = createRequire(import.meta.url);
const { FixedX18, MarketState, PyIndex } = require('@pendle/core-v2-offchain-math');

const BLOCK_TIME = 1_700_000_000n;

function errName(e) {
  return (e && e.constructor && e.constructor.name) || 'Error';
}

function market(req) {
  const tte = BigInt(req.timeToExpiry);
  const state = new MarketState(
    BigInt(req.totalPt),
    BigInt(req.totalSy),
    BigInt(req.totalLp),
    '0x0000000000000000000000000000000000000000',
    FixedX18.fromRawValue(BigInt(req.scalarRoot)),
    BLOCK_TIME + tte,
    FixedX18.fromRawValue(BigInt(req.lnFeeRateRoot)),
    BigInt(req.reserveFeePercent),
    FixedX18.fromRawValue(BigInt(req.lastLnImpliedRate)),
  );
  const index = PyIndex.create(BigInt(req.pyIndex));
  const amount = BigInt(req.amount);
  const netPtToAccount = req.op === 'swapExactPtForSy' ? -amount : amount;

  // Exchange rate of the trade itself, from the pre-trade state (same call path as the library).
  const comp = state.precompute(index, BLOCK_TIME);
  const preFeeRate = MarketState.getExchangeRate({
    totalPt: state.totalPt,
    totalAsset: comp.totalAsset,
    rateScalar: comp.rateScalar,
    rateAnchor: comp.rateAnchor,
    netPtToAccount,
  }).rate.value;

  let out;
  let netSy;
  if (req.op === 'swapExactPtForSy') {
    out = state.swapExactPtForSy(index, amount, BLOCK_TIME);
    netSy = out.netSyToAccount;
  } else {
    out = state.swapSyForExactPt(index, amount, BLOCK_TIME);
    netSy = out.netSyToMarket;
  }
  const newRate = MarketState.getExchangeRate({
    totalPt: state.totalPt,
    totalAsset: index.convert({ sy: state.totalSy }).asset,
    rateScalar: comp.rateScalar,
    rateAnchor: comp.rateAnchor,
    netPtToAccount: 0n,
  }).rate.value;
  return {
    netSy: netSy.toString(),
    netSyFee: out.netSyFee.toString(),
    netSyToReserve: out.netSyToReserve.toString(),
    lnImpliedRate: state.lastLnImpliedRate.value.toString(),
    preFeeRate: preFeeRate.toString(),
    newRate: newRate.toString(),
  };
}

function answer(req) {
  try {
    switch (req.op) {
      case 'ln':
        return { ok: FixedX18.fromRawValue(BigInt(req.x)).ln().value.toString() };
      case 'exp':
        return { ok: FixedX18.fromRawValue(BigInt(req.x)).exp().value.toString() };
      case 'swapExactPtForSy':
      case 'swapSyForExactPt':
        return { ok: market(req) };
      default:
        return { err: `UnknownOp:${req.op}` };
    }
  } catch (e) {
    return { err: errName(e) };
  }
}

const rl = readline.createInterface({ input: process.stdin, crlfDelay: Infinity });
const out = [];
rl.on('line', (line) => {
  if (line.trim() === '') return;
  out.push(JSON.stringify(answer(JSON.parse(line))));
  if (out.length >= 1024) {
    process.stdout.write(out.join('\n') + '\n');
    out.length = 0;
  }
});
rl.on('close', () => {
  if (out.length > 0) process.stdout.write(out.join('\n') + '\n');
});
