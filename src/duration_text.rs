//! Durations as a person reads them: `5m 0s` for a wait that ran five minutes and a few
//! milliseconds, not `5m 4ms 152us 580ns`.

use std::time::Duration;

/// Whole seconds from one second up, whole milliseconds below.
pub fn rounded(duration: Duration) -> humantime::FormattedDuration {
    let rounded = if duration >= Duration::from_secs(1) {
        Duration::from_secs(duration.as_secs_f64().round() as u64)
    } else {
        Duration::from_millis((duration.as_secs_f64() * 1000.0).round() as u64)
    };
    humantime::format_duration(rounded)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_print_in_whole_seconds_and_short_ones_in_milliseconds() {
        let cases = [
            (Duration::new(300, 4_152_580), "5m"),
            (Duration::new(304, 600_000_000), "5m 5s"),
            (Duration::new(20, 1), "20s"),
            (Duration::from_micros(1_500), "2ms"),
            (Duration::ZERO, "0s"),
        ];
        for (duration, text) in cases {
            assert_eq!(rounded(duration).to_string(), text, "{duration:?}");
        }
    }
}
