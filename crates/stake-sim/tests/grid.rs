//! Grid keys and values: what `stakestack sweep --set` and the Python package apply.

use stake_sim::grid::{grid, parse_key, parse_set, point_text, set, Seg};

#[test]
fn keys_values_and_grids_parse() {
    assert_eq!(
        parse_key("lending.morpho[0].lltv").unwrap(),
        vec![
            Seg {
                key: "lending".into(),
                index: None
            },
            Seg {
                key: "morpho".into(),
                index: Some(0)
            },
            Seg {
                key: "lltv".into(),
                index: None
            }
        ]
    );
    assert!(parse_key("a..b").is_err());
    assert!(parse_key("a[x]").is_err());
    let (k, v) = parse_set("events[2].fraction=5%, 10%").unwrap();
    assert_eq!(
        (k.as_str(), v),
        ("events[2].fraction", vec!["5%".to_string(), "10%".into()])
    );
    assert!(parse_set("x=").is_err() && parse_set("x").is_err() && parse_set("x=1,,2").is_err());
    let g = grid(&[
        ("a".into(), vec!["1".into(), "2".into()]),
        ("b".into(), vec!["x".into(), "y".into(), "z".into()]),
    ]);
    assert_eq!(g.len(), 6);
    assert_eq!(g[0], vec!["1", "x"]);
    assert_eq!(g[5], vec!["2", "z"]);
}

#[test]
fn set_keeps_types_and_names_what_is_missing() {
    let mut t: toml::Table = "[clock]\nseed = 1\n[[events]]\nfraction = \"5%\"\n".parse().unwrap();
    set(&mut t, "clock.seed", "9").unwrap();
    assert_eq!(t["clock"]["seed"], toml::Value::Integer(9));
    set(&mut t, "events[0].fraction", "10%").unwrap();
    assert_eq!(t["events"][0]["fraction"].as_str(), Some("10%"));
    set(&mut t, "clock.paths", "3").unwrap();
    assert_eq!(t["clock"]["paths"], toml::Value::Integer(3));
    let e = set(&mut t, "clock.seed", "ten").unwrap_err();
    assert_eq!(
        e.to_string(),
        "`clock.seed` is an integer in the scenario; `ten` is not"
    );
    assert_eq!(
        format!("{e:#}"),
        "`clock.seed` is an integer in the scenario; `ten` is not: invalid digit found in string"
    );
    let e = set(&mut t, "events[3].fraction", "1%").unwrap_err().to_string();
    assert_eq!(e, "`events[3].fraction`: `events` has 1 entries (0 to 0)");
    let e = set(&mut t, "lending.morpho[0].lltv", "80%").unwrap_err().to_string();
    assert_eq!(e, "`lending.morpho[0].lltv`: the scenario has no `lending`");
    let e = set(&mut t, "clock.seed.x", "1").unwrap_err().to_string();
    assert_eq!(e, "`clock.seed.x`: `clock.seed` is not a table");
}

#[test]
fn a_point_text_names_the_point_and_carries_its_values() {
    let base: toml::Table = "[clock]\nseed = 1\n".parse().unwrap();
    let t = point_text(&base, &["clock.seed".into()], &["5".into()], 2, "x.toml").unwrap();
    assert!(t.starts_with("# Point 2 of a sweep of x.toml: clock.seed=5\n"), "{t}");
    let back: toml::Table = t.parse().unwrap();
    assert_eq!(back["clock"]["seed"], toml::Value::Integer(5));
}
