//! Reconnect delays: capped exponential backoff with jitter.
//!
//! Owns only the arithmetic of "how long to wait before the next connection attempt".
//! Knows nothing of sockets, AMI, queues or agents.
//!
//! Delay *n* (0-based) is `min(max, min_delay · 2ⁿ)`, then "equal jitter": a uniformly random
//! value in `[d/2, d]`, so a fleet of clients (or a quickly restarting Asterisk) does not see
//! synchronised reconnects, while the delay never drops below half the nominal one.

use std::time::Duration;

/// Exponential backoff state; [`Backoff::reset`] after a connection that got logged in.
#[derive(Debug, Clone)]
pub(crate) struct Backoff {
    min: Duration,
    max: Duration,
    attempt: u32,
}

impl Backoff {
    pub(crate) fn new(min: Duration, max: Duration) -> Self {
        Backoff {
            min,
            max: max.max(min),
            attempt: 0,
        }
    }

    /// The nominal (un-jittered) delay of the next attempt.
    pub(crate) fn nominal(&self) -> Duration {
        let factor = 1u32.checked_shl(self.attempt.min(31)).unwrap_or(u32::MAX);
        self.min.saturating_mul(factor).min(self.max)
    }

    /// The delay to wait now; advances to the next attempt.
    pub(crate) fn next_delay(&mut self) -> Duration {
        let nominal = self.nominal();
        self.attempt = self.attempt.saturating_add(1);
        jitter(nominal)
    }

    pub(crate) fn reset(&mut self) {
        self.attempt = 0;
    }
}

/// A random duration in `[d/2, d]`.
pub(crate) fn jitter(d: Duration) -> Duration {
    let half = d / 2;
    let span = u64::try_from((d - half).as_micros()).unwrap_or(u64::MAX);
    let extra = if span == 0 {
        0
    } else {
        rand::random::<u64>() % (span + 1)
    };
    half + Duration::from_micros(extra)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grows_doubling_up_to_the_cap_with_jitter() {
        let mut b = Backoff::new(Duration::from_millis(500), Duration::from_secs(30));
        let mut nominal = Vec::new();
        for _ in 0..10 {
            let n = b.nominal();
            let d = b.next_delay();
            assert!(d >= n / 2 && d <= n, "{d:?} not in [{:?}, {n:?}]", n / 2);
            nominal.push(n.as_millis());
        }
        assert_eq!(
            nominal,
            [500, 1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000, 30000]
        );
        b.reset();
        assert_eq!(b.nominal(), Duration::from_millis(500));
    }

    #[test]
    fn huge_attempt_counts_do_not_overflow() {
        let mut b = Backoff::new(Duration::from_secs(1), Duration::from_secs(60));
        for _ in 0..100 {
            b.next_delay();
        }
        assert_eq!(b.nominal(), Duration::from_secs(60));
    }

    #[test]
    fn jitter_is_not_constant() {
        let d = Duration::from_secs(10);
        let samples: std::collections::HashSet<_> = (0..20).map(|_| jitter(d)).collect();
        assert!(samples.len() > 1);
    }
}
