//! SAS times (`st`, `se`, and a stored policy's start/expiry): the ISO 8601 forms Azure accepts.

use time::{Date, Month, OffsetDateTime, PrimitiveDateTime, Time, UtcOffset};

/// Parses `YYYY-MM-DD`, `YYYY-MM-DDThh:mm[:ss[.fffffff]]` followed by `Z`, `±hh:mm` or nothing (UTC).
pub(crate) fn parse(text: &str) -> Option<OffsetDateTime> {
    let text = text.trim();
    let (date_part, rest) = match text.split_once(['T', 't']) {
        Some((d, r)) => (d, Some(r)),
        None => (text, None),
    };
    let date = parse_date(date_part)?;
    let Some(rest) = rest else {
        return Some(PrimitiveDateTime::new(date, Time::MIDNIGHT).assume_utc());
    };
    let (clock, offset) = split_offset(rest)?;
    let time = parse_clock(clock)?;
    Some(
        PrimitiveDateTime::new(date, time)
            .assume_offset(offset)
            .to_offset(UtcOffset::UTC),
    )
}

fn parse_date(s: &str) -> Option<Date> {
    let mut parts = s.split('-');
    let year = number(parts.next()?, 4)?;
    let month = number(parts.next()?, 2)?;
    let day = number(parts.next()?, 2)?;
    if parts.next().is_some() {
        return None;
    }
    Date::from_calendar_date(
        i32::try_from(year).ok()?,
        Month::try_from(u8::try_from(month).ok()?).ok()?,
        u8::try_from(day).ok()?,
    )
    .ok()
}

fn split_offset(s: &str) -> Option<(&str, UtcOffset)> {
    if let Some(clock) = s.strip_suffix(['Z', 'z']) {
        return Some((clock, UtcOffset::UTC));
    }
    match s.rfind(['+', '-']) {
        Some(at) => {
            let (clock, offset) = s.split_at(at);
            let sign: i8 = if offset.starts_with('-') { -1 } else { 1 };
            let (hours, minutes) = offset[1..].split_once(':')?;
            let hours = i8::try_from(number(hours, 2)?).ok()?;
            let minutes = i8::try_from(number(minutes, 2)?).ok()?;
            Some((
                clock,
                UtcOffset::from_hms(sign * hours, sign * minutes, 0).ok()?,
            ))
        }
        None => Some((s, UtcOffset::UTC)),
    }
}

fn parse_clock(s: &str) -> Option<Time> {
    let (hms, fraction) = match s.split_once('.') {
        Some((hms, f)) => (hms, Some(f)),
        None => (s, None),
    };
    let mut parts = hms.split(':');
    let hour = u8::try_from(number(parts.next()?, 2)?).ok()?;
    let minute = u8::try_from(number(parts.next()?, 2)?).ok()?;
    let second = match parts.next() {
        Some(sec) => u8::try_from(number(sec, 2)?).ok()?,
        None if fraction.is_none() => 0,
        None => return None,
    };
    if parts.next().is_some() {
        return None;
    }
    let nanos = match fraction {
        Some(f) if !f.is_empty() && f.len() <= 9 && f.bytes().all(|b| b.is_ascii_digit()) => {
            let digits: u32 = f.parse().ok()?;
            digits * 10u32.pow(9 - f.len() as u32)
        }
        Some(_) => return None,
        None => 0,
    };
    Time::from_hms_nano(hour, minute, second, nanos).ok()
}

/// Exactly `len` ASCII digits.
fn number(s: &str, len: usize) -> Option<u32> {
    if s.len() != len || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn accepts_the_documented_forms() {
        assert_eq!(parse("2026-01-01"), Some(datetime!(2026-01-01 0:00 UTC)));
        assert_eq!(
            parse("2026-01-01T10:20Z"),
            Some(datetime!(2026-01-01 10:20 UTC))
        );
        assert_eq!(
            parse("2026-01-01T10:20:30Z"),
            Some(datetime!(2026-01-01 10:20:30 UTC))
        );
        assert_eq!(
            parse("2026-01-01T10:20:30.1234567Z"),
            Some(datetime!(2026-01-01 10:20:30.1234567 UTC))
        );
        assert_eq!(
            parse("2026-01-01T10:20:30+02:00"),
            Some(datetime!(2026-01-01 8:20:30 UTC))
        );
        assert_eq!(
            parse("2026-01-01T10:20:30-01:30"),
            Some(datetime!(2026-01-01 11:50:30 UTC))
        );
        assert_eq!(
            parse("2026-01-01T10:20:30"),
            Some(datetime!(2026-01-01 10:20:30 UTC))
        );
    }

    #[test]
    fn rejects_malformed_times() {
        for bad in [
            "",
            "2026",
            "2026-13-01",
            "2026-02-30",
            "26-01-01",
            "2026-01-01T",
            "2026-01-01T25:00Z",
            "2026-01-01T10:20:30.Z",
            "2026-01-01T10:20:30.1234567890Z",
            "2026-01-01T10Z",
            "tomorrow",
            "2026-01-01T10:20:30+2",
        ] {
            assert_eq!(parse(bad), None, "{bad}");
        }
    }
}
