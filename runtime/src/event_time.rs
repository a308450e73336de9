//! Event time: reading the timestamps that thresholds and dedup windows are
//! measured on, and parsing the durations tests step them by.

use std::time::Duration;

pub use jiff::Timestamp;

use crate::Node;

/// Panther's standard field for the normalised event time.
pub const P_EVENT_TIME: &str = "p_event_time";

/// Parses an event timestamp.
///
/// Accepted: RFC 3339 / ISO 8601 with an offset (`2024-06-01T10:00:00Z`,
/// `2024-06-01T12:00:00.123+02:00`), the same without an offset, read as UTC
/// (Panther's `p_event_time`, `2024-06-01 10:00:00.000000000`), and a JSON
/// number of seconds since the Unix epoch (a fraction is kept).
pub fn parse_timestamp(text: &str) -> Option<Timestamp> {
    let text = text.trim();
    if let Ok(ts) = text.parse::<Timestamp>() {
        return Some(ts);
    }
    let civil = text.parse::<jiff::civil::DateTime>().ok()?;
    jiff::tz::TimeZone::UTC.to_timestamp(civil).ok()
}

/// Reads a node holding a timestamp: a string as [`parse_timestamp`] reads it,
/// or a number of seconds since the Unix epoch.
pub fn timestamp_of<'a, N: Node<'a>>(node: N) -> Option<Timestamp> {
    if let Some(text) = node.as_str() {
        return parse_timestamp(text);
    }
    let seconds = node.as_number()?.as_f64();
    if !seconds.is_finite() {
        return None;
    }
    let nanos = (seconds * 1e9).round();
    if nanos.abs() > i64::MAX as f64 {
        return None;
    }
    Timestamp::from_nanosecond(nanos as i128).ok()
}

/// An event's time: its `p_event_time` when that holds a timestamp, else the
/// field at `path` (its log type's `EventTime`), else `None`.
pub fn event_time_of<'a, N: Node<'a>>(event: N, path: Option<&[&str]>) -> Option<Timestamp> {
    if let Some(time) = event.get(P_EVENT_TIME).and_then(timestamp_of) {
        return Some(time);
    }
    let mut node = event;
    for key in path? {
        node = node.get(key)?;
    }
    timestamp_of(node)
}

/// Parses a test's step between repeated events: a whole number followed by
/// `ms`, `s`, `m`, `h` or `d` (`30s`, `2m`, `1h`).
pub fn parse_step(text: &str) -> Option<Duration> {
    let text = text.trim();
    let split = text.find(|c: char| !c.is_ascii_digit())?;
    let (digits, unit) = text.split_at(split);
    let count: u64 = digits.parse().ok()?;
    let unit_millis: u64 = match unit {
        "ms" => 1,
        "s" => 1_000,
        "m" => 60_000,
        "h" => 3_600_000,
        "d" => 86_400_000,
        _ => return None,
    };
    count.checked_mul(unit_millis).map(Duration::from_millis)
}

/// Adds a duration to a timestamp, saturating at the largest time jiff holds.
pub fn add(time: Timestamp, step: Duration) -> Timestamp {
    let signed = jiff::SignedDuration::try_from(step).unwrap_or(jiff::SignedDuration::MAX);
    time.checked_add(signed).unwrap_or(Timestamp::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_rfc3339_and_panther_event_time() {
        let a = parse_timestamp("2024-06-01T10:00:00Z");
        let b = parse_timestamp("2024-06-01 10:00:00.000000000");
        let c = parse_timestamp("2024-06-01T12:00:00+02:00");
        assert!(a.is_some());
        assert_eq!(a, b);
        assert_eq!(a, c);
        assert_eq!(parse_timestamp("yesterday"), None);
        assert_eq!(parse_timestamp(""), None);
    }

    #[test]
    fn reads_epoch_seconds() {
        let event =
            serde_json::json!({"t": 1717236000, "f": 1717236000.5, "s": "2024-06-01T10:00:00Z"});
        let whole = timestamp_of(&event["t"]);
        assert_eq!(whole, timestamp_of(&event["s"]));
        let half = timestamp_of(&event["f"]).map(|t| t.subsec_millisecond());
        assert_eq!(half, Some(500));
        assert_eq!(timestamp_of(&event["missing"]), None);
    }

    #[test]
    fn event_time_prefers_p_event_time() {
        let both = serde_json::json!({"p_event_time": "2024-06-01 10:00:00.000", "a": {"t": "2025-01-01T00:00:00Z"}});
        let model_only = serde_json::json!({"a": {"t": "2024-06-01T10:00:00Z"}});
        let expected = parse_timestamp("2024-06-01T10:00:00Z");
        assert_eq!(event_time_of(&both, Some(&["a", "t"])), expected);
        assert_eq!(event_time_of(&model_only, Some(&["a", "t"])), expected);
        assert_eq!(event_time_of(&model_only, None), None);
        assert_eq!(event_time_of(&model_only, Some(&["a", "x"])), None);
    }

    #[test]
    fn parses_steps() {
        assert_eq!(parse_step("30s"), Some(Duration::from_secs(30)));
        assert_eq!(parse_step("2m"), Some(Duration::from_secs(120)));
        assert_eq!(parse_step("1h"), Some(Duration::from_secs(3600)));
        assert_eq!(parse_step("250ms"), Some(Duration::from_millis(250)));
        assert_eq!(parse_step("s"), None);
        assert_eq!(parse_step("5"), None);
        assert_eq!(parse_step("5w"), None);
    }
}
