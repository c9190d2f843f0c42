//! The `Date` header: an IMF-fixdate, formatted once per second.
#![deny(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::fmt;
use std::time::{SystemTime, UNIX_EPOCH};

use crate::wire::date::civil_from_days;

/// A `Date` header value: an IMF-fixdate (RFC 9110 §5.6.7) such as
/// `Sun, 06 Nov 1994 08:49:37 GMT`.
///
/// It remembers the second it names, so a server can [`update`](HttpDate::update) it from the
/// clock for every response and format it only once per second. Dates before 1970 are written
/// as 1970-01-01, dates after 9999 as the last second of 9999.
///
/// ```
/// use prometheus_aioexporter::internals::HttpDate;
/// use std::time::{Duration, UNIX_EPOCH};
///
/// let mut date = HttpDate::from_unix_secs(784_111_777);
/// assert_eq!(date.as_str(), "Sun, 06 Nov 1994 08:49:37 GMT");
/// date.update(UNIX_EPOCH + Duration::from_secs(951_782_400));
/// assert_eq!(date.as_str(), "Tue, 29 Feb 2000 00:00:00 GMT");
/// ```
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct HttpDate {
    unix_secs: u64,
    text: [u8; 29],
}

/// 9999-12-31T23:59:59Z, the last second a four-digit year can name.
const LAST_HTTP_DATE_SECS: u64 = 253_402_300_799;

impl HttpDate {
    /// The date `unix_secs` seconds after 1970-01-01T00:00:00Z.
    pub fn from_unix_secs(unix_secs: u64) -> HttpDate {
        let unix_secs = unix_secs.min(LAST_HTTP_DATE_SECS);
        let days = unix_secs / 86_400;
        let secs_of_day = unix_secs % 86_400;
        let (year, month, day) = civil_from_days(days as i64);
        let (year, month0, day) = (year as u64, u64::from(month) - 1, u64::from(day));
        let weekday = (days + 4) % 7; // 1970-01-01 was a Thursday; 0 = Sunday

        const WEEKDAYS: &[u8; 21] = b"SunMonTueWedThuFriSat";
        const MONTHS: &[u8; 36] = b"JanFebMarAprMayJunJulAugSepOctNovDec";
        let mut text = *b"Thu, 01 Jan 1970 00:00:00 GMT";
        let mut put = |at: usize, bytes: &[u8]| {
            if let Some(slot) = text.get_mut(at..at + bytes.len()) {
                slot.copy_from_slice(bytes);
            }
        };
        fn three(table: &[u8], i: u64) -> Option<&[u8]> {
            table.get(i as usize * 3..i as usize * 3 + 3)
        }
        put(0, three(WEEKDAYS, weekday).unwrap_or(b"Thu"));
        put(5, &two_digits(day));
        put(8, three(MONTHS, month0).unwrap_or(b"Jan"));
        put(12, &two_digits(year / 100));
        put(14, &two_digits(year % 100));
        put(17, &two_digits(secs_of_day / 3_600));
        put(20, &two_digits(secs_of_day / 60 % 60));
        put(23, &two_digits(secs_of_day % 60));
        HttpDate { unix_secs, text }
    }

    /// The date now, from the system clock.
    pub fn now() -> HttpDate {
        HttpDate::from_unix_secs(unix_secs(SystemTime::now()))
    }

    /// Makes this the date of `now`, formatting only if the second changed.
    pub fn update(&mut self, now: SystemTime) {
        let secs = unix_secs(now).min(LAST_HTTP_DATE_SECS);
        if secs != self.unix_secs {
            *self = HttpDate::from_unix_secs(secs);
        }
    }

    /// The header value, 29 ASCII characters.
    pub fn as_str(&self) -> &str {
        std::str::from_utf8(&self.text).unwrap_or("")
    }
}

impl fmt::Debug for HttpDate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Whole seconds since 1970; 0 for a clock set before it.
fn unix_secs(time: SystemTime) -> u64 {
    time.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

/// `n` (below 100) as two ASCII digits.
fn two_digits(n: u64) -> [u8; 2] {
    [b'0' + (n / 10 % 10) as u8, b'0' + (n % 10) as u8]
}

#[cfg(test)]
#[allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
mod tests {
    use super::*;

    #[test]
    fn http_dates() {
        let cases: &[(u64, &str)] = &[
            (0, "Thu, 01 Jan 1970 00:00:00 GMT"),
            (784_111_777, "Sun, 06 Nov 1994 08:49:37 GMT"),
            (951_782_399, "Mon, 28 Feb 2000 23:59:59 GMT"),
            (951_782_400, "Tue, 29 Feb 2000 00:00:00 GMT"),
            (951_868_800, "Wed, 01 Mar 2000 00:00:00 GMT"),
            (1_709_164_800, "Thu, 29 Feb 2024 00:00:00 GMT"),
            (1_798_761_599, "Thu, 31 Dec 2026 23:59:59 GMT"),
            (4_107_456_000, "Sun, 28 Feb 2100 00:00:00 GMT"),
            (4_107_542_400, "Mon, 01 Mar 2100 00:00:00 GMT"),
            (253_402_300_799, "Fri, 31 Dec 9999 23:59:59 GMT"),
            (253_402_300_800, "Fri, 31 Dec 9999 23:59:59 GMT"),
            (u64::MAX, "Fri, 31 Dec 9999 23:59:59 GMT"),
        ];
        for &(secs, text) in cases {
            assert_eq!(HttpDate::from_unix_secs(secs).as_str(), text, "{secs}");
        }
    }

    #[test]
    fn http_date_updates_when_the_second_changes() {
        use std::time::Duration;
        let mut date = HttpDate::from_unix_secs(0);
        date.update(UNIX_EPOCH + Duration::from_millis(999));
        assert_eq!(date.as_str(), "Thu, 01 Jan 1970 00:00:00 GMT");
        date.update(UNIX_EPOCH + Duration::from_millis(86_400_500));
        assert_eq!(date.as_str(), "Fri, 02 Jan 1970 00:00:00 GMT");
        date.update(UNIX_EPOCH - Duration::from_secs(1));
        assert_eq!(date.as_str(), "Thu, 01 Jan 1970 00:00:00 GMT");
    }
}
