//! Login throttling, per address and per account: every failure is answered a little slower,
//! and a run of failures locks the address (or the account) out for a while, each further
//! lockout twice as long (capped).
//!
//! Attempts count when they *arrive*, not when their hash is done: [`LoginThrottle::begin`]
//! reserves a place (a pending attempt) before the ~19 MiB argon2id hash is queued, and an
//! address with `failures + pending` at the threshold is refused at once. Counting after the
//! hash let 60 concurrent guesses through where 5 were allowed (issue 10).
//!
//! A success clears only what *that account* failed from *that address*: an agent logging in
//! as itself between guesses at the admin's password no longer resets the address (issue 10).
//! The account counter spans addresses (guessing from many addresses), with a higher
//! threshold ([`ACCOUNT_FACTOR`] × the address's) so that a stranger cannot lock the owner out
//! as cheaply as they can lock themselves out.
//!
//! Memory is bounded: each table forgets its stalest entries.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// At most this many addresses (and accounts, and address-account pairs) are remembered: an
/// attacker rotating addresses or usernames cannot grow the tables without bound.
const MAX_TRACKED: usize = 4096;

/// An account is locked after this many times the address threshold of failures.
pub const ACCOUNT_FACTOR: u32 = 4;

#[derive(Debug, Clone)]
pub struct ThrottlePolicy {
    pub threshold: u32,
    pub base_lockout: Duration,
    pub max_lockout: Duration,
    pub failure_delay: Duration,
}

/// What a failure led to.
#[derive(Debug, PartialEq, Eq)]
pub struct FailureOutcome {
    pub consecutive_failures: u32,
    /// How long to wait before answering this failure.
    pub delay: Duration,
    /// Set when this failure started a lockout (of the address or the account).
    pub locked_for: Option<Duration>,
}

#[derive(Debug, Clone)]
struct Counter {
    failures: u32,
    /// Attempts begun and not finished yet.
    pending: u32,
    lockouts: u32,
    locked_until: Option<Instant>,
    last_seen: Instant,
}

impl Counter {
    fn new(now: Instant) -> Counter {
        Counter {
            failures: 0,
            pending: 0,
            lockouts: 0,
            locked_until: None,
            last_seen: now,
        }
    }

    fn locked(&self, now: Instant) -> Option<Duration> {
        self.locked_until.filter(|u| *u > now).map(|u| u - now)
    }

    /// Starts a lockout when `failures` reached `threshold`.
    fn maybe_lock(
        &mut self,
        threshold: u32,
        policy: &ThrottlePolicy,
        now: Instant,
    ) -> Option<Duration> {
        if self.failures < threshold {
            return None;
        }
        let factor = 2u32.saturating_pow(self.lockouts.min(20));
        let lockout = (policy.base_lockout * factor).min(policy.max_lockout);
        self.locked_until = Some(now + lockout);
        self.lockouts += 1;
        self.failures = 0;
        Some(lockout)
    }
}

#[derive(Default)]
struct Tables {
    addresses: HashMap<IpAddr, Counter>,
    accounts: HashMap<String, Counter>,
    /// Failures of an account from an address, taken back when that account succeeds there.
    pairs: HashMap<(IpAddr, String), u32>,
}

pub struct LoginThrottle {
    policy: ThrottlePolicy,
    tables: Mutex<Tables>,
    now: Box<dyn Fn() -> Instant + Send + Sync>,
}

/// A login attempt that holds its place in the counts until it ends
/// ([`Attempt::succeeded`], [`Attempt::failed`], or dropped: neither).
pub struct Attempt<'a> {
    throttle: &'a LoginThrottle,
    address: IpAddr,
    account: String,
    open: bool,
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
            tables: Mutex::new(Tables::default()),
            now,
        }
    }

    fn tables(&self) -> std::sync::MutexGuard<'_, Tables> {
        self.tables.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Begins an attempt from `address` at `username`, or says how long the address or the
    /// account is still locked (also when the attempts already under way would reach the
    /// threshold: they count from their arrival).
    pub fn begin(&self, address: IpAddr, username: &str) -> Result<Attempt<'_>, Duration> {
        let now = (self.now)();
        let account = username.trim().to_lowercase();
        let threshold = self.policy.threshold.max(1);
        let mut tables = self.tables();
        let t = &mut *tables;
        let address_counter = t.addresses.get(&address);
        let account_counter = t.accounts.get(&account);
        let locked = [
            address_counter.and_then(|c| c.locked(now)),
            account_counter.and_then(|c| c.locked(now)),
        ]
        .into_iter()
        .flatten()
        .max();
        if let Some(remaining) = locked {
            return Err(remaining);
        }
        if address_counter.is_some_and(|c| c.failures + c.pending >= threshold) {
            // Enough guesses are under way to lock the address if they fail: wait for them.
            return Err(self.policy.base_lockout.min(Duration::from_secs(1)));
        }
        if account_counter.is_some_and(|c| c.failures + c.pending >= threshold * ACCOUNT_FACTOR) {
            return Err(self.policy.base_lockout.min(Duration::from_secs(1)));
        }
        if t.addresses.len() >= MAX_TRACKED && !t.addresses.contains_key(&address) {
            forget_stalest(&mut t.addresses);
        }
        if t.accounts.len() >= MAX_TRACKED && !t.accounts.contains_key(&account) {
            forget_stalest(&mut t.accounts);
        }
        for counter in [
            t.addresses
                .entry(address)
                .or_insert_with(|| Counter::new(now)),
            t.accounts
                .entry(account.clone())
                .or_insert_with(|| Counter::new(now)),
        ] {
            counter.pending += 1;
            counter.last_seen = now;
        }
        Ok(Attempt {
            throttle: self,
            address,
            account,
            open: true,
        })
    }

    /// Whether the address is locked now (for tests and the log).
    pub fn address_locked(&self, address: IpAddr) -> Option<Duration> {
        let now = (self.now)();
        self.tables()
            .addresses
            .get(&address)
            .and_then(|c| c.locked(now))
    }

    fn release(tables: &mut Tables, address: IpAddr, account: &str) {
        if let Some(c) = tables.addresses.get_mut(&address) {
            c.pending = c.pending.saturating_sub(1);
        }
        if let Some(c) = tables.accounts.get_mut(account) {
            c.pending = c.pending.saturating_sub(1);
        }
    }
}

impl Attempt<'_> {
    /// The credentials were right: takes back what this account failed from this address.
    pub fn succeeded(mut self) {
        self.open = false;
        let mut tables = self.throttle.tables();
        LoginThrottle::release(&mut tables, self.address, &self.account);
        let taken_back = tables
            .pairs
            .remove(&(self.address, self.account.clone()))
            .unwrap_or(0);
        if let Some(c) = tables.addresses.get_mut(&self.address) {
            c.failures = c.failures.saturating_sub(taken_back);
        }
        if let Some(c) = tables.accounts.get_mut(&self.account) {
            c.failures = c.failures.saturating_sub(taken_back);
        }
    }

    /// The credentials were wrong: counts the failure for the address and the account.
    pub fn failed(mut self) -> FailureOutcome {
        self.open = false;
        let throttle = self.throttle;
        let policy = &throttle.policy;
        let now = (throttle.now)();
        let threshold = policy.threshold.max(1);
        let mut tables = throttle.tables();
        LoginThrottle::release(&mut tables, self.address, &self.account);
        let t = &mut *tables;
        if t.pairs.len() >= MAX_TRACKED {
            if let Some(key) = t.pairs.keys().next().cloned() {
                t.pairs.remove(&key);
            }
        }
        *t.pairs
            .entry((self.address, self.account.clone()))
            .or_insert(0) += 1;
        let address = t
            .addresses
            .entry(self.address)
            .or_insert_with(|| Counter::new(now));
        address.failures += 1;
        address.last_seen = now;
        let consecutive_failures = address.failures;
        let mut locked_for = address.maybe_lock(threshold, policy, now);
        if locked_for.is_some() {
            t.pairs.retain(|(a, _), _| *a != self.address);
        }
        let account = t
            .accounts
            .entry(self.account.clone())
            .or_insert_with(|| Counter::new(now));
        account.failures += 1;
        account.last_seen = now;
        if let Some(lockout) = account.maybe_lock(threshold * ACCOUNT_FACTOR, policy, now) {
            locked_for = Some(locked_for.map_or(lockout, |l| l.max(lockout)));
        }
        // 1×, 2×, 3× … the base delay, capped at 8× so an answer never hangs for long.
        let delay = policy.failure_delay * consecutive_failures.clamp(1, 8);
        FailureOutcome {
            consecutive_failures,
            delay,
            locked_for,
        }
    }
}

impl Drop for Attempt<'_> {
    fn drop(&mut self) {
        if self.open {
            let mut tables = self.throttle.tables();
            LoginThrottle::release(&mut tables, self.address, &self.account);
        }
    }
}

fn forget_stalest<K: Clone + Eq + std::hash::Hash>(table: &mut HashMap<K, Counter>) {
    if let Some(stalest) = table
        .iter()
        .filter(|(_, c)| c.locked_until.is_none() && c.pending == 0)
        .min_by_key(|(_, c)| c.last_seen)
        .or_else(|| table.iter().min_by_key(|(_, c)| c.last_seen))
        .map(|(key, _)| key.clone())
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

    fn fail(throttle: &LoginThrottle, addr: IpAddr, user: &str) -> FailureOutcome {
        throttle.begin(addr, user).expect("allowed").failed()
    }

    #[test]
    fn lockouts_double_up_to_the_cap() {
        let (throttle, clock) = clocked();
        let addr: IpAddr = "192.0.2.7".parse().unwrap();
        let other: IpAddr = "192.0.2.8".parse().unwrap();
        let advance = |secs| *clock.lock().unwrap() += Duration::from_secs(secs);

        assert_eq!(
            fail(&throttle, addr, "admin").delay,
            Duration::from_millis(100)
        );
        assert_eq!(
            fail(&throttle, addr, "admin").delay,
            Duration::from_millis(200)
        );
        let third = fail(&throttle, addr, "admin");
        assert_eq!(third.locked_for, Some(Duration::from_secs(60)));
        assert_eq!(
            throttle.begin(addr, "admin").err(),
            Some(Duration::from_secs(60))
        );
        assert_eq!(
            throttle.begin(addr, "someone").err(),
            Some(Duration::from_secs(60))
        );
        assert!(throttle.begin(other, "admin").is_ok());

        advance(61);
        for _ in 0..2 {
            assert_eq!(fail(&throttle, addr, "x").locked_for, None);
        }
        assert_eq!(
            fail(&throttle, addr, "x").locked_for,
            Some(Duration::from_secs(120))
        );
        advance(121);
        for _ in 0..2 {
            fail(&throttle, addr, "y");
        }
        assert_eq!(
            fail(&throttle, addr, "y").locked_for,
            Some(Duration::from_secs(200))
        );
    }

    #[test]
    fn attempts_count_when_they_arrive() {
        let (throttle, _clock) = clocked();
        let addr: IpAddr = "192.0.2.9".parse().unwrap();
        // Three guesses under way at once: a fourth is refused before any hash is done.
        let under_way: Vec<Attempt> = (0..3)
            .map(|_| throttle.begin(addr, "admin").unwrap())
            .collect();
        assert!(throttle.begin(addr, "admin").is_err());
        let outcomes: Vec<FailureOutcome> = under_way.into_iter().map(Attempt::failed).collect();
        assert!(outcomes[2].locked_for.is_some());
        assert!(throttle.address_locked(addr).is_some());
        // An attempt that ends without a verdict (an error) gives its place back.
        let other: IpAddr = "192.0.2.10".parse().unwrap();
        for _ in 0..5 {
            drop(throttle.begin(other, "admin").unwrap());
        }
        assert!(throttle.begin(other, "admin").is_ok());
    }

    #[test]
    fn a_success_on_another_account_resets_nothing() {
        let (throttle, _clock) = clocked();
        let addr: IpAddr = "::1".parse().unwrap();
        fail(&throttle, addr, "admin");
        fail(&throttle, addr, "admin");
        throttle.begin(addr, "8001").unwrap().succeeded();
        assert!(
            fail(&throttle, addr, "admin").locked_for.is_some(),
            "third admin guess locks"
        );

        let addr2: IpAddr = "192.0.2.20".parse().unwrap();
        fail(&throttle, addr2, "admin");
        fail(&throttle, addr2, "Admin ");
        throttle.begin(addr2, "admin").unwrap().succeeded();
        assert_eq!(
            fail(&throttle, addr2, "admin").consecutive_failures,
            1,
            "its own success clears it"
        );
    }

    #[test]
    fn an_account_guessed_from_many_addresses_is_locked() {
        let (throttle, _clock) = clocked();
        for n in 0..(3 * ACCOUNT_FACTOR) {
            let addr = IpAddr::from([198, 51, 100, n as u8]);
            fail(&throttle, addr, "admin");
        }
        let fresh: IpAddr = "203.0.113.1".parse().unwrap();
        assert!(throttle.begin(fresh, "admin").is_err());
        assert!(throttle.begin(fresh, "8001").is_ok());
    }

    #[test]
    fn tables_stay_bounded() {
        let (throttle, _clock) = clocked();
        for n in 0..(MAX_TRACKED as u32 + 50) {
            fail(&throttle, IpAddr::from(n.to_be_bytes()), &format!("u{n}"));
        }
        let tables = throttle.tables();
        assert!(tables.addresses.len() <= MAX_TRACKED);
        assert!(tables.accounts.len() <= MAX_TRACKED);
        assert!(tables.pairs.len() <= MAX_TRACKED);
    }
}
