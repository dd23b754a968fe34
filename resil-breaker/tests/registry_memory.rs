//! A keyed registry capped at 10,000 breakers, fed 1,000,000 distinct keys,
//! never holds more than 10,000.
//!
//! Why: registry keys often come from outside (host names, tenant ids), so
//! an unbounded map is a memory leak an attacker can drive. The cap is the
//! defence; this checks it holds at scale, and that eviction only takes idle
//! breakers: the ones we hold open must survive a million newcomers.
//!
//! A million breakers built and dropped, and each eviction stepping over the
//! pinned breakers at the old end of the use order: too slow for a debug
//! build, so it is `#[ignore]`d in the normal test run and run in release
//! by `cargo xtask stress` (about 12 s of CPU).

use std::time::Duration;

use resil_breaker::{BreakerRegistry, CircuitBreaker};
use resil_core::{CircuitState, ManualClock};

const CAPACITY: usize = 10_000;
const KEYS: u64 = 1_000_000;
/// One key in this many has its breaker forced open, which makes it
/// ineligible for eviction.
const PINNED_EVERY: u64 = 1_000;

#[test]
#[ignore = "a million keys take minutes in a debug build; run by `cargo xtask stress` in release"]
fn a_million_distinct_keys_stay_within_the_cap() {
    let clock = ManualClock::new();
    let registry = BreakerRegistry::new(
        CircuitBreaker::builder()
            .clock(clock.clone())
            .consecutive_failures(3)
            .wait(Duration::from_secs(30)),
        CAPACITY,
    )
    .unwrap();
    let mut pinned = Vec::new();
    let mut max_len = 0;
    for key in 0..KEYS {
        let breaker = registry
            .get(key)
            .expect("an idle breaker can always be evicted");
        if key % PINNED_EVERY == 0 {
            breaker.force_open();
            pinned.push(key);
        } else if key % 7 == 0 {
            // Some traffic, so entries are used, not just made.
            breaker.call(|| Ok::<_, ()>(())).unwrap();
        }
        let len = registry.len();
        max_len = max_len.max(len);
        assert!(len <= CAPACITY, "{len} breakers after key {key}");
    }
    assert_eq!(max_len, CAPACITY, "the registry filled up");
    assert_eq!(registry.len(), CAPACITY);

    // Every forced-open breaker survived: eviction takes idle ones only.
    let listed = registry.list();
    assert_eq!(listed.len(), CAPACITY);
    let forced = listed
        .iter()
        .filter(|(_, state)| *state == CircuitState::ForcedOpen)
        .count();
    assert_eq!(forced, pinned.len());
    for key in &pinned {
        assert_eq!(
            registry.get(*key).unwrap().state(),
            CircuitState::ForcedOpen,
            "key {key}"
        );
    }
}
