//! The date formats Azure puts on the wire: RFC 1123 in headers and listings, ISO 8601 with
//! seven fractional digits (100 ns ticks, as .NET prints them) in error bodies and snapshots.

use time::{Date, Month, OffsetDateTime, PrimitiveDateTime, Time, UtcOffset};

const WEEKDAYS: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// `Thu, 11 Aug 2022 15:07:27 GMT` (always in UTC). Written digit by digit: every response
/// carries one in `Date`, and `format!` was 2 % of a small GET.
pub fn rfc1123(t: OffsetDateTime) -> String {
    let t = t.to_offset(UtcOffset::UTC);
    let mut out = String::with_capacity(29);
    out.push_str(WEEKDAYS[t.weekday().number_days_from_monday() as usize]);
    out.push_str(", ");
    push_digits(&mut out, t.day() as u32, 2);
    out.push(' ');
    out.push_str(MONTHS[t.month() as usize - 1]);
    out.push(' ');
    push_digits(&mut out, t.year().clamp(0, 9999) as u32, 4);
    out.push(' ');
    push_digits(&mut out, t.hour() as u32, 2);
    out.push(':');
    push_digits(&mut out, t.minute() as u32, 2);
    out.push(':');
    push_digits(&mut out, t.second() as u32, 2);
    out.push_str(" GMT");
    out
}

/// `value` as exactly `width` decimal digits, zero-padded (`value` < 10^width).
fn push_digits(out: &mut String, value: u32, width: u32) {
    for place in (0..width).rev() {
        out.push(char::from(b'0' + (value / 10u32.pow(place) % 10) as u8));
    }
}

/// Parses an HTTP date: RFC 1123, RFC 850 or asctime form.
pub fn parse_http_date(s: &str) -> Option<OffsetDateTime> {
    let system = httpdate::parse_http_date(s.trim()).ok()?;
    Some(OffsetDateTime::from(system))
}

/// `2022-08-11T15:07:27.9577152Z`: seven fractional digits, truncated (not rounded) to 100 ns.
pub fn iso8601_7(t: OffsetDateTime) -> String {
    let t = t.to_offset(UtcOffset::UTC);
    format!("{}.{:07}Z", date_time_part(t), t.nanosecond() / 100)
}

/// `2022-08-11T15:07:27Z`.
pub fn iso8601_seconds(t: OffsetDateTime) -> String {
    format!("{}Z", date_time_part(t.to_offset(UtcOffset::UTC)))
}

fn date_time_part(t: OffsetDateTime) -> String {
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}",
        t.year(),
        t.month() as u8,
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

/// Parses the ISO 8601 forms Azure accepts: `YYYY-MM-DD`, `YYYY-MM-DDThh:mm[:ss[.f{1,7}]]`
/// followed by `Z` or `±hh:mm` (a missing zone means UTC, as Azure assumes for SAS times).
pub fn parse_iso8601(s: &str) -> Option<OffsetDateTime> {
    let b = s.as_bytes();
    let date = parse_date(b.get(..10)?)?;
    if b.len() == 10 {
        return Some(PrimitiveDateTime::new(date, Time::MIDNIGHT).assume_utc());
    }
    if b[10] != b'T' && b[10] != b't' {
        return None;
    }
    let rest = &b[11..];
    let hour = two_digits(rest.get(0..2)?)?;
    if *rest.get(2)? != b':' {
        return None;
    }
    let minute = two_digits(rest.get(3..5)?)?;
    let mut pos = 5;
    let mut second = 0;
    let mut nanos: u32 = 0;
    if rest.get(pos) == Some(&b':') {
        second = two_digits(rest.get(pos + 1..pos + 3)?)?;
        pos += 3;
        if rest.get(pos) == Some(&b'.') {
            pos += 1;
            let digits = rest[pos..]
                .iter()
                .take_while(|c| c.is_ascii_digit())
                .count();
            if !(1..=7).contains(&digits) {
                return None;
            }
            for (i, d) in rest[pos..pos + digits].iter().enumerate() {
                nanos += u32::from(d - b'0') * 10u32.pow(8 - i as u32);
            }
            pos += digits;
        }
    }
    let offset = parse_zone(&rest[pos..])?;
    let time = Time::from_hms_nano(hour, minute, second, nanos).ok()?;
    Some(PrimitiveDateTime::new(date, time).assume_offset(offset))
}

fn parse_date(b: &[u8]) -> Option<Date> {
    if b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let year = i32::from(two_digits(&b[0..2])?) * 100 + i32::from(two_digits(&b[2..4])?);
    let month = Month::try_from(two_digits(&b[5..7])?).ok()?;
    Date::from_calendar_date(year, month, two_digits(&b[8..10])?).ok()
}

fn parse_zone(b: &[u8]) -> Option<UtcOffset> {
    match b {
        [] | [b'Z'] | [b'z'] => Some(UtcOffset::UTC),
        [sign @ (b'+' | b'-'), h1, h2, b':', m1, m2] => {
            let hours = two_digits(&[*h1, *h2])? as i8;
            let minutes = two_digits(&[*m1, *m2])? as i8;
            let (hours, minutes) = if *sign == b'-' {
                (-hours, -minutes)
            } else {
                (hours, minutes)
            };
            UtcOffset::from_hms(hours, minutes, 0).ok()
        }
        _ => None,
    }
}

fn two_digits(b: &[u8]) -> Option<u8> {
    match b {
        [a @ b'0'..=b'9', c @ b'0'..=b'9'] => Some((a - b'0') * 10 + (c - b'0')),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn rfc1123_formats_like_azure() {
        assert_eq!(
            rfc1123(datetime!(2022-08-11 15:07:27.957 UTC)),
            "Thu, 11 Aug 2022 15:07:27 GMT"
        );
        assert_eq!(
            rfc1123(datetime!(2021-01-03 01:02:03 +02:00)),
            "Sat, 02 Jan 2021 23:02:03 GMT"
        );
    }

    #[test]
    fn parse_http_date_accepts_the_three_forms() {
        let want = datetime!(1994-11-06 08:49:37 UTC);
        assert_eq!(parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT"), Some(want));
        assert_eq!(
            parse_http_date("Sunday, 06-Nov-94 08:49:37 GMT"),
            Some(want)
        );
        assert_eq!(parse_http_date("Sun Nov  6 08:49:37 1994"), Some(want));
        assert_eq!(parse_http_date("06 Nov 1994"), None);
        assert_eq!(parse_http_date(""), None);
    }

    #[test]
    fn rfc1123_round_trips() {
        let t = datetime!(2049-06-11 20:00:00 UTC);
        assert_eq!(parse_http_date(&rfc1123(t)), Some(t));
    }

    #[test]
    fn rfc1123_agrees_with_httpdate() {
        // Every weekday, month, leap day and digit position, 1970 to 2105.
        let mut secs: i64 = 0;
        while secs < 4_260_000_000 {
            let t = OffsetDateTime::from_unix_timestamp(secs).unwrap();
            let system = std::time::UNIX_EPOCH + std::time::Duration::from_secs(secs as u64);
            assert_eq!(rfc1123(t), httpdate::fmt_http_date(system), "{secs}");
            secs += 86_399 * 3 + 7_777;
        }
    }

    #[test]
    fn iso8601_7_truncates_to_ticks() {
        assert_eq!(
            iso8601_7(datetime!(2022-08-11 15:07:27.957715299 UTC)),
            "2022-08-11T15:07:27.9577152Z"
        );
        assert_eq!(
            iso8601_7(datetime!(2021-06-11 20:00:00 UTC)),
            "2021-06-11T20:00:00.0000000Z"
        );
        assert_eq!(
            iso8601_seconds(datetime!(2022-08-11 15:07:27.9 +01:00)),
            "2022-08-11T14:07:27Z"
        );
    }

    #[test]
    fn parse_iso8601_forms() {
        assert_eq!(
            parse_iso8601("2049-06-11T20:00:00Z"),
            Some(datetime!(2049-06-11 20:00:00 UTC))
        );
        assert_eq!(
            parse_iso8601("2022-08-11T15:07:27.9577152Z"),
            Some(datetime!(2022-08-11 15:07:27.9577152 UTC))
        );
        assert_eq!(
            parse_iso8601("2022-08-11T15:07:27.5Z"),
            Some(datetime!(2022-08-11 15:07:27.5 UTC))
        );
        assert_eq!(
            parse_iso8601("2022-08-11"),
            Some(datetime!(2022-08-11 00:00:00 UTC))
        );
        assert_eq!(
            parse_iso8601("2022-08-11T15:07Z"),
            Some(datetime!(2022-08-11 15:07:00 UTC))
        );
        assert_eq!(
            parse_iso8601("2022-08-11T15:07:27"),
            Some(datetime!(2022-08-11 15:07:27 UTC))
        );
        assert_eq!(
            parse_iso8601("2022-08-11T17:07:27+02:00"),
            Some(datetime!(2022-08-11 15:07:27 UTC))
        );
        assert_eq!(
            parse_iso8601("2022-08-11T10:07:27-05:00"),
            Some(datetime!(2022-08-11 15:07:27 UTC))
        );
    }

    #[test]
    fn parse_iso8601_rejects_garbage() {
        for bad in [
            "",
            "2022",
            "2022-13-01",
            "2022-02-30",
            "2022-08-11X15:07:27Z",
            "2022-08-11T25:00:00Z",
            "2022-08-11T15:07:27.Z",
            "2022-08-11T15:07:27.12345678Z",
            "2022-08-11T15:07:27+2:00",
            "2022-08-11T15:07:27ZZ",
            "2022-08-11T",
            "２０２２-08-11",
            "2022-08-11T15:07:27+99:00",
        ] {
            assert_eq!(parse_iso8601(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn iso8601_7_round_trips() {
        let t = datetime!(2022-08-11 15:07:27.1234567 UTC);
        assert_eq!(parse_iso8601(&iso8601_7(t)), Some(t));
    }
}
