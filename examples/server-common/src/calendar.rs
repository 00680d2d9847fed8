//! Calendar days and times at a configured UTC offset (no time-zone database: a site with
//! daylight saving sets its offset when the clocks change): the attendance server's days and
//! summaries, the KYC server's document expiry.

/// Midnight of the site's day containing `at_ms`, in ms since the epoch.
pub fn day_start_ms(at_ms: i64, utc_offset_minutes: i32) -> i64 {
    let off = i64::from(utc_offset_minutes) * 60_000;
    (at_ms + off).div_euclid(86_400_000) * 86_400_000 - off
}

/// Civil date of a day number (days since 1970-01-01; Howard Hinnant's algorithm).
fn civil(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

/// Day number of a civil date (the inverse of `civil`).
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = i64::from((m + 9) % 12);
    let doy = (153 * mp + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The site's date of `at_ms` as YYYY-MM-DD.
pub fn local_day(at_ms: i64, utc_offset_minutes: i32) -> String {
    let (y, m, d) = civil((at_ms + i64::from(utc_offset_minutes) * 60_000).div_euclid(86_400_000));
    format!("{y:04}-{m:02}-{d:02}")
}

/// Site time of `at_ms` as `YYYY-MM-DD HH:MM:SS`.
pub fn local_time(at_ms: i64, utc_offset_minutes: i32) -> String {
    let local = at_ms + i64::from(utc_offset_minutes) * 60_000;
    let secs = local.div_euclid(1000).rem_euclid(86_400);
    format!(
        "{} {:02}:{:02}:{:02}",
        local_day(at_ms, utc_offset_minutes),
        secs / 3600,
        secs / 60 % 60,
        secs % 60
    )
}

/// Midnight (site time) of a `YYYY-MM-DD` date, in ms since the epoch.
pub fn parse_day(day: &str, utc_offset_minutes: i32) -> Result<i64, String> {
    let bad = || format!("day {day:?}: expected YYYY-MM-DD");
    let mut parts = day.splitn(3, '-');
    let (Some(y), Some(m), Some(d)) = (parts.next(), parts.next(), parts.next()) else {
        return Err(bad());
    };
    let (y, m, d): (i64, u32, u32) = (
        y.parse().map_err(|_| bad())?,
        m.parse().map_err(|_| bad())?,
        d.parse().map_err(|_| bad())?,
    );
    if !(1970..=9999).contains(&y) || !(1..=12).contains(&m) || d == 0 {
        return Err(bad());
    }
    let days = days_from_civil(y, m, d);
    // 31 February would come back as a March day.
    if civil(days) != (y, m, d) {
        return Err(format!("day {day:?} does not exist"));
    }
    Ok(days * 86_400_000 - i64::from(utc_offset_minutes) * 60_000)
}

/// Minutes after midnight of `HH:MM`.
pub fn parse_clock(hhmm: &str) -> Result<i64, String> {
    let bad = || format!("time {hhmm:?}: expected HH:MM");
    let (h, m) = hhmm.split_once(':').ok_or_else(bad)?;
    let (h, m): (i64, i64) = (h.parse().map_err(|_| bad())?, m.parse().map_err(|_| bad())?);
    if !(0..24).contains(&h) || !(0..60).contains(&m) {
        return Err(bad());
    }
    Ok(h * 60 + m)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn site_days_and_times() {
        // 2026-12-02 23:30 UTC is already 2026-12-03 at UTC+1.
        let t = 1_796_254_200_000;
        assert_eq!(local_day(t, 0), "2026-12-02");
        assert_eq!(local_day(t, 60), "2026-12-03");
        assert_eq!(local_time(t, 60), "2026-12-03 00:30:00");
        assert_eq!(local_day(0, 0), "1970-01-01");
        assert_eq!(local_day(951_782_400_000, 0), "2000-02-29");
        assert_eq!(day_start_ms(t, 0), 1_796_169_600_000);
        assert_eq!(day_start_ms(t, 60), 1_796_252_400_000);
        assert_eq!(parse_day("2026-12-03", 60), Ok(1_796_252_400_000));
        assert_eq!(parse_day("2000-02-29", 0), Ok(951_782_400_000));
        for bad in ["2026-02-30", "2026-13-01", "26-1-1x", "", "2026-12"] {
            assert!(parse_day(bad, 0).is_err(), "{bad}");
        }
        for n in [-1000i64, 0, 10_957, 20_790, 2_932_896] {
            let (y, m, d) = civil(n);
            assert_eq!(days_from_civil(y, m, d), n);
        }
        assert_eq!(parse_clock("09:05"), Ok(545));
        assert!(parse_clock("24:00").is_err() && parse_clock("9").is_err());
    }
}
