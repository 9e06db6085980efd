//! Byte sizes such as `10M`, as given to `--max-response-size`.

use crate::error::{Error, Result};

/// The default response cap of an HTTP button: 10 MiB.
pub const DEFAULT_MAX_RESPONSE_BYTES: u64 = 10 * 1024 * 1024;

/// The largest response cap accepted: 2 GiB.
pub const MAX_RESPONSE_BYTES_CEILING: u64 = 2 * 1024 * 1024 * 1024;

/// Parses a positive size with an optional binary unit: `1024`, `10K`, `10KB`,
/// `10KiB`, `10M`, `1G` (any case). At most 2 GiB.
///
/// ```
/// assert_eq!(buttons_spec::parse_size("10K")?, 10 * 1024);
/// assert_eq!(buttons_spec::parse_size("1G")?, 1 << 30);
/// assert!(buttons_spec::parse_size("3G").is_err());
/// # Ok::<(), buttons_spec::Error>(())
/// ```
pub fn parse_size(given: &str) -> Result<u64> {
    let invalid = |reason| Error::InvalidSize {
        given: given.to_owned(),
        reason,
    };
    let trimmed = given.trim();
    let split = trimmed
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(trimmed.len());
    let (digits, unit) = trimmed.split_at(split);
    if digits.is_empty() {
        return Err(invalid(
            "expected a number, optionally followed by K, M or G",
        ));
    }
    let multiplier: u64 = match unit.to_ascii_uppercase().as_str() {
        "" | "B" => 1,
        "K" | "KB" | "KIB" => 1 << 10,
        "M" | "MB" | "MIB" => 1 << 20,
        "G" | "GB" | "GIB" => 1 << 30,
        _ => return Err(invalid("unknown unit (use K, M or G)")),
    };
    let number: u64 = digits
        .parse()
        .map_err(|_| invalid("the number is too large"))?;
    let bytes = number
        .checked_mul(multiplier)
        .ok_or_else(|| invalid("the size is too large"))?;
    if bytes == 0 {
        return Err(invalid("the size must be positive"));
    }
    if bytes > MAX_RESPONSE_BYTES_CEILING {
        return Err(invalid("the size is above the 2 GiB ceiling"));
    }
    Ok(bytes)
}

/// Formats a byte count for people with binary units: `512 B`, `10 KiB`,
/// `1.5 MiB`.
///
/// ```
/// assert_eq!(buttons_spec::format_size(1536), "1.5 KiB");
/// assert_eq!(buttons_spec::format_size(10 << 20), "10 MiB");
/// ```
pub fn format_size(bytes: u64) -> String {
    const UNITS: [&str; 4] = ["B", "KiB", "MiB", "GiB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 || value.fract() == 0.0 {
        format!("{value:.0} {}", UNITS[unit])
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats() {
        assert_eq!(format_size(0), "0 B");
        assert_eq!(format_size(1023), "1023 B");
        assert_eq!(format_size(1024), "1 KiB");
        assert_eq!(format_size(1229), "1.2 KiB");
        assert_eq!(format_size(2 << 30), "2 GiB");
    }

    #[test]
    fn sizes() {
        assert_eq!(parse_size("1024").unwrap(), 1024);
        assert_eq!(parse_size("10KB").unwrap(), 10240);
        assert_eq!(parse_size("10m").unwrap(), 10 << 20);
        assert_eq!(parse_size("2G").unwrap(), 2 << 30);
        for bad in [
            "",
            "0",
            "0K",
            "K",
            "-1",
            "1.5M",
            "10X",
            "2049M",
            "99999999999999999999",
        ] {
            assert!(parse_size(bad).is_err(), "{bad:?} accepted");
        }
    }
}
