//! `stakestack calc` answers the restaking-network security functions (`risk.*`) on the paper's
//! graphs, and refuses bad graphs with an `err` line.
#![allow(clippy::unwrap_used, clippy::panic)]

use crate::common::calc;

/// Twelve operators of stake 1, α = 1: six0, six1 and four triangles, every π = 2.
fn twelve() -> String {
    let mut services = vec![
        r#"{"profit":"2","threshold_wad":"1000000000000000000","operators":["0","1","2","3","4","5"]}"#.to_string(),
        r#"{"profit":"2","threshold_wad":"1000000000000000000","operators":["6","7","8","9","10","11"]}"#.to_string(),
    ];
    for k in 0..4 {
        let ops: Vec<String> = (0..3).map(|i| format!("\"{}\"", (3 * k + 3 + i) % 12)).collect();
        services.push(format!(
            r#"{{"profit":"2","threshold_wad":"1000000000000000000","operators":[{}]}}"#,
            ops.join(",")
        ));
    }
    format!(
        r#""operators":[{}],"services":[{}]"#,
        ["\"1\""; 12].join(","),
        services.join(",")
    )
}

#[test]
fn risk_functions_answer_the_papers_graphs() {
    let g2 = r#""operators":["5","95"],"services":[{"profit":"100","threshold_wad":"1000000000000000000","operators":["0","1"]}]"#;
    let t = twelve();
    let out = calc(&format!(
        "{{\"fn\":\"risk.attack\",\"args\":{{{g2}}}}}\n\
         {{\"fn\":\"risk.eigenlayer_condition\",\"args\":{{{g2}}}}}\n\
         {{\"fn\":\"risk.cascade\",\"args\":{{{g2},\"shock\":[\"0\"]}}}}\n\
         {{\"fn\":\"risk.gamma_slack\",\"args\":{{{g2}}}}}\n\
         {{\"fn\":\"risk.attack\",\"args\":{{{t}}}}}\n\
         {{\"fn\":\"risk.eigenlayer_condition\",\"args\":{{{t}}}}}\n\
         {{\"fn\":\"risk.cascade\",\"args\":{{{t},\"shock\":[\"0\"]}}}}\n\
         {{\"fn\":\"risk.gamma_slack\",\"args\":{{{t}}}}}\n"
    ));
    assert_eq!(
        out[0]["ok"],
        serde_json::json!({"attack": false, "profit": "0", "services": [], "operators": []})
    );
    assert_eq!(out[1]["ok"], serde_json::json!({"holds": true, "operators": []}));
    assert_eq!(out[2]["ok"]["loss"], "100");
    assert_eq!(out[3]["ok"]["gamma_wad"], "0");
    assert_eq!(out[4]["ok"]["attack"], false);
    assert_eq!(out[5]["ok"]["holds"], true);
    assert_eq!(out[6]["ok"]["loss"], "12");
    // six0 with the two triangles inside it costs 6 for π = 6: γ = 0, the condition's equality.
    assert_eq!(out[7]["ok"]["gamma_wad"], "0");
}

#[test]
fn risk_functions_find_attacks_and_refuse_bad_graphs() {
    let out = calc(
        r#"{"fn":"risk.attack","args":{"operators":["10","20","30"],"services":[{"profit":"40","threshold_wad":"500000000000000000","operators":["0","1","2"]},{"profit":"1","threshold_wad":"1000000000000000000","operators":["2"]}]}}
{"fn":"risk.attack","args":{"operators":["1"],"services":[{"profit":"1","threshold_wad":"1000000000000000000","operators":["1"]}]}}
{"fn":"risk.attack","args":{"operators":["1"],"services":[{"profit":"1","threshold_wad":"0","operators":["0"]}]}}
{"fn":"risk.attack","args":{"operators":["1"],"services":[{"profit":"1","threshold_wad":"1000000000000000001","operators":["0"]}]}}
{"fn":"risk.attack","args":{"operators":[],"services":[]}}
{"fn":"risk.gamma_slack","args":{"operators":["1"],"services":[{"profit":"0","threshold_wad":"1000000000000000000","operators":["0"]}]}}
{"fn":"risk.cascade","args":{"operators":["1"],"services":[{"profit":"1","threshold_wad":"1000000000000000000","operators":["0"]}],"shock":["7"]}}
"#,
    );
    assert_eq!(
        out[0]["ok"],
        serde_json::json!({"attack": true, "profit": "11", "services": ["0", "1"], "operators": ["2"]})
    );
    let err = |i: usize, message: &str| {
        assert_eq!(out[i]["err"]["code"], 9102, "{}", out[i]);
        assert_eq!(out[i]["err"]["message"], message, "{}", out[i]);
    };
    err(1, "bad graph: service 0 names operator 1, but there are 1 operators");
    err(2, "bad graph: service 0 has threshold 0: it must be in (0, 1e18]");
    err(
        3,
        "bad graph: service 0 has threshold 1000000000000000001: it must be in (0, 1e18]",
    );
    err(4, "argument `operators`: needs at least one operator");
    err(5, "bad graph: γ-slack needs a service with a positive profit");
    err(6, "bad graph: the shock names operator 7, which does not exist");
}

#[test]
fn calc_list_names_the_risk_functions() {
    let out = crate::common::bin().args(["calc", "--list"]).output().unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    for f in [
        "risk.attack",
        "risk.eigenlayer_condition",
        "risk.cascade",
        "risk.gamma_slack",
    ] {
        assert!(text.contains(f), "{f} missing from\n{text}");
    }
}
