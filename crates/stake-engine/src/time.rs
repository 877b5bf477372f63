//! Scenario time: dates, durations and "at" expressions, all in whole seconds (no clock is read).

/// Seconds in a day.
pub const DAY: u64 = 86_400;
/// Ethereum slot (12 s).
pub const SLOT: u64 = 12;
/// Ethereum epoch (32 slots).
pub const EPOCH: u64 = 384;

/// Days since 1970-01-01 of a civil date (proleptic Gregorian; Howard Hinnant's algorithm).
pub fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let mp = (m as i64 + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Civil date of a day count since 1970-01-01.
// doy ∈ [0, 365] and mp ∈ [0, 11] by construction, so the day and month casts cannot truncate.
#[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
pub fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = if z >= 0 { z } else { z - 146_096 } / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// Parses `YYYY-MM-DD` (optionally `THH:MM:SSZ`) into Unix seconds.
pub fn parse_date(s: &str) -> Result<u64, String> {
    let s = s.trim();
    let (date, time) = match s.split_once('T') {
        Some((d, t)) => (d, Some(t.trim_end_matches('Z'))),
        None => (s, None),
    };
    let parts: Vec<&str> = date.split('-').collect();
    let bad = || format!("`{}` is not a date (expected YYYY-MM-DD)", crate::amount::clip(s));
    if parts.len() != 3 {
        return Err(bad());
    }
    let y: i64 = parts[0].parse().map_err(|_| bad())?;
    let m: u32 = parts[1].parse().map_err(|_| bad())?;
    let d: u32 = parts[2].parse().map_err(|_| bad())?;
    if !(1970..=9999).contains(&y) || !(1..=12).contains(&m) || !(1..=31).contains(&d) {
        return Err(bad());
    }
    let days = days_from_civil(y, m, d);
    if civil_from_days(days) != (y, m, d) {
        return Err(format!("`{}` is not a valid calendar date", crate::amount::clip(s)));
    }
    let mut secs = u64::try_from(days).map_err(|_| bad())? * DAY;
    if let Some(t) = time {
        let hms: Vec<&str> = t.split(':').collect();
        let v = |i: usize| -> Result<u64, String> {
            hms.get(i).map(|x| x.parse::<u64>().map_err(|_| bad())).unwrap_or(Ok(0))
        };
        let (h, mi, se) = (v(0)?, v(1)?, v(2)?);
        if h > 23 || mi > 59 || se > 59 {
            return Err(bad());
        }
        secs += h * 3600 + mi * 60 + se;
    }
    Ok(secs)
}

/// Formats Unix seconds as `YYYY-MM-DD`.
pub fn format_date(t: u64) -> String {
    // t / DAY < 2^47, so it always fits an i64.
    let (y, m, d) = civil_from_days(i64::try_from(t / DAY).unwrap_or(i64::MAX / 2));
    format!("{y:04}-{m:02}-{d:02}")
}

/// Parses a duration: `365d`, `12h`, `30m`, `384s`, `1y` (365 days), `2w`, `1 epoch`, `3 epochs`,
/// `1 block`/`slot`, `1 frame` (225 epochs).
pub fn parse_duration(s: &str) -> Result<u64, String> {
    let t: String = s.trim().chars().filter(|c| *c != '_').collect();
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let n: u64 = if num.is_empty() {
        1
    } else {
        num.parse()
            .map_err(|_| format!("`{}` is not a duration", crate::amount::clip(s)))?
    };
    let unit_secs = match unit.trim() {
        "s" | "sec" | "secs" | "second" | "seconds" => 1,
        "m" | "min" | "mins" | "minute" | "minutes" => 60,
        "h" | "hour" | "hours" => 3600,
        "d" | "day" | "days" => DAY,
        "w" | "week" | "weeks" => 7 * DAY,
        "y" | "year" | "years" => 365 * DAY,
        "block" | "blocks" | "slot" | "slots" => SLOT,
        "epoch" | "epochs" => EPOCH,
        "frame" | "frames" => 225 * EPOCH,
        _ => {
            return Err(format!(
                "`{}` is not a duration (use e.g. 365d, 12h, 30m, 384s, 1y, 2w, 3 epochs, 10 blocks)",
                crate::amount::clip(s)
            ))
        }
    };
    n.checked_mul(unit_secs)
        .ok_or_else(|| format!("`{}` is too long", crate::amount::clip(s)))
}

/// Parses an "at" expression relative to the scenario start: `start`, `day 30`, `+30d`,
/// `2025-02-01`, or any duration (`90d`).
pub fn parse_at(s: &str, start: u64) -> Result<u64, String> {
    let t = s.trim();
    if t == "start" {
        return Ok(start);
    }
    if let Some(rest) = t.strip_prefix("day ") {
        let n: u64 = rest
            .trim()
            .parse()
            .map_err(|_| format!("`{}`: expected `day N`", crate::amount::clip(s)))?;
        return n
            .checked_mul(DAY)
            .and_then(|d| start.checked_add(d))
            .ok_or_else(|| too_far(s));
    }
    if let Some(rest) = t.strip_prefix('+') {
        return start.checked_add(parse_duration(rest)?).ok_or_else(|| too_far(s));
    }
    if t.len() >= 10 && t.as_bytes().get(4) == Some(&b'-') {
        let at = parse_date(t)?;
        if at < start {
            return Err(format!(
                "`{}` is before the scenario start {}",
                crate::amount::clip(s),
                format_date(start)
            ));
        }
        return Ok(at);
    }
    let d = parse_duration(t).map_err(|_| {
        format!(
            "`{}` is not a time (use `day 30`, `+30d`, `2025-02-01` or `start`)",
            crate::amount::clip(s)
        )
    })?;
    start.checked_add(d).ok_or_else(|| too_far(s))
}

fn too_far(s: &str) -> String {
    format!("`{}` is too far in the future", crate::amount::clip(s))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_round_trip() {
        assert_eq!(parse_date("1970-01-01").unwrap(), 0);
        assert_eq!(parse_date("2025-01-01").unwrap(), 1_735_689_600);
        assert_eq!(format_date(1_735_689_600), "2025-01-01");
        assert_eq!(
            parse_date("2024-02-29").unwrap() + DAY,
            parse_date("2024-03-01").unwrap()
        );
        assert!(parse_date("2025-02-29").is_err());
        assert!(parse_date("2025-13-01").is_err());
    }

    #[test]
    fn durations_and_at_expressions() {
        assert_eq!(parse_duration("365d").unwrap(), 365 * DAY);
        assert_eq!(parse_duration("3 epochs").unwrap(), 3 * EPOCH);
        assert_eq!(parse_duration("1y").unwrap(), 365 * DAY);
        assert!(parse_duration("3 fortnights").is_err());
        let s = parse_date("2025-01-01").unwrap();
        assert_eq!(parse_at("day 30", s).unwrap(), s + 30 * DAY);
        assert_eq!(parse_at("+12h", s).unwrap(), s + 12 * 3600);
        assert_eq!(parse_at("2025-01-31", s).unwrap(), s + 30 * DAY);
        assert!(parse_at("2024-12-31", s).is_err());
    }
}
