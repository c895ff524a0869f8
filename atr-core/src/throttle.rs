//! Sign-in throttling: after too many refused sign-ins for one account or from one address
//! within a window, further attempts are refused for a while, whatever the password. Pure and
//! in memory (the clock is passed in): each process counts its own attempts, which bounds a
//! guesser to a few tries per window per process without letting anyone lock an account for
//! good.

use std::collections::HashMap;

use crate::types::Timestamp;

/// The bounds of the throttle.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ThrottleLimits {
    /// Refused attempts allowed for one account within `window_secs`.
    pub per_account: u32,
    /// Refused attempts allowed from one address within `window_secs`.
    pub per_address: u32,
    /// The window over which refused attempts are counted.
    pub window_secs: i64,
    /// How long a key stays locked once over its limit.
    pub lockout_secs: i64,
    /// The most keys kept; beyond it the oldest are forgotten first.
    pub max_keys: usize,
}

impl Default for ThrottleLimits {
    fn default() -> Self {
        Self { per_account: 5, per_address: 20, window_secs: 15 * 60, lockout_secs: 5 * 60, max_keys: 100_000 }
    }
}

/// What the throttle counts by.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ThrottleKey {
    /// The account name as typed (the same for known and unknown accounts, so the throttle
    /// tells nothing about which accounts exist).
    Account(String),
    /// The client's address, as the frontend knows it.
    Address(String),
}

#[derive(Debug, Clone, Copy)]
struct Entry {
    failures: u32,
    first_at: i64,
    locked_until: i64,
}

/// Counts refused sign-ins and answers whether a new attempt may go ahead.
#[derive(Debug, Default)]
pub struct SignInThrottle {
    limits: ThrottleLimits,
    entries: HashMap<ThrottleKey, Entry>,
}

/// An attempt refused by the throttle: try again after this many seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryAfter(pub u64);

impl SignInThrottle {
    pub fn new(limits: ThrottleLimits) -> Self {
        Self { limits, entries: HashMap::new() }
    }

    /// Whether an attempt under these keys may go ahead now.
    pub fn check(&self, keys: &[ThrottleKey], now: Timestamp) -> Result<(), RetryAfter> {
        let now = now.unix();
        let wait = keys
            .iter()
            .filter_map(|key| self.entries.get(key))
            .map(|entry| entry.locked_until.saturating_sub(now))
            .max()
            .unwrap_or(0);
        if wait > 0 { Err(RetryAfter(u64::try_from(wait).unwrap_or(u64::MAX))) } else { Ok(()) }
    }

    /// Records a refused attempt under these keys.
    pub fn refused(&mut self, keys: &[ThrottleKey], now: Timestamp) {
        let now = now.unix();
        let limits = self.limits;
        if self.entries.len() + keys.len() > limits.max_keys {
            self.forget_old(now);
        }
        for key in keys {
            let limit = match key {
                ThrottleKey::Account(_) => limits.per_account,
                ThrottleKey::Address(_) => limits.per_address,
            };
            let entry =
                self.entries.entry(key.clone()).or_insert(Entry { failures: 0, first_at: now, locked_until: 0 });
            if now.saturating_sub(entry.first_at) > limits.window_secs {
                *entry = Entry { failures: 0, first_at: now, locked_until: 0 };
            }
            entry.failures = entry.failures.saturating_add(1);
            if entry.failures >= limit {
                entry.locked_until = now.saturating_add(limits.lockout_secs);
            }
        }
    }

    /// Forgets the keys of a successful sign-in.
    pub fn succeeded(&mut self, keys: &[ThrottleKey]) {
        for key in keys {
            self.entries.remove(key);
        }
    }

    /// Drops the entries whose window and lockout are over, then, if still full, the oldest half.
    fn forget_old(&mut self, now: i64) {
        let window = self.limits.window_secs;
        self.entries.retain(|_, e| now.saturating_sub(e.first_at) <= window || e.locked_until > now);
        if self.entries.len() >= self.limits.max_keys {
            let mut firsts: Vec<i64> = self.entries.values().map(|e| e.first_at).collect();
            firsts.sort_unstable();
            let cut = firsts[firsts.len() / 2];
            self.entries.retain(|_, e| e.first_at > cut);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: i64) -> Timestamp {
        Timestamp::from_unix(s)
    }

    fn account(name: &str) -> ThrottleKey {
        ThrottleKey::Account(name.into())
    }

    #[test]
    fn an_account_is_locked_after_its_limit_then_free_again() {
        let limits = ThrottleLimits { per_account: 3, lockout_secs: 60, ..ThrottleLimits::default() };
        let mut throttle = SignInThrottle::new(limits);
        let keys = [account("alice")];
        for n in 0..3 {
            assert_eq!(throttle.check(&keys, at(100 + n)), Ok(()), "attempt {n}");
            throttle.refused(&keys, at(100 + n));
        }
        assert_eq!(throttle.check(&keys, at(102)), Err(RetryAfter(60)));
        assert_eq!(throttle.check(&keys, at(150)), Err(RetryAfter(12)));
        assert_eq!(throttle.check(&[account("bob")], at(150)), Ok(()), "another account is free");
        assert_eq!(throttle.check(&keys, at(162)), Ok(()), "the lockout ends");
    }

    #[test]
    fn failures_outside_the_window_do_not_add_up_and_success_forgets() {
        let limits = ThrottleLimits { per_account: 2, window_secs: 10, ..ThrottleLimits::default() };
        let mut throttle = SignInThrottle::new(limits);
        let keys = [account("alice")];
        throttle.refused(&keys, at(0));
        throttle.refused(&keys, at(20));
        assert_eq!(throttle.check(&keys, at(21)), Ok(()), "the first failure left the window");
        throttle.succeeded(&keys);
        throttle.refused(&keys, at(22));
        assert_eq!(throttle.check(&keys, at(22)), Ok(()), "success started the count again");
    }

    #[test]
    fn an_address_has_its_own_limit_and_memory_is_bounded() {
        let limits = ThrottleLimits { per_account: 100, per_address: 2, max_keys: 50, ..ThrottleLimits::default() };
        let mut throttle = SignInThrottle::new(limits);
        let address = ThrottleKey::Address("192.0.2.1".into());
        for n in 0..2 {
            throttle.refused(&[account(&format!("user{n}")), address.clone()], at(0));
        }
        assert!(throttle.check(&[account("user9"), address.clone()], at(1)).is_err(), "the address is locked");
        for n in 0..500 {
            throttle.refused(&[account(&format!("spray{n}"))], at(n));
        }
        assert!(throttle.entries.len() <= 50, "{} keys kept", throttle.entries.len());
    }
}
