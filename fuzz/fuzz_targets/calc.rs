//! `stakestack calc` request lines: every line gets exactly one `ok` or `err` answer, bounded in
//! size, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let answer = match std::str::from_utf8(data) {
        Ok(line) => stake_engine::calc::answer(line),
        Err(_) => stake_engine::calc::error_answer(9100, "the line is not UTF-8 text"),
    };
    let ok = answer.get("ok").is_some();
    let err = answer.get("err").is_some();
    assert!(ok != err, "exactly one of ok/err: {answer}");
    if let Some(m) = answer["err"]["message"].as_str() {
        assert!(m.chars().count() <= stake_engine::calc::MAX_MESSAGE + 1);
    }
});
