//! One breaker per endpoint, made on first use from a shared configuration.
//!
//! A service that calls many hosts wants a breaker per host: one failing
//! host must not open the circuit for the others. Keys often come from
//! outside (host names, tenant ids), so the registry is bounded: when full,
//! it evicts the least recently used *idle* breaker — closed, disabled, or
//! open with its wait already over (a key that tripped and was never asked
//! for again) — and refuses to grow only while every breaker is open within
//! its wait, half-open or forced open. An evicted breaker's window is lost;
//! clones already handed out keep working but are no longer the key's.
//!
//! Keys are kept in order of last use as well as by key, so a use and an
//! eviction cost O(log n): a registry fed a million distinct keys through
//! a capacity of ten thousand does not rescan the ten thousand each time.
//! Only breakers that cannot be evicted (open within their wait,
//! half-open, forced open) are stepped over, oldest first.

use alloc::collections::BTreeMap;
use alloc::vec::Vec;
use core::hash::Hash;
use std::collections::HashMap;
use std::sync::Mutex;

use resil_core::{CircuitState, Clock, ConfigError, Listener};

use crate::{BreakerBuilder, CircuitBreaker};

/// Breakers by key, sharing one configuration, at most `capacity` of them.
///
/// # Examples
///
/// ```
/// use resil_breaker::{BreakerRegistry, CircuitBreaker};
/// use resil_core::ManualClock;
///
/// let registry = BreakerRegistry::new(
///     CircuitBreaker::builder().clock(ManualClock::new()).consecutive_failures(3),
///     1_000,
/// )?;
/// let a = registry.get("api.example.com").expect("room for it");
/// let again = registry.get("api.example.com").expect("the same one");
/// a.force_open();
/// assert_eq!(again.state(), resil_core::CircuitState::ForcedOpen);
/// assert_eq!(registry.len(), 1);
/// # Ok::<(), resil_core::ConfigError>(())
/// ```
#[derive(Debug)]
pub struct BreakerRegistry<K, C: Clock + Clone, L: Listener + Clone> {
    builder: BreakerBuilder<C, L>,
    capacity: usize,
    entries: Mutex<Entries<K, C, L>>,
}

#[derive(Debug)]
struct Entries<K, C, L> {
    /// Each key's breaker and the stamp of its last use.
    by_key: HashMap<K, (CircuitBreaker<C, L>, u64)>,
    /// The keys by the stamp of their last use, oldest first.
    by_use: BTreeMap<u64, K>,
    /// A use counter: the entry with the smallest stamp was used longest ago.
    clock: u64,
}

/// The registry is full of breakers that are open or half-open.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("breaker registry is full ({capacity} breakers, none of them idle)")]
pub struct RegistryFull {
    capacity: usize,
}

impl<K, C, L> BreakerRegistry<K, C, L>
where
    K: Hash + Eq + Clone,
    C: Clock + Clone,
    L: Listener + Clone,
{
    /// A registry building each breaker from `builder`, holding at most
    /// `capacity` breakers.
    ///
    /// # Errors
    ///
    /// [`ConfigError`] if `capacity` is zero or `builder` is invalid (it is
    /// validated once, here).
    pub fn new(builder: BreakerBuilder<C, L>, capacity: usize) -> Result<Self, ConfigError> {
        resil_core::error::check_count("capacity", capacity as u64, 1, "at least 1")?;
        builder.clone().build()?;
        Ok(BreakerRegistry {
            builder,
            capacity,
            entries: Mutex::new(Entries {
                by_key: HashMap::new(),
                by_use: BTreeMap::new(),
                clock: 0,
            }),
        })
    }

    /// The breaker for `key`, made now if there is none.
    ///
    /// # Errors
    ///
    /// [`RegistryFull`] if `key` is new, the registry holds `capacity`
    /// breakers and none of them is idle (see the module docs).
    pub fn get(&self, key: K) -> Result<CircuitBreaker<C, L>, RegistryFull> {
        let mut guard = self.lock();
        let Entries {
            by_key,
            by_use,
            clock,
        } = &mut *guard;
        *clock += 1;
        let stamp = *clock;
        if let Some((breaker, used)) = by_key.get_mut(&key) {
            by_use.remove(used);
            *used = stamp;
            by_use.insert(stamp, key);
            return Ok(breaker.clone());
        }
        if by_key.len() >= self.capacity {
            let idle = |key: &K| {
                by_key
                    .get(key)
                    .is_some_and(|(breaker, _)| breaker.is_idle())
            };
            let victim = by_use
                .iter()
                .find(|(_, key)| idle(key))
                .map(|(&used, _)| used);
            match victim.and_then(|used| by_use.remove(&used)) {
                Some(victim) => {
                    by_key.remove(&victim);
                }
                None => {
                    return Err(RegistryFull {
                        capacity: self.capacity,
                    });
                }
            }
        }
        // Validated in `new`; a failure here would mean the builder changed.
        let breaker = match self.builder.clone().build() {
            Ok(breaker) => breaker,
            Err(_) => {
                return Err(RegistryFull {
                    capacity: self.capacity,
                });
            }
        };
        by_use.insert(stamp, key.clone());
        by_key.insert(key, (breaker.clone(), stamp));
        Ok(breaker)
    }

    /// Removes `key`'s breaker; clones already handed out keep working.
    pub fn remove(&self, key: &K) -> Option<CircuitBreaker<C, L>> {
        let mut entries = self.lock();
        let (breaker, used) = entries.by_key.remove(key)?;
        entries.by_use.remove(&used);
        Some(breaker)
    }

    /// The keys and their breakers' states.
    pub fn list(&self) -> Vec<(K, CircuitState)> {
        self.lock()
            .by_key
            .iter()
            .map(|(key, (breaker, _))| (key.clone(), breaker.state()))
            .collect()
    }

    /// How many breakers it holds.
    pub fn len(&self) -> usize {
        self.lock().by_key.len()
    }

    /// Whether it holds none.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Entries<K, C, L>> {
        self.entries
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}
