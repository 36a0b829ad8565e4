//! Edm.DateTime text: ISO 8601 with up to 7 fractional digits, as Azure reads and writes it.

use std::fmt::Write;

use time::{Date, Month, OffsetDateTime, PrimitiveDateTime, Time, UtcOffset};

/// `2022-04-13T19:25:37.512524Z`: UTC, 100 ns precision, trailing fractional zeros dropped and
/// no fraction at all for whole seconds (as the recordings of Azure show for Timestamp and ETags).
pub fn format_datetime(t: OffsetDateTime) -> String {
    let mut out = String::with_capacity(28);
    DateTimeText::new(t).push_to(&mut out, ":");
    out
}

/// [`format_datetime`]'s text built on the stack, for writing into a response without an
/// allocation (and once for both an entity's Timestamp and its ETag).
pub(crate) struct DateTimeText {
    /// The longest text, `-9999-12-31T23:59:59.9999999Z`, has 29 bytes.
    bytes: [u8; 32],
    len: usize,
    /// Where the two `:` of the time of day are.
    colons: [usize; 2],
}

impl DateTimeText {
    pub(crate) fn new(t: OffsetDateTime) -> DateTimeText {
        let t = t.to_offset(UtcOffset::UTC);
        let (year, month, day) = t.to_calendar_date();
        let (hour, minute, second) = t.to_hms();
        let mut text = DateTimeText {
            bytes: [0; 32],
            len: 0,
            colons: [0; 2],
        };
        if (0..=9999).contains(&year) {
            text.two_digits((year / 100) as u8);
            text.two_digits((year % 100) as u8);
        } else {
            // Not reachable with `time`'s default year range; kept exact anyway.
            let _ = write!(text, "{year:04}");
        }
        text.push(b'-');
        text.two_digits(month as u8);
        text.push(b'-');
        text.two_digits(day);
        text.push(b'T');
        text.two_digits(hour);
        text.colons[0] = text.len;
        text.push(b':');
        text.two_digits(minute);
        text.colons[1] = text.len;
        text.push(b':');
        text.two_digits(second);
        let mut ticks = t.nanosecond() / 100;
        if ticks != 0 {
            let mut digits = [b'0'; 7];
            for d in digits.iter_mut().rev() {
                *d = b'0' + (ticks % 10) as u8;
                ticks /= 10;
            }
            let len = 7 - digits.iter().rev().take_while(|&&d| d == b'0').count();
            text.push(b'.');
            for &d in &digits[..len] {
                text.push(d);
            }
        }
        text.push(b'Z');
        text
    }

    /// Appends the text with `colon` for each `:` (ETags have `%3A`).
    pub(crate) fn push_to(&self, out: &mut String, colon: &str) {
        let text = std::str::from_utf8(&self.bytes[..self.len]).expect("only ASCII is written");
        let [first, second] = self.colons;
        out.push_str(&text[..first]);
        out.push_str(colon);
        out.push_str(&text[first + 1..second]);
        out.push_str(colon);
        out.push_str(&text[second + 1..]);
    }

    fn push(&mut self, b: u8) {
        self.bytes[self.len] = b;
        self.len += 1;
    }

    /// `v` (under 100) as two digits.
    fn two_digits(&mut self, v: u8) {
        self.push(b'0' + v / 10);
        self.push(b'0' + v % 10);
    }
}

impl Write for DateTimeText {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        let end = self.len + s.len();
        let room = self.bytes.get_mut(self.len..end).ok_or(std::fmt::Error)?;
        room.copy_from_slice(s.as_bytes());
        self.len = end;
        Ok(())
    }
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
