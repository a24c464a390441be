//! Budget periods: a UTC day, an ISO week (from Monday 00:00 UTC) or a calendar month (from the
//! 1st, 00:00 UTC). A period holds every instant from its start up to, not including, its end.

use jiff::ToSpan;
use jiff::civil::Date;
use jiff::tz::TimeZone;

use crate::StoreError;

/// How often a budget resets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Period {
    /// Every day at 00:00 UTC.
    Day,
    /// Every Monday at 00:00 UTC.
    Week,
    /// On the 1st of every month at 00:00 UTC.
    Month,
}

impl Period {
    /// The name stored and printed.
    pub fn as_str(self) -> &'static str {
        match self {
            Period::Day => "day",
            Period::Week => "week",
            Period::Month => "month",
        }
    }

    /// The period named `name`.
    pub fn parse(name: &str) -> Result<Self, StoreError> {
        match name {
            "day" => Ok(Period::Day),
            "week" => Ok(Period::Week),
            "month" => Ok(Period::Month),
            other => Err(StoreError::Invalid(format!(
                "budget period `{other}` is not day, week or month"
            ))),
        }
    }

    /// The start and end (Unix milliseconds) of the period holding `at`.
    pub fn bounds(self, at: i64) -> (i64, i64) {
        let date = utc_date(at);
        let start = match self {
            Period::Day => date,
            Period::Week => date
                .checked_sub(i64::from(date.weekday().to_monday_zero_offset()).days())
                .unwrap_or(date),
            Period::Month => date.first_of_month(),
        };
        let end = match self {
            Period::Day => start.checked_add(1.day()),
            Period::Week => start.checked_add(1.week()),
            Period::Month => start.checked_add(1.month()),
        }
        .unwrap_or(start);
        (date_millis(start), date_millis(end))
    }
}

impl std::fmt::Display for Period {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The UTC date holding `at` (Unix milliseconds).
pub fn utc_date(at: i64) -> Date {
    jiff::Timestamp::from_millisecond(at)
        .unwrap_or(jiff::Timestamp::UNIX_EPOCH)
        .to_zoned(TimeZone::UTC)
        .date()
}

/// Unix milliseconds of `date` at 00:00 UTC.
pub fn date_millis(date: Date) -> i64 {
    date.to_zoned(TimeZone::UTC)
        .map_or(0, |z| z.timestamp().as_millisecond())
}

/// `at` (Unix milliseconds) as RFC 3339, in UTC to the second.
pub fn rfc3339(at: i64) -> String {
    jiff::Timestamp::from_millisecond(at - at.rem_euclid(1000))
        .map_or_else(|_| at.to_string(), |t| t.to_string())
}

/// A time given on the command line, in Unix milliseconds: a date (`2027-01-31`, 00:00 UTC),
/// an RFC 3339 time (`2027-01-31T12:00:00Z`), or a span from `now` (`30d`, `12h`, `90m`, `2w`)
/// taken `forward` or back.
pub fn parse_when(text: &str, now: i64, forward: bool) -> Result<i64, StoreError> {
    let text = text.trim();
    if let Ok(date) = text.parse::<Date>() {
        return Ok(date_millis(date));
    }
    if let Ok(time) = text.parse::<jiff::Timestamp>() {
        return Ok(time.as_millisecond());
    }
    let unit = text.chars().last().unwrap_or(' ');
    let number = &text[..text.len() - unit.len_utf8().min(text.len())];
    let per = match unit {
        'w' => 7 * 86_400_000,
        'd' => 86_400_000,
        'h' => 3_600_000,
        'm' => 60_000,
        _ => 0,
    };
    match number.parse::<i64>() {
        Ok(n) if per > 0 && n >= 0 => {
            let span = n.saturating_mul(per);
            Ok(if forward {
                now.saturating_add(span)
            } else {
                now.saturating_sub(span)
            })
        }
        _ => Err(StoreError::Invalid(format!(
            "`{text}` is not a date (2027-01-31), a time (2027-01-31T12:00:00Z) or a span (30d, 12h, 90m, 2w)"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> i64 {
        text.parse::<jiff::Timestamp>().unwrap().as_millisecond()
    }

    #[test]
    fn periods_start_and_end_at_midnight_utc() {
        // Tuesday 2026-12-01.
        let now = at("2026-12-01T13:45:00Z");
        assert_eq!(
            Period::Day.bounds(now),
            (at("2026-12-01T00:00:00Z"), at("2026-12-02T00:00:00Z"))
        );
        assert_eq!(
            Period::Week.bounds(now),
            (at("2026-11-30T00:00:00Z"), at("2026-12-07T00:00:00Z"))
        );
        assert_eq!(
            Period::Month.bounds(now),
            (at("2026-12-01T00:00:00Z"), at("2027-01-01T00:00:00Z"))
        );
        // The last millisecond of a period is in it; the next one is in the next.
        let last = at("2026-12-01T23:59:59.999Z");
        assert_eq!(Period::Day.bounds(last).0, at("2026-12-01T00:00:00Z"));
        assert_eq!(Period::Day.bounds(last + 1).0, at("2026-12-02T00:00:00Z"));
        assert_eq!(
            Period::Month.bounds(at("2027-02-28T23:00:00Z")).1,
            at("2027-03-01T00:00:00Z")
        );
        assert_eq!(
            rfc3339(at("2026-12-02T00:00:00.250Z")),
            "2026-12-02T00:00:00Z"
        );
    }

    #[test]
    fn times_on_the_command_line() {
        let now = at("2026-12-01T13:45:00Z");
        assert_eq!(
            parse_when("2027-01-31", now, true).unwrap(),
            at("2027-01-31T00:00:00Z")
        );
        assert_eq!(
            parse_when("2027-01-31T12:00:00Z", now, true).unwrap(),
            at("2027-01-31T12:00:00Z")
        );
        assert_eq!(parse_when("30d", now, true).unwrap(), now + 30 * 86_400_000);
        assert_eq!(parse_when("7d", now, false).unwrap(), now - 7 * 86_400_000);
        assert_eq!(parse_when("90m", now, false).unwrap(), now - 90 * 60_000);
        for bad in ["", "soon", "5y", "-3d", "d"] {
            let error = parse_when(bad, now, true).unwrap_err().to_string();
            assert!(error.contains("is not a date"), "{bad}: {error}");
        }
    }
}
