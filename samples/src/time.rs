//! Timestamp text in the formats of each log shape and of Panther's
//! `p_event_time`.

use jiff::{tz::Offset, Timestamp};

/// The civil UTC fields of a timestamp: date and time text
/// (`2024-06-01`, `00:00:01`) and the nanoseconds of the second.
fn parts(time: Timestamp) -> (String, String, u32) {
    let civil = Offset::UTC.to_datetime(time);
    let date = format!(
        "{:04}-{:02}-{:02}",
        civil.year(),
        civil.month(),
        civil.day()
    );
    let clock = format!(
        "{:02}:{:02}:{:02}",
        civil.hour(),
        civil.minute(),
        civil.second()
    );
    let nanos = u32::try_from(civil.subsec_nanosecond()).unwrap_or(0);
    (date, clock, nanos)
}

/// RFC 3339 with microseconds and `Z` (Kubernetes audit events:
/// `2024-06-01T00:00:01.123456Z`).
pub(crate) fn micros_z(time: Timestamp) -> String {
    let (date, clock, nanos) = parts(time);
    format!("{date}T{clock}.{:06}Z", nanos / 1_000)
}

/// RFC 3339 with 100-nanosecond ticks and `Z` (Azure Monitor's `time`:
/// `2024-06-01T00:00:01.1234560Z`).
pub(crate) fn ticks_z(time: Timestamp) -> String {
    let (date, clock, nanos) = parts(time);
    format!("{date}T{clock}.{:07}Z", nanos / 100)
}

/// RFC 3339 with nanoseconds and `Z` (Google Cloud Logging's `timestamp`:
/// `2024-06-01T00:00:01.123456000Z`).
pub(crate) fn nanos_z(time: Timestamp) -> String {
    let (date, clock, nanos) = parts(time);
    format!("{date}T{clock}.{nanos:09}Z")
}

/// Panther's `p_event_time`: UTC without an offset, nanoseconds
/// (`2024-06-01 00:00:01.123456000`).
pub(crate) fn panther(time: Timestamp) -> String {
    let (date, clock, nanos) = parts(time);
    format!("{date} {clock}.{nanos:09}")
}

/// The klog header time of Kubernetes component logs (`0601 00:00:01.123456`).
pub(crate) fn klog(time: Timestamp) -> String {
    let civil = Offset::UTC.to_datetime(time);
    let micros = civil.subsec_nanosecond() / 1_000;
    format!(
        "{:02}{:02} {:02}:{:02}:{:02}.{micros:06}",
        civil.month(),
        civil.day(),
        civil.hour(),
        civil.minute(),
        civil.second()
    )
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // A failed unwrap is a failed test.
mod tests {
    use super::*;

    #[test]
    fn formats() {
        let time: Timestamp = "2024-06-01T00:00:01.123456Z".parse().unwrap();
        assert_eq!(micros_z(time), "2024-06-01T00:00:01.123456Z");
        assert_eq!(ticks_z(time), "2024-06-01T00:00:01.1234560Z");
        assert_eq!(nanos_z(time), "2024-06-01T00:00:01.123456000Z");
        assert_eq!(panther(time), "2024-06-01 00:00:01.123456000");
        assert_eq!(klog(time), "0601 00:00:01.123456");
        // Every form reads back as the same instant.
        for text in [micros_z(time), ticks_z(time), nanos_z(time)] {
            assert_eq!(text.parse::<Timestamp>().unwrap(), time);
        }
    }
}
