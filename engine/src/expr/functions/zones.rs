//! A compact table of region time zones for `from_utc_timestamp`, `to_utc_timestamp` and
//! `make_timestamp(..., tz)`, instead of a whole tz database (chrono-tz would add most of a
//! megabyte to the page's wasm). Each zone is its standard offset and daylight rule, exact only
//! from the year its current rule began (the EU's 1996 rule, the US's 2007 one, a fixed offset's
//! last change); an instant before that is refused, never answered from the wrong rule.

use chrono::{Datelike, NaiveDate, Weekday};

const HOUR: i64 = 3_600_000_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Rule {
    /// No daylight saving time.
    Fixed,
    /// +1h from the last Sunday of March to the last Sunday of October, at 01:00 UTC.
    Eu,
    /// +1h from the second Sunday of March to the first Sunday of November, at 02:00 local.
    Us,
}

/// One zone: its standard offset (microseconds east of UTC), rule, and the first year it holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Zone {
    standard: i64,
    rule: Rule,
    since: i32,
}

const fn z(minutes: i64, rule: Rule, since: i32) -> Zone {
    Zone { standard: minutes * 60_000_000, rule, since }
}

/// The zones known, by the names Java's `ZoneId` accepts (with the short ids Spark maps).
const ZONES: &[(&str, Zone)] = &[
    ("CET", z(60, Rule::Eu, 1996)),
    ("MET", z(60, Rule::Eu, 1996)),
    ("EET", z(120, Rule::Eu, 1996)),
    ("WET", z(0, Rule::Eu, 1996)),
    ("Europe/Amsterdam", z(60, Rule::Eu, 1996)),
    ("Europe/Berlin", z(60, Rule::Eu, 1996)),
    ("Europe/Brussels", z(60, Rule::Eu, 1996)),
    ("Europe/Budapest", z(60, Rule::Eu, 1996)),
    ("Europe/Copenhagen", z(60, Rule::Eu, 1996)),
    ("Europe/Madrid", z(60, Rule::Eu, 1996)),
    ("Europe/Oslo", z(60, Rule::Eu, 1996)),
    ("Europe/Paris", z(60, Rule::Eu, 1996)),
    ("Europe/Prague", z(60, Rule::Eu, 1996)),
    ("Europe/Rome", z(60, Rule::Eu, 1996)),
    ("Europe/Stockholm", z(60, Rule::Eu, 1996)),
    ("Europe/Vienna", z(60, Rule::Eu, 1996)),
    ("Europe/Warsaw", z(60, Rule::Eu, 1996)),
    ("Europe/Zurich", z(60, Rule::Eu, 1996)),
    ("Europe/London", z(0, Rule::Eu, 1996)),
    ("Europe/Dublin", z(0, Rule::Eu, 1996)),
    ("Europe/Lisbon", z(0, Rule::Eu, 1997)),
    ("Europe/Athens", z(120, Rule::Eu, 1996)),
    ("Europe/Bucharest", z(120, Rule::Eu, 1997)),
    ("Europe/Helsinki", z(120, Rule::Eu, 1996)),
    ("Europe/Sofia", z(120, Rule::Eu, 1997)),
    ("America/New_York", z(-300, Rule::Us, 2007)),
    ("America/Chicago", z(-360, Rule::Us, 2007)),
    ("America/Denver", z(-420, Rule::Us, 2007)),
    ("America/Los_Angeles", z(-480, Rule::Us, 2007)),
    ("US/Eastern", z(-300, Rule::Us, 2007)),
    ("US/Central", z(-360, Rule::Us, 2007)),
    ("US/Mountain", z(-420, Rule::Us, 2007)),
    ("US/Pacific", z(-480, Rule::Us, 2007)),
    ("PST", z(-480, Rule::Us, 2007)),
    ("America/Phoenix", z(-420, Rule::Fixed, 1968)),
    ("Asia/Seoul", z(540, Rule::Fixed, 1989)),
    ("Asia/Tokyo", z(540, Rule::Fixed, 1952)),
    ("JST", z(540, Rule::Fixed, 1952)),
    ("Asia/Shanghai", z(480, Rule::Fixed, 1992)),
    ("CTT", z(480, Rule::Fixed, 1992)),
    ("Asia/Hong_Kong", z(480, Rule::Fixed, 1980)),
    ("Asia/Singapore", z(480, Rule::Fixed, 1982)),
    ("Asia/Kolkata", z(330, Rule::Fixed, 1946)),
    ("Asia/Dubai", z(240, Rule::Fixed, 1921)),
];

/// The zone of a name, case-sensitive as Java's region ids are.
pub(super) fn zone(name: &str) -> Option<Zone> {
    ZONES.iter().find(|(n, _)| *n == name.trim()).map(|(_, z)| *z)
}

fn year_of(micros: i64) -> Option<i32> {
    crate::time::from_micros(micros).map(|dt| dt.year())
}

/// Midnight (UTC micros) of the `nth` (1-based; 0 for the last) Sunday of a month.
fn sunday(year: i32, month: u32, nth: u32) -> Option<i64> {
    let first = NaiveDate::from_ymd_opt(year, month, 1)?;
    let to_sunday = (7 - first.weekday().num_days_from_sunday()) % 7;
    let day = if nth == 0 {
        let next = if month == 12 { NaiveDate::from_ymd_opt(year + 1, 1, 1)? } else { NaiveDate::from_ymd_opt(year, month + 1, 1)? };
        let last = next.pred_opt()?;
        last.day() - last.weekday().num_days_from_sunday()
    } else {
        1 + to_sunday + 7 * (nth - 1)
    };
    let d = NaiveDate::from_ymd_opt(year, month, day)?;
    debug_assert_eq!(d.weekday(), Weekday::Sun);
    Some(crate::time::to_micros(&d.and_hms_opt(0, 0, 0)?))
}

impl Zone {
    /// The offset at a UTC instant; None before the zone's table holds.
    pub(super) fn offset_at(self, utc: i64) -> Option<i64> {
        let year = year_of(utc)?;
        if year < self.since {
            return None;
        }
        let dst = match self.rule {
            Rule::Fixed => false,
            Rule::Eu => {
                let (start, end) = (sunday(year, 3, 0)? + HOUR, sunday(year, 10, 0)? + HOUR);
                (start..end).contains(&utc)
            }
            Rule::Us => {
                let start = sunday(year, 3, 2)? + 2 * HOUR - self.standard;
                let end = sunday(year, 11, 1)? + 2 * HOUR - (self.standard + HOUR);
                (start..end).contains(&utc)
            }
        };
        Some(self.standard + if dst { HOUR } else { 0 })
    }

    /// The UTC instant of a wall clock in this zone, as Java's `LocalDateTime.atZone` picks it:
    /// the earlier offset in an overlap, and a time in a gap moved later by the gap.
    pub(super) fn to_utc(self, local: i64) -> Option<i64> {
        let mut valid = None;
        for o in [self.standard + HOUR, self.standard] {
            let utc = local.checked_sub(o)?;
            if self.offset_at(utc)? == o {
                valid = Some(utc);
                break;
            }
        }
        match valid {
            Some(utc) => Some(utc),
            // In the gap: the offset before it (standard time).
            None => local.checked_sub(self.standard),
        }
    }
}

/// Spark's error for an instant the table does not cover.
pub(super) fn not_covered(name: &str, z: Zone) -> crate::error::Error {
    crate::error::Error::unsupported(format!(
        "the time zone '{name}' is known here only from {} on (the engine carries a small table of zone rules, not a tz database); give a fixed offset such as '+09:00' for older times",
        z.since
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::{format_timestamp, parse_timestamp};
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    fn from_utc(t: &str, zone_name: &str) -> String {
        let t = parse_timestamp(t).unwrap();
        format_timestamp(t + zone(zone_name).unwrap().offset_at(t).unwrap())
    }

    fn to_utc(t: &str, zone_name: &str) -> String {
        format_timestamp(zone(zone_name).unwrap().to_utc(parse_timestamp(t).unwrap()).unwrap())
    }

    #[test]
    fn fixed_and_daylight_rules() {
        assert_eq!(from_utc("2016-08-31 00:00:00", "Asia/Seoul"), "2016-08-31 09:00:00");
        assert_eq!(to_utc("2016-08-31 00:00:00", "Asia/Seoul"), "2016-08-30 15:00:00");
        assert_eq!(to_utc("2014-12-28 06:30:45.887", "CET"), "2014-12-28 05:30:45.887");
        // 2021: EU summer time from 28 March 01:00 UTC to 31 October 01:00 UTC.
        assert_eq!(from_utc("2021-03-28 00:59:59", "Europe/Brussels"), "2021-03-28 01:59:59");
        assert_eq!(from_utc("2021-03-28 01:00:00", "Europe/Brussels"), "2021-03-28 03:00:00");
        assert_eq!(from_utc("2021-10-31 00:59:59", "Europe/Brussels"), "2021-10-31 02:59:59");
        assert_eq!(from_utc("2021-10-31 01:00:00", "Europe/Brussels"), "2021-10-31 02:00:00");
        // 2021: US daylight time from 14 March 02:00 to 7 November 02:00 local.
        assert_eq!(from_utc("2021-03-14 09:59:59", "America/Los_Angeles"), "2021-03-14 01:59:59");
        assert_eq!(from_utc("2021-03-14 10:00:00", "America/Los_Angeles"), "2021-03-14 03:00:00");
        assert_eq!(from_utc("2021-11-07 08:59:59", "America/Los_Angeles"), "2021-11-07 01:59:59");
        assert_eq!(from_utc("2021-11-07 09:00:00", "America/Los_Angeles"), "2021-11-07 01:00:00");
        assert_eq!(from_utc("2021-12-06 00:00:00", "America/Los_Angeles"), "2021-12-05 16:00:00");
    }

    #[test]
    fn gaps_and_overlaps_resolve_as_java_does() {
        // 02:30 does not exist on 2021-03-28 in Brussels: moved an hour later, 03:30 CEST.
        assert_eq!(to_utc("2021-03-28 02:30:00", "Europe/Brussels"), "2021-03-28 01:30:00");
        // 02:30 happens twice on 2021-10-31: the earlier offset (CEST) is taken.
        assert_eq!(to_utc("2021-10-31 02:30:00", "Europe/Brussels"), "2021-10-31 00:30:00");
    }

    #[test]
    fn before_a_zone_rule_nothing_is_answered() {
        assert_eq!(zone("Europe/Brussels").unwrap().offset_at(parse_timestamp("1990-06-01 00:00:00").unwrap()), None);
        assert_eq!(zone("asia/seoul"), None);
    }
}
