//! Folding per-path summaries into one summary of distributions.

use crate::percentile::Percentiles;
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;

/// Top-level keys that describe the run, not a path: kept as they are.
const RUN_KEYS: [&str; 7] = ["scenario", "scenario_hash", "seed", "version", "start", "end", "steps"];

/// Top-level lists of records (one per event): a path has as many as happened, so they are
/// counted, not aligned.
const RECORD_LISTS: [&str; 1] = ["rejected"];

/// How many distinct values of a non-numeric leaf are kept when paths disagree.
const MAX_DISTINCT: usize = 8;

/// Records kept from path 0 of each record list.
const MAX_RECORDS: usize = 20;

/// Per record list: the number of records of each path, and per code the number of each path.
type RecordCounts = (Vec<f64>, BTreeMap<String, Vec<f64>>);

#[derive(Default)]
struct Leaf {
    /// The numeric value of each path that had one.
    nums: Vec<f64>,
    /// Paths where the leaf was absent or not a number.
    missing: u64,
    /// Distinct non-numeric values seen (capped).
    distinct: Vec<Value>,
}

/// Folds the `summary.json` of each path, in path order, into one `summary.json` whose every
/// numeric figure is a [`Percentiles`] object across paths (SPEC §9, docs/outputs.md).
///
/// Rules, leaf by leaf (a leaf is named by its JSON pointer; arrays align by position, and the
/// shape is path 0's):
/// - a number, or a decimal-integer string (exact wei amounts, wad rates), becomes
///   `{p1, p5, p50, p95, p99, mean, min, max}` over the paths where it is a number, with
///   `missing: k` when `k` paths had none (e.g. no borrower left to have a health factor);
/// - any other value is kept when every path agrees, else becomes `{"distinct": [...]}`;
/// - the run keys (`scenario`, `seed`, `steps`, …) stay as they are; `final_state_hash` gives
///   way to `state_hashes` (every path's, in path order);
/// - a record list (`rejected`) becomes `{count, by_code, first_path}`: the number of records
///   per path, the number per rejection code per path, and path 0's first records.
///
/// Memory is one float per numeric leaf per path, not the paths' series.
#[derive(Default)]
pub struct SummaryAggregate {
    template: Option<Value>,
    leaves: BTreeMap<String, Leaf>,
    /// Per record list: count per path, and per code the count per path.
    records: BTreeMap<String, RecordCounts>,
    state_hashes: Vec<String>,
    seeds: Vec<u64>,
    paths: u64,
}

fn number(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) if !s.is_empty() && s.len() <= 78 && s.bytes().all(|b| b.is_ascii_digit()) => s.parse().ok(),
        _ => None,
    }
}

fn walk(v: &Value, ptr: &mut String, f: &mut dyn FnMut(&str, &Value)) {
    match v {
        Value::Object(m) => {
            for (k, x) in m {
                let len = ptr.len();
                ptr.push('/');
                ptr.push_str(&k.replace('~', "~0").replace('/', "~1"));
                walk(x, ptr, f);
                ptr.truncate(len);
            }
        }
        Value::Array(a) => {
            for (i, x) in a.iter().enumerate() {
                let len = ptr.len();
                ptr.push('/');
                ptr.push_str(&i.to_string());
                walk(x, ptr, f);
                ptr.truncate(len);
            }
        }
        leaf => f(ptr, leaf),
    }
}

impl SummaryAggregate {
    /// An empty aggregate.
    pub fn new() -> Self {
        Self::default()
    }

    /// Paths added so far.
    pub fn paths(&self) -> u64 {
        self.paths
    }

    /// Adds the next path's summary (as `serde_json::to_value(&Summary)` gives it) and its seed.
    pub fn add(&mut self, mut summary: Value, seed: u64) {
        let index = self.paths;
        self.paths += 1;
        self.seeds.push(seed);
        if let Some(m) = summary.as_object_mut() {
            if let Some(Value::String(h)) = m.remove("final_state_hash") {
                self.state_hashes.push(h);
            }
            for k in RUN_KEYS {
                if index > 0 {
                    m.remove(k);
                }
            }
            for k in RECORD_LISTS {
                let list = m.remove(k).unwrap_or(Value::Null);
                let recs = list.as_array().cloned().unwrap_or_default();
                let (counts, by_code) = self.records.entry(k.to_string()).or_default();
                counts.push(recs.len() as f64);
                let mut here: BTreeMap<String, f64> = BTreeMap::new();
                for r in &recs {
                    let code = r.get("code").map(|c| c.to_string()).unwrap_or_else(|| "?".into());
                    *here.entry(code).or_default() += 1.0;
                }
                // Every code seen so far gets a value for this path (0 if it did not occur);
                // a code first seen now gets zeros for the paths before.
                for (code, n) in &here {
                    by_code
                        .entry(code.clone())
                        .or_insert_with(|| vec![0.0; usize::try_from(index).unwrap_or(0)])
                        .push(*n);
                }
                for (code, v) in by_code.iter_mut() {
                    if !here.contains_key(code) {
                        v.push(0.0);
                    }
                }
                if index == 0 {
                    m.insert(
                        k.to_string(),
                        Value::Array(recs.into_iter().take(MAX_RECORDS).collect()),
                    );
                }
            }
        }
        let mut seen = std::collections::BTreeSet::new();
        let mut ptr = String::new();
        walk(&summary, &mut ptr, &mut |p, v| {
            if p.split('/')
                .nth(1)
                .is_some_and(|top| RUN_KEYS.contains(&top) || RECORD_LISTS.contains(&top))
            {
                return;
            }
            seen.insert(p.to_string());
            let leaf = self.leaves.entry(p.to_string()).or_insert_with(|| Leaf {
                missing: index,
                ..Leaf::default()
            });
            match number(v) {
                Some(x) => leaf.nums.push(x),
                None => {
                    leaf.missing += 1;
                    if !v.is_null() && leaf.distinct.len() < MAX_DISTINCT && !leaf.distinct.contains(v) {
                        leaf.distinct.push(v.clone());
                    }
                }
            }
        });
        for (p, leaf) in self.leaves.iter_mut() {
            if !seen.contains(p) {
                leaf.missing += 1;
            }
        }
        if index == 0 {
            self.template = Some(summary);
        }
    }

    /// The aggregated summary (see the type's rules). `Value::Null` before any path.
    pub fn finish(&self) -> Value {
        let Some(t) = &self.template else {
            return Value::Null;
        };
        let mut out = t.clone();
        let mut ptr = String::new();
        self.replace(&mut out, &mut ptr, 0);
        if let Some(m) = out.as_object_mut() {
            m.insert("paths".into(), json!(self.paths));
            m.insert("state_hashes".into(), json!(self.state_hashes));
            m.insert("path_seeds".into(), json!(self.seeds));
            for k in RECORD_LISTS {
                let Some((counts, by_code)) = self.records.get(k) else {
                    continue;
                };
                let first = m.remove(k).unwrap_or(Value::Array(Vec::new()));
                let mut codes: Vec<_> = by_code.iter().collect();
                codes.sort_by(|a, b| a.0.cmp(b.0));
                let by_code: Map<String, Value> = codes
                    .into_iter()
                    .map(|(c, v)| (c.trim_matches('"').to_string(), json!(Percentiles::of(v))))
                    .collect();
                m.insert(
                    k.into(),
                    json!({ "count": Percentiles::of(counts), "by_code": by_code, "first_path": first }),
                );
            }
        }
        out
    }

    fn replace(&self, v: &mut Value, ptr: &mut String, depth: usize) {
        match v {
            Value::Object(m) => {
                for (k, x) in m.iter_mut() {
                    if depth == 0 && (RUN_KEYS.contains(&k.as_str()) || RECORD_LISTS.contains(&k.as_str())) {
                        continue;
                    }
                    let len = ptr.len();
                    ptr.push('/');
                    ptr.push_str(&k.replace('~', "~0").replace('/', "~1"));
                    self.replace(x, ptr, depth + 1);
                    ptr.truncate(len);
                }
            }
            Value::Array(a) => {
                for (i, x) in a.iter_mut().enumerate() {
                    let len = ptr.len();
                    ptr.push('/');
                    ptr.push_str(&i.to_string());
                    self.replace(x, ptr, depth + 1);
                    ptr.truncate(len);
                }
            }
            leaf => {
                let Some(l) = self.leaves.get(ptr.as_str()) else { return };
                if let Some(p) = Percentiles::of(&l.nums) {
                    let mut o = serde_json::to_value(p).unwrap_or(Value::Null);
                    if l.missing > 0 {
                        if let Some(m) = o.as_object_mut() {
                            m.insert("missing".into(), json!(l.missing));
                        }
                    }
                    *leaf = o;
                } else if l.distinct.len() > 1 {
                    *leaf = json!({ "distinct": l.distinct });
                }
            }
        }
    }
}
