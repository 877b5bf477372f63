//! The scenario loader on mutated shipped scenarios (proptest, in the normal suite): every edit —
//! a value replaced by an edge value or by arbitrary text, a line deleted, duplicated or inserted —
//! gives `Ok` or an error that points at a line. Never a panic.

use proptest::prelude::*;
use stake_engine::runner::validate;
use stake_engine::scenario::locate;

const SCENARIOS: [&str; 4] = [
    include_str!("../../../scenarios/eth-staking-basics.toml"),
    include_str!("../../../scenarios/lst-markets.toml"),
    include_str!("../../../scenarios/avs-slashing.toml"),
    include_str!("../../../scenarios/restaking-markets-of-security.toml"),
];

/// Values a careless person types, at the edges of every parser.
const EDGES: [&str; 22] = [
    "\"0\"",
    "\"-1\"",
    "\"1e9223372036854775807 ETH\"",
    "\"1e-9223372036854775808 ETH\"",
    "\"590295810358705651744 ETH\"",
    "\"1e30 ETH\"",
    "\"1000\u{a0}ETH\"",
    "\"\u{3c3}\u{3c4}ETH\"",
    "\"day 18446744073709551615\"",
    "\"+18446744073709551615s\"",
    "\"18446744073709551615s\"",
    "\"1000%\"",
    "\"2/0\"",
    "\"all\"",
    "\"\"",
    "18446744073709551615",
    "-1",
    "1.5",
    "true",
    "[]",
    "{}",
    "\"alicee\"",
];

#[derive(Clone, Debug)]
enum Edit {
    Edge(usize, usize),
    Text(usize, String),
    Delete(usize),
    Duplicate(usize),
    Insert(usize, String),
}

fn edit() -> impl Strategy<Value = Edit> {
    prop_oneof![
        (any::<usize>(), 0..EDGES.len()).prop_map(|(l, v)| Edit::Edge(l, v)),
        (any::<usize>(), "\\PC{0,12}").prop_map(|(l, t)| Edit::Text(l, t)),
        any::<usize>().prop_map(Edit::Delete),
        any::<usize>().prop_map(Edit::Duplicate),
        (any::<usize>(), "\\PC{0,24}").prop_map(|(l, t)| Edit::Insert(l, t)),
    ]
}

fn apply(text: &str, edits: &[Edit]) -> String {
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    for e in edits {
        if lines.is_empty() {
            break;
        }
        let n = lines.len();
        match e {
            Edit::Edge(l, _) | Edit::Text(l, _) if lines[l % n].contains('=') => {
                let value = match e {
                    Edit::Edge(_, v) => EDGES[*v].to_string(),
                    Edit::Text(_, t) => format!("\"{}\"", t.replace(['"', '\\'], "")),
                    _ => String::new(),
                };
                let key = lines[l % n].split('=').next().unwrap_or_default().to_string();
                lines[l % n] = format!("{key}= {value}");
            }
            Edit::Delete(l) => {
                lines.remove(l % n);
            }
            Edit::Duplicate(l) => {
                let line = lines[l % n].clone();
                lines.insert(l % n, line);
            }
            Edit::Insert(l, t) => lines.insert(l % n, t.clone()),
            _ => {}
        }
    }
    lines.join("\n")
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn mutated_scenarios_check_or_point_at_a_line(
        pick in 0..SCENARIOS.len(),
        edits in prop::collection::vec(edit(), 1..4),
    ) {
        let text = apply(SCENARIOS[pick], &edits);
        if let Err(e) = validate(&text) {
            let line = e.line.or_else(|| locate(&text, &e.path));
            prop_assert!(
                line.is_some() || e.path.is_empty(),
                "an error at `{}` that points at no line: {}", e.path, e.message
            );
            prop_assert!(!e.message.is_empty());
        }
    }
}
