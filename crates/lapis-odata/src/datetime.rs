//! Edm.DateTime text: ISO 8601 with up to 7 fractional digits, as Azure reads and writes it.

use time::{Date, Month, OffsetDateTime, PrimitiveDateTime, Time, UtcOffset};

/// `2022-04-13T19:25:37.512524Z`: UTC, 100 ns precision, trailing fractional zeros dropped and
/// no fraction at all for whole seconds (as the recordings of Azure show for Timestamp and ETags).
pub fn format_datetime(t: OffsetDateTime) -> String {
    let t = t.to_offset(UtcOffset::UTC);
    let mut out = format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}",
        t.year(),
        t.month() as u8,
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    );
    let ticks = t.nanosecond() / 100;
    if ticks != 0 {
        let digits = format!("{ticks:07}");
        out.push('.');
        out.push_str(digits.trim_end_matches('0'));
    }
    out.push('Z');
    out
}

/// Parses `YYYY-MM-DDTHH:MM[:SS[.fffffff]][Z|±HH:MM]`; no zone means UTC. Digits beyond the
/// seventh fractional one are dropped (Azure's precision is 100 ns).
pub fn parse_datetime(s: &str) -> Option<OffsetDateTime> {
    let b = s.as_bytes();
    let num = |from: usize, len: usize| -> Option<u32> {
        let part = b.get(from..from + len)?;
        if !part.iter().all(u8::is_ascii_digit) {
            return None;
        }
        std::str::from_utf8(part).ok()?.parse().ok()
    };
    let sep = |at: usize, c: u8| b.get(at) == Some(&c);
    let year = num(0, 4)?;
    if !(sep(4, b'-') && sep(7, b'-') && (sep(10, b'T') || sep(10, b't'))) {
        return None;
    }
    let (month, day, hour) = (num(5, 2)?, num(8, 2)?, num(11, 2)?);
    if !sep(13, b':') {
        return None;
    }
    let minute = num(14, 2)?;
    let mut pos = 16;
    let mut second = 0;
    let mut nanos = 0u32;
    if sep(pos, b':') {
        second = num(pos + 1, 2)?;
        pos += 3;
        if sep(pos, b'.') {
            pos += 1;
            let start = pos;
            while b.get(pos).is_some_and(u8::is_ascii_digit) {
                pos += 1;
            }
            if pos == start {
                return None;
            }
            for (i, d) in b[start..pos].iter().take(7).enumerate() {
                nanos += u32::from(d - b'0') * 10u32.pow(8 - i as u32);
            }
        }
    }
    let offset = match b.get(pos) {
        None => UtcOffset::UTC,
        Some(b'Z') | Some(b'z') if pos + 1 == b.len() => UtcOffset::UTC,
        Some(&c @ (b'+' | b'-')) if pos + 6 == b.len() && sep(pos + 3, b':') => {
            let (h, m) = (num(pos + 1, 2)? as i8, num(pos + 4, 2)? as i8);
            let sign = if c == b'-' { -1 } else { 1 };
            UtcOffset::from_hms(sign * h, sign * m, 0).ok()?
        }
        _ => return None,
    };
    let date = Date::from_calendar_date(year as i32, Month::try_from(month as u8).ok()?, day as u8)
        .ok()?;
    let time = Time::from_hms_nano(hour as u8, minute as u8, second as u8, nanos).ok()?;
    Some(
        PrimitiveDateTime::new(date, time)
            .assume_offset(offset)
            .to_offset(UtcOffset::UTC),
    )
}
