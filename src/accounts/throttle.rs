//! Per-address login throttling: every failure is answered a little slower, and a run of
//! failures locks the address out for a while, each further lockout twice as long (capped).
//! A success clears the address. Memory is bounded: the table forgets the stalest entries.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// At most this many addresses are remembered (an attacker rotating addresses cannot grow the
/// table without bound).
const MAX_TRACKED: usize = 4096;

#[derive(Debug, Clone)]
pub struct ThrottlePolicy {
    pub threshold: u32,
    pub base_lockout: Duration,
    pub max_lockout: Duration,
    pub failure_delay: Duration,
}

#[derive(Debug, PartialEq, Eq)]
pub enum ThrottleVerdict {
    Allowed,
    Locked(Duration),
}

/// What a failure led to.
#[derive(Debug, PartialEq, Eq)]
pub struct FailureOutcome {
    pub consecutive_failures: u32,
    /// How long to wait before answering this failure.
    pub delay: Duration,
    /// Set when this failure started a lockout.
    pub locked_for: Option<Duration>,
}

#[derive(Debug, Clone)]
struct AddressState {
    failures: u32,
    lockouts: u32,
    locked_until: Option<Instant>,
    last_seen: Instant,
}

pub struct LoginThrottle {
    policy: ThrottlePolicy,
    table: Mutex<HashMap<IpAddr, AddressState>>,
    now: Box<dyn Fn() -> Instant + Send + Sync>,
}

impl LoginThrottle {
    pub fn new(policy: ThrottlePolicy) -> LoginThrottle {
        LoginThrottle::with_clock(policy, Box::new(Instant::now))
    }

    /// A throttle reading time from `now` (tests drive it by hand).
    pub fn with_clock(
        policy: ThrottlePolicy,
        now: Box<dyn Fn() -> Instant + Send + Sync>,
    ) -> LoginThrottle {
        LoginThrottle {
            policy,
            table: Mutex::new(HashMap::new()),
            now,
        }
    }

    pub fn check(&self, address: IpAddr) -> ThrottleVerdict {
        let now = (self.now)();
        let table = self.table.lock().unwrap_or_else(|p| p.into_inner());
        match table.get(&address).and_then(|state| state.locked_until) {
            Some(until) if until > now => ThrottleVerdict::Locked(until - now),
            _ => ThrottleVerdict::Allowed,
        }
    }

    pub fn record_success(&self, address: IpAddr) {
        let mut table = self.table.lock().unwrap_or_else(|p| p.into_inner());
        table.remove(&address);
    }

    pub fn record_failure(&self, address: IpAddr) -> FailureOutcome {
        let now = (self.now)();
        let mut table = self.table.lock().unwrap_or_else(|p| p.into_inner());
        if table.len() >= MAX_TRACKED && !table.contains_key(&address) {
            forget_stalest(&mut table);
        }
        let state = table.entry(address).or_insert(AddressState {
            failures: 0,
            lockouts: 0,
            locked_until: None,
            last_seen: now,
        });
        state.last_seen = now;
        state.failures += 1;
        let consecutive_failures = state.failures;
        // 1×, 2×, 3× … the base delay, capped at 8× so an answer never hangs for long.
        let delay = self.policy.failure_delay * consecutive_failures.min(8);
        let mut locked_for = None;
        if state.failures >= self.policy.threshold {
            let factor = 2u32.saturating_pow(state.lockouts.min(20));
            let lockout = (self.policy.base_lockout * factor).min(self.policy.max_lockout);
            state.locked_until = Some(now + lockout);
            state.lockouts += 1;
            state.failures = 0;
            locked_for = Some(lockout);
        }
        FailureOutcome {
            consecutive_failures,
            delay,
            locked_for,
        }
    }
}

fn forget_stalest(table: &mut HashMap<IpAddr, AddressState>) {
    if let Some(stalest) = table
        .iter()
        .filter(|(_, state)| state.locked_until.is_none())
        .min_by_key(|(_, state)| state.last_seen)
        .or_else(|| table.iter().min_by_key(|(_, state)| state.last_seen))
        .map(|(address, _)| *address)
    {
        table.remove(&stalest);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    fn clocked() -> (LoginThrottle, Arc<Mutex<Instant>>) {
        let clock = Arc::new(Mutex::new(Instant::now()));
        let reader = Arc::clone(&clock);
        let throttle = LoginThrottle::with_clock(
            ThrottlePolicy {
                threshold: 3,
                base_lockout: Duration::from_secs(60),
                max_lockout: Duration::from_secs(200),
                failure_delay: Duration::from_millis(100),
            },
            Box::new(move || *reader.lock().unwrap()),
        );
        (throttle, clock)
    }

    #[test]
    fn lockouts_double_up_to_the_cap() {
        let (throttle, clock) = clocked();
        let addr: IpAddr = "192.0.2.7".parse().unwrap();
        let other: IpAddr = "192.0.2.8".parse().unwrap();
        let advance = |secs| *clock.lock().unwrap() += Duration::from_secs(secs);

        assert_eq!(
            throttle.record_failure(addr).delay,
            Duration::from_millis(100)
        );
        assert_eq!(
            throttle.record_failure(addr).delay,
            Duration::from_millis(200)
        );
        assert_eq!(throttle.check(addr), ThrottleVerdict::Allowed);
        let third = throttle.record_failure(addr);
        assert_eq!(third.locked_for, Some(Duration::from_secs(60)));
        assert_eq!(
            throttle.check(addr),
            ThrottleVerdict::Locked(Duration::from_secs(60))
        );
        assert_eq!(throttle.check(other), ThrottleVerdict::Allowed);

        advance(61);
        assert_eq!(throttle.check(addr), ThrottleVerdict::Allowed);
        for _ in 0..2 {
            assert_eq!(throttle.record_failure(addr).locked_for, None);
        }
        assert_eq!(
            throttle.record_failure(addr).locked_for,
            Some(Duration::from_secs(120))
        );
        advance(121);
        for _ in 0..2 {
            throttle.record_failure(addr);
        }
        assert_eq!(
            throttle.record_failure(addr).locked_for,
            Some(Duration::from_secs(200))
        );
    }

    #[test]
    fn success_clears_the_address() {
        let (throttle, _clock) = clocked();
        let addr: IpAddr = "::1".parse().unwrap();
        throttle.record_failure(addr);
        throttle.record_failure(addr);
        throttle.record_success(addr);
        assert_eq!(throttle.record_failure(addr).consecutive_failures, 1);
    }

    #[test]
    fn table_stays_bounded() {
        let (throttle, _clock) = clocked();
        for n in 0..(MAX_TRACKED as u32 + 50) {
            throttle.record_failure(IpAddr::from(n.to_be_bytes()));
        }
        assert!(throttle.table.lock().unwrap().len() <= MAX_TRACKED);
    }
}
