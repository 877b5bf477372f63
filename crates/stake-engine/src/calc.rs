//! `stakestack calc`: one JSON request per line, `{"fn": NAME, "args": {...}}` with integers as
//! decimal strings; one answer per line, `{"ok": {...}}` or `{"err": {"code": N, "message": "..."}}`.
//! A bad request gets an `err` answer; the stream continues.

use serde_json::{json, Map, Value};
use stake_ledger::Reject;
use stake_math::{parse_i256, parse_u256, MathError, I256, U256};

/// A calc error: stable code and message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CalcError {
    /// Stable code: 9100 bad JSON, 9101 unknown fn, 9102 missing/invalid arg, else the
    /// protocol's own rejection code.
    pub code: u32,
    /// Message.
    pub message: String,
}

impl<E: Reject> From<E> for CalcError {
    fn from(e: E) -> Self {
        CalcError {
            code: e.code(),
            message: e.to_string(),
        }
    }
}

fn arg_err(name: &str, why: &str) -> CalcError {
    CalcError {
        code: 9102,
        message: format!("argument `{name}`: {why}"),
    }
}

/// Typed access to a request's `args`.
pub struct Args<'a>(&'a Map<String, Value>);

impl Args<'_> {
    fn raw(&self, name: &str) -> Result<&Value, CalcError> {
        self.0.get(name).ok_or_else(|| arg_err(name, "missing"))
    }
    /// An argument as raw JSON (for structured arguments such as a graph).
    pub fn value(&self, name: &str) -> Result<&Value, CalcError> {
        self.raw(name)
    }
    /// An unsigned 256-bit integer given as a decimal string (or a JSON integer).
    pub fn u256(&self, name: &str) -> Result<U256, CalcError> {
        match self.raw(name)? {
            Value::String(s) => parse_u256(s).map_err(|e| arg_err(name, &math_msg(e, s))),
            Value::Number(n) if n.is_u64() => Ok(U256::from(n.as_u64().unwrap_or(0))),
            _ => Err(arg_err(name, "expected a non-negative integer as a decimal string")),
        }
    }
    /// A signed 256-bit integer given as a decimal string.
    pub fn i256(&self, name: &str) -> Result<I256, CalcError> {
        match self.raw(name)? {
            Value::String(s) => parse_i256(s).map_err(|e| arg_err(name, &math_msg(e, s))),
            Value::Number(n) if n.is_i64() => Ok(I256::from(n.as_i64().unwrap_or(0))),
            _ => Err(arg_err(name, "expected an integer as a decimal string")),
        }
    }
    /// A `u64` (decimal string or JSON integer).
    pub fn u64(&self, name: &str) -> Result<u64, CalcError> {
        let v = self.u256(name)?;
        u64::try_from(v).map_err(|_| arg_err(name, "does not fit in 64 bits"))
    }
    /// A boolean.
    pub fn bool(&self, name: &str) -> Result<bool, CalcError> {
        self.raw(name)?
            .as_bool()
            .ok_or_else(|| arg_err(name, "expected true or false"))
    }
    /// A list of unsigned integers.
    pub fn u256_list(&self, name: &str) -> Result<Vec<U256>, CalcError> {
        let arr = self
            .raw(name)?
            .as_array()
            .ok_or_else(|| arg_err(name, "expected a list"))?;
        arr.iter()
            .map(|v| match v {
                Value::String(s) => parse_u256(s).map_err(|e| arg_err(name, &math_msg(e, s))),
                _ => Err(arg_err(name, "expected decimal strings")),
            })
            .collect()
    }
}

fn math_msg(e: MathError, s: &str) -> String {
    match e {
        MathError::Overflow => format!("`{}` does not fit in 256 bits", crate::amount::clip(s)),
        _ => format!("`{}` is not a decimal integer", crate::amount::clip(s)),
    }
}

/// Decimal string of a 256-bit value.
pub fn d<T: ToString>(v: T) -> Value {
    Value::String(v.to_string())
}

/// A calc function.
pub type CalcFn = fn(&Args) -> Result<Value, CalcError>;

/// Every calc function: name, argument names (for `--list`), implementation.
pub fn functions() -> Vec<(&'static str, &'static str, CalcFn)> {
    let mut v: Vec<(&'static str, &'static str, CalcFn)> = vec![
        ("math.ln_wad", "{x} -> {y}", |a| {
            Ok(json!({ "y": d(stake_math::logexp::ln(a.i256("x")?)?) }))
        }),
        ("math.exp_wad", "{x} -> {y}", |a| {
            Ok(json!({ "y": d(stake_math::logexp::exp(a.i256("x")?)?) }))
        }),
        ("math.mul_div_down", "{a, b, d} -> {value}", |a| {
            Ok(json!({ "value": d(stake_math::mul_div_down(a.u256("a")?, a.u256("b")?, a.u256("d")?)?) }))
        }),
        ("math.mul_div_up", "{a, b, d} -> {value}", |a| {
            Ok(json!({ "value": d(stake_math::mul_div_up(a.u256("a")?, a.u256("b")?, a.u256("d")?)?) }))
        }),
    ];
    v.extend(crate::calc_fns::protocol_functions());
    v
}

/// Answers one request line.
pub fn answer(line: &str) -> Value {
    answer_with(line, &[])
}

/// Answers one request line, with functions of outer crates (e.g. the risk analytics) beside the
/// engine's.
pub fn answer_with(line: &str, extra: &[(&'static str, &'static str, CalcFn)]) -> Value {
    match eval(line, extra) {
        Ok(v) => json!({ "ok": v }),
        Err(e) => error_answer(e.code, &e.message),
    }
}

/// The longest message an `err` answer carries: every message names what was wrong, but never
/// repeats a huge request back in full.
pub const MAX_MESSAGE: usize = 512;

/// An `err` answer line.
pub fn error_answer(code: u32, message: &str) -> Value {
    let message = match message.char_indices().nth(MAX_MESSAGE) {
        None => message.to_string(),
        Some((i, _)) => format!("{}…", &message[..i]),
    };
    json!({ "err": { "code": code, "message": message } })
}

fn eval(line: &str, extra: &[(&'static str, &'static str, CalcFn)]) -> Result<Value, CalcError> {
    let req: Value = serde_json::from_str(line).map_err(|e| CalcError {
        code: 9100,
        message: format!("not a JSON object: {e}"),
    })?;
    let name = req.get("fn").and_then(Value::as_str).ok_or_else(|| CalcError {
        code: 9100,
        message: "request needs a string field `fn`".into(),
    })?;
    let empty = Map::new();
    let args = match req.get("args") {
        None => &empty,
        Some(Value::Object(m)) => m,
        Some(_) => {
            return Err(CalcError {
                code: 9100,
                message: "`args` must be an object".into(),
            })
        }
    };
    let f = functions()
        .into_iter()
        .chain(extra.iter().copied())
        .find(|(n, _, _)| *n == name)
        .map(|(_, _, f)| f)
        .ok_or_else(|| CalcError {
            code: 9101,
            message: format!(
                "unknown function `{}` (see `stakestack calc --list`)",
                crate::amount::clip(name)
            ),
        })?;
    f(&Args(args))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chain_reward_formulas_answer_and_reject_bad_arguments() {
        let ask = answer;
        // 2.5 % + 7.5 % · ⌊0.5/0.75⌋ (two floors).
        assert_eq!(
            ask(r#"{"fn":"polkadot.inflation","args":{"staking_ratio_ppm":"500000"}}"#)["ok"]["inflation_wad"],
            "74999999999999999"
        );
        assert_eq!(
            ask(r#"{"fn":"solana.inflation_rate","args":{"year_wad":"0"}}"#)["ok"]["rate_wad"],
            "80000000000000000"
        );
        assert_eq!(
            ask(r#"{"fn":"polkadot.equivocation_slash","args":{"offenders":"1","validators":"297"}}"#)["ok"]
                ["fraction_ppb"],
            "102030"
        );
        assert_eq!(
            ask(
                r#"{"fn":"cosmos.block_provision","args":{"inflation_wad":"130000000000000000","supply":"480000000000000"}}"#
            )["ok"]["provision"],
            "9886683"
        );
        // A staking ratio above 100 % is outside the curve's domain (math code 103).
        assert_eq!(
            ask(r#"{"fn":"polkadot.inflation","args":{"staking_ratio_ppm":"1000001"}}"#)["err"]["code"],
            103
        );
        assert_eq!(
            ask(r#"{"fn":"polkadot.equivocation_slash","args":{"offenders":"3"}}"#)["err"]["code"],
            9102
        );
    }

    #[test]
    fn bad_requests_get_err_lines() {
        assert_eq!(answer("nonsense")["err"]["code"], 9100);
        assert_eq!(answer(r#"{"fn":"nope"}"#)["err"]["code"], 9101);
        assert_eq!(
            answer(r#"{"fn":"math.mul_div_down","args":{"a":"1","b":"2"}}"#)["err"]["code"],
            9102
        );
        assert_eq!(
            answer(r#"{"fn":"math.mul_div_down","args":{"a":"-1","b":"2","d":"1"}}"#)["err"]["code"],
            9102
        );
        assert_eq!(
            answer(r#"{"fn":"math.mul_div_down","args":{"a":"1","b":"2","d":"0"}}"#)["err"]["code"],
            102
        );
        assert_eq!(
            answer(r#"{"fn":"math.mul_div_up","args":{"a":"7","b":"3","d":"2"}}"#)["ok"]["value"],
            "11"
        );
    }
}
