//! Cron schedules in local time, and `@every DURATION`.

use std::str::FromStr as _;
use std::time::Duration;

use chrono::{DateTime, Local};

use crate::error::Error;

/// When a cron trigger fires.
#[derive(Debug, Clone)]
pub enum Schedule {
    /// `@every 30s`: every interval, counted from the start.
    Every(Duration),
    /// A cron spec: 5 fields, or `@yearly`, `@monthly`, `@weekly`, `@daily`,
    /// `@hourly`; in local time.
    Cron(Box<croner::Cron>),
}

impl Schedule {
    /// Parses a schedule. `@every` takes a duration of at least 1 s
    /// (`30s`, `5m`, `1h 30m`); other specs are standard 5-field cron specs
    /// or descriptors.
    pub fn parse(spec: &str) -> Result<Self, Error> {
        let spec = spec.trim();
        let bad = |reason: String| Error::InvalidSchedule {
            schedule: spec.to_owned(),
            reason,
        };
        if let Some(rest) = spec.strip_prefix("@every") {
            let every = humantime::parse_duration(rest.trim())
                .map_err(|e| bad(format!("@every needs a duration such as 30s or 5m ({e})")))?;
            if every < Duration::from_secs(1) {
                return Err(bad("@every needs at least 1s".to_owned()));
            }
            return Ok(Self::Every(every));
        }
        if spec.starts_with('@') {
            if !matches!(
                spec,
                "@yearly"
                    | "@annually"
                    | "@monthly"
                    | "@weekly"
                    | "@daily"
                    | "@midnight"
                    | "@hourly"
            ) {
                return Err(bad(
                    "descriptors are @every D, @yearly, @monthly, @weekly, @daily and @hourly"
                        .to_owned(),
                ));
            }
        } else if spec.split_whitespace().count() != 5 {
            return Err(bad(
                "a cron spec has 5 fields: minute hour day-of-month month day-of-week".to_owned(),
            ));
        }
        let cron = croner::Cron::from_str(spec).map_err(|e| bad(e.to_string()))?;
        Ok(Self::Cron(Box::new(cron)))
    }

    /// The next time after `now` (`None` when the spec never fires again).
    pub fn next_after(&self, now: DateTime<Local>) -> Option<DateTime<Local>> {
        match self {
            Self::Every(every) => chrono::Duration::from_std(*every).ok().map(|d| now + d),
            Self::Cron(cron) => cron.find_next_occurrence(&now, false).ok(),
        }
    }

    /// How long from `now` until the next time.
    pub fn delay_after(&self, now: DateTime<Local>) -> Option<Duration> {
        let next = self.next_after(now)?;
        Some((next - now).to_std().unwrap_or(Duration::ZERO))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{Datelike as _, TimeZone as _, Timelike as _};

    #[test]
    fn every_and_descriptors() {
        let now = Local.with_ymd_and_hms(2026, 3, 4, 10, 17, 30).unwrap();
        let every = Schedule::parse("@every 30s").unwrap();
        assert_eq!(every.delay_after(now), Some(Duration::from_secs(30)));
        let hourly = Schedule::parse("@hourly").unwrap();
        let next = hourly.next_after(now).unwrap();
        assert_eq!((next.hour(), next.minute()), (11, 0));
        let daily = Schedule::parse("@daily").unwrap();
        let next = daily.next_after(now).unwrap();
        assert_eq!((next.hour(), next.minute(), next.day()), (0, 0, 5));
        let five = Schedule::parse("*/5 * * * *").unwrap();
        let next = five.next_after(now).unwrap();
        assert_eq!((next.hour(), next.minute()), (10, 20));
    }

    #[test]
    fn bad_specs_are_refused() {
        for bad in [
            "",
            "@every",
            "@every 0s",
            "@every 500ms",
            "@every soon",
            "@reboot",
            "* * * *",
            "0 * * * * *",
            "61 * * * *",
            "nonsense",
        ] {
            let e = Schedule::parse(bad).unwrap_err();
            assert_eq!(e.code(), buttons_spec::ErrorCode::ValidationError, "{bad}");
        }
    }
}
