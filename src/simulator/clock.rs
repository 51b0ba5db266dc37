//! Simulated time: the clock every timestamp of the simulator comes from, and the
//! Asterisk-style renderings of it.
//!
//! Owns: [`SimClock`] (real wall-clock time, or a manual clock that only moves when a test
//! calls `SimHandle::advance`) and the text formats Asterisk uses for times (`Ping`'s
//! `<sec>.<usec>`, security events' `EventTV`, `CoreStatus` dates, uniqueid seconds).
//! Knows nothing of queues, channels or sockets.
//!
//! Times are microseconds since the Unix epoch (`u64`), so that a manual clock can be set to
//! the exact instant of a real capture and reproduce its integer-second arithmetic
//! (app_queue computes hold and talk times from `time(NULL)` differences).

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// Microseconds since the Unix epoch.
pub type Micros = u64;

/// The simulator's clock.
#[derive(Debug, Clone)]
pub(crate) enum SimClock {
    /// Wall-clock time: `base` epoch time at `origin`, plus the monotonic time elapsed.
    Real { base: Micros, origin: Instant },
    /// A clock that moves only when told to (tests, benchmarks).
    Manual { now: Micros },
}

impl SimClock {
    /// A real clock starting now.
    pub(crate) fn real() -> Self {
        let base = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_micros() as Micros);
        SimClock::Real {
            base,
            origin: Instant::now(),
        }
    }

    /// A manual clock standing at `start` (time since the epoch).
    pub(crate) fn manual(start: Duration) -> Self {
        SimClock::Manual {
            now: start.as_micros() as Micros,
        }
    }

    /// The current time.
    pub(crate) fn now(&self) -> Micros {
        match self {
            SimClock::Real { base, origin } => base + origin.elapsed().as_micros() as Micros,
            SimClock::Manual { now } => *now,
        }
    }

    /// Sets a manual clock (never moves it backwards); no effect on a real clock.
    pub(crate) fn set(&mut self, to: Micros) {
        if let SimClock::Manual { now } = self {
            *now = (*now).max(to);
        }
    }

    /// `true` for a manual clock.
    pub(crate) fn is_manual(&self) -> bool {
        matches!(self, SimClock::Manual { .. })
    }

    /// The monotonic instant at which a real clock reads `at` (now for a manual clock).
    pub(crate) fn instant_of(&self, at: Micros) -> Instant {
        match self {
            SimClock::Real { base, origin } => {
                *origin + Duration::from_micros(at.saturating_sub(*base))
            }
            SimClock::Manual { .. } => Instant::now(),
        }
    }
}

/// Whole seconds of a time (what `time(NULL)` returns).
pub(crate) fn secs(t: Micros) -> i64 {
    (t / 1_000_000) as i64
}

/// `<sec>.<usec>` with six digits, as `Ping`'s `Timestamp:` (`%ld.%06lu`).
pub(crate) fn timeval(t: Micros) -> String {
    format!("{}.{:06}", t / 1_000_000, t % 1_000_000)
}

/// Security events' `EventTV`/`SessionTV`: `2026-11-26T03:59:59.472+0000` (UTC).
pub(crate) fn event_tv(t: Micros) -> String {
    let c = Civil::from_secs(secs(t));
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}+0000",
        c.year,
        c.month,
        c.day,
        c.hour,
        c.minute,
        c.second,
        (t % 1_000_000) / 1000
    )
}

/// `YYYY-MM-DD` (UTC; the simulator's "local time" is UTC).
pub(crate) fn date(t: Micros) -> String {
    let c = Civil::from_secs(secs(t));
    format!("{:04}-{:02}-{:02}", c.year, c.month, c.day)
}

/// `HH:MM:SS` (UTC).
pub(crate) fn time_of_day(t: Micros) -> String {
    let c = Civil::from_secs(secs(t));
    format!("{:02}:{:02}:{:02}", c.hour, c.minute, c.second)
}

/// A UTC calendar time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Civil {
    pub year: i64,
    pub month: u32,
    pub day: u32,
    pub hour: u32,
    pub minute: u32,
    pub second: u32,
}

impl Civil {
    /// Converts epoch seconds (Howard Hinnant's `civil_from_days`).
    pub(crate) fn from_secs(t: i64) -> Civil {
        let days = t.div_euclid(86_400);
        let rem = t.rem_euclid(86_400);
        let z = days + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z - era * 146_097;
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
        let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
        let year = yoe + era * 400 + i64::from(month <= 2);
        Civil {
            year,
            month,
            day,
            hour: (rem / 3600) as u32,
            minute: (rem % 3600 / 60) as u32,
            second: (rem % 60) as u32,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_match_the_capture() {
        // SuccessfulAuth of session1: EventTV 2026-11-26T03:59:59.472+0000.
        let t = 1_795_665_599_472_123;
        assert_eq!(event_tv(t), "2026-11-26T03:59:59.472+0000");
        assert_eq!(timeval(1_795_665_600_473_221), "1795665600.473221");
        assert_eq!(timeval(1_000_000_000_000_001), "1000000000.000001");
        assert_eq!(date(t), "2026-11-26");
        assert_eq!(time_of_day(t), "03:59:59");
        assert_eq!(
            Civil::from_secs(0),
            Civil {
                year: 1970,
                month: 1,
                day: 1,
                hour: 0,
                minute: 0,
                second: 0
            }
        );
        assert_eq!(date(951_782_400 * 1_000_000), "2000-02-29");
    }

    #[test]
    fn manual_clock_moves_only_forward() {
        let mut c = SimClock::manual(Duration::from_secs(100));
        assert_eq!(c.now(), 100_000_000);
        c.set(150_000_000);
        c.set(120_000_000);
        assert_eq!(c.now(), 150_000_000);
        assert!(c.is_manual());
    }
}
