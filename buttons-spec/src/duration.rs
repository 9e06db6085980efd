//! Durations as people type and read them: `90`, `1.5`, `90s`, `2m`, `1h`
//! in; `850 ms`, `3.0 s`, `2 min 05 s` out.

use std::time::Duration;

use crate::error::{Error, Result};

/// Parses a positive duration: a bare number is seconds (`90`, `1.5`);
/// anything else is read in Go's syntax ([`parse_go_duration`]: `90s`,
/// `2m30s`, `1.5h`, `200ms`), or, failing that, by `humantime` (`1h 30m`,
/// `2 min`). Zero, negative and non-finite values are refused.
///
/// ```
/// use std::time::Duration;
/// assert_eq!(buttons_spec::parse_duration("2m")?, Duration::from_secs(120));
/// assert_eq!(buttons_spec::parse_duration("1.5")?, Duration::from_millis(1500));
/// assert_eq!(buttons_spec::parse_duration("2m30s")?, Duration::from_secs(150));
/// assert!(buttons_spec::parse_duration("0").is_err());
/// # Ok::<(), buttons_spec::Error>(())
/// ```
pub fn parse_duration(given: &str) -> Result<Duration> {
    let text = given.trim();
    let invalid = || Error::InvalidDuration {
        given: given.to_owned(),
    };
    let duration = if text.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
        let secs: f64 = text.parse().map_err(|_| invalid())?;
        Duration::try_from_secs_f64(secs).map_err(|_| invalid())?
    } else if let Ok(d) = parse_go_duration(text) {
        d
    } else {
        humantime::parse_duration(text).map_err(|_| invalid())?
    };
    if duration.is_zero() {
        return Err(invalid());
    }
    Ok(duration)
}

/// Parses a positive duration in Go's `time.ParseDuration` syntax: one or
/// more decimal numbers, each with a unit (`ns`, `us`, `µs`, `ms`, `s`, `m`,
/// `h`), as in `24h`, `1h30m`, `1.5h`, `250ms`, `2m30s`. A bare number, a
/// sign, an unknown unit, zero or an overflow is `InvalidDuration`.
///
/// ```
/// use std::time::Duration;
/// assert_eq!(buttons_spec::parse_go_duration("2m30s")?, Duration::from_secs(150));
/// assert_eq!(buttons_spec::parse_go_duration("200ms")?, Duration::from_millis(200));
/// assert!(buttons_spec::parse_go_duration("10").is_err());
/// # Ok::<(), buttons_spec::Error>(())
/// ```
pub fn parse_go_duration(given: &str) -> Result<Duration> {
    let invalid = || Error::InvalidDuration {
        given: given.to_owned(),
    };
    let mut rest = given.trim();
    if rest.is_empty() {
        return Err(invalid());
    }
    let mut total = 0f64;
    while !rest.is_empty() {
        let digits = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .ok_or_else(invalid)?;
        let value: f64 = rest[..digits].parse().map_err(|_| invalid())?;
        rest = &rest[digits..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let seconds = match &rest[..unit_len] {
            "ns" => 1e-9,
            "us" | "µs" | "μs" => 1e-6,
            "ms" => 1e-3,
            "s" => 1.0,
            "m" => 60.0,
            "h" => 3600.0,
            _ => return Err(invalid()),
        };
        total += value * seconds;
        rest = &rest[unit_len..];
    }
    let duration = Duration::try_from_secs_f64(total).map_err(|_| invalid())?;
    if duration.is_zero() {
        return Err(invalid());
    }
    Ok(duration)
}

/// Formats a duration for people: `850 ms` under a second, `3.0 s` under a
/// minute, `2 min 05 s` under an hour, then `1 h 02 min`.
///
/// ```
/// use std::time::Duration;
/// use buttons_spec::format_duration;
/// assert_eq!(format_duration(Duration::from_millis(850)), "850 ms");
/// assert_eq!(format_duration(Duration::from_millis(3004)), "3.0 s");
/// assert_eq!(format_duration(Duration::from_secs(125)), "2 min 05 s");
/// ```
pub fn format_duration(duration: Duration) -> String {
    let ms = duration.as_millis();
    let secs = duration.as_secs();
    if ms < 1000 {
        format!("{ms} ms")
    } else if secs < 60 {
        // Tenths, rounded down so that 59.96 s never reads "60.0 s".
        format!("{}.{} s", secs, duration.subsec_millis() / 100)
    } else if secs < 3600 {
        format!("{} min {:02} s", secs / 60, secs % 60)
    } else {
        format!("{} h {:02} min", secs / 3600, (secs % 3600) / 60)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_numbers_and_units() {
        for (text, secs) in [
            ("90", 90.0),
            ("1.5", 1.5),
            ("90s", 90.0),
            ("2m", 120.0),
            ("1h", 3600.0),
        ] {
            assert_eq!(parse_duration(text).unwrap().as_secs_f64(), secs, "{text}");
        }
        for bad in [
            "",
            "0",
            "0s",
            "-3",
            "abc",
            "1.2.3",
            "2 parsecs",
            "nan",
            "1e999",
        ] {
            assert!(parse_duration(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn go_durations() {
        let cases = [
            ("24h", 86_400_000),
            ("1h30m", 5_400_000),
            ("90s", 90_000),
            ("1.5h", 5_400_000),
            ("250ms", 250),
            ("200ms", 200),
            ("2m30s", 150_000),
            ("2h45m30s", 9_930_000),
        ];
        for (given, ms) in cases {
            assert_eq!(parse_go_duration(given).unwrap().as_millis(), ms, "{given}");
            assert_eq!(parse_duration(given).unwrap().as_millis(), ms, "{given}");
        }
        for bad in ["", "0s", "-1h", "10", "h", "1d", "1h-", "1..2s"] {
            assert!(parse_go_duration(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn formats_by_size() {
        assert_eq!(format_duration(Duration::ZERO), "0 ms");
        assert_eq!(format_duration(Duration::from_millis(59_999)), "59.9 s");
        assert_eq!(format_duration(Duration::from_secs(60)), "1 min 00 s");
        assert_eq!(format_duration(Duration::from_secs(3725)), "1 h 02 min");
    }
}
