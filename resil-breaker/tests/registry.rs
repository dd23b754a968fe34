//! `BreakerRegistry`: one breaker per key made on first use, `list`,
//! `remove`, and the bound — when full it evicts the least recently used
//! closed breaker, and refuses a new key only when none is closed; a
//! builder error surfaces from `new`.

mod support;

use resil_breaker::{BreakerRegistry, CircuitBreaker, RegistryFull};
use resil_core::{CircuitState, ManualClock, NoopListener};

use support::{fail, on, rejection, secs, succeed};

type Registry = BreakerRegistry<&'static str, ManualClock, NoopListener>;

/// A registry of breakers that open at their first failure for 10 s.
fn registry(clock: &ManualClock, capacity: usize) -> Registry {
    BreakerRegistry::new(
        on(clock)
            .consecutive_failures(1)
            .wait(secs(10))
            .half_open_permits(1),
        capacity,
    )
    .unwrap()
}

fn keys(registry: &Registry) -> Vec<(&'static str, CircuitState)> {
    let mut list = registry.list();
    list.sort_by_key(|&(key, _)| key);
    list
}

#[test]
fn the_same_key_gets_the_same_breaker() {
    let clock = ManualClock::new();
    let registry = registry(&clock, 10);
    assert!(registry.is_empty());
    let a = registry.get("a").unwrap();
    fail(&a);
    let again = registry.get("a").unwrap();
    assert_eq!(again.state(), CircuitState::Open, "the same breaker");
    assert_eq!(registry.len(), 1);
}

#[test]
fn different_keys_get_independent_breakers_sharing_the_config_and_clock() {
    let clock = ManualClock::new();
    let registry = registry(&clock, 10);
    let a = registry.get("a").unwrap();
    let b = registry.get("b").unwrap();
    fail(&a);
    assert_eq!(a.state(), CircuitState::Open);
    assert_eq!(
        b.state(),
        CircuitState::Closed,
        "one host's failures stay its own"
    );
    fail(&b);
    assert_eq!(
        rejection(&b).retry_after(),
        Some(secs(10)),
        "the shared config"
    );
    clock.advance(secs(10));
    succeed(&a);
    assert_eq!(
        a.state(),
        CircuitState::Closed,
        "the shared clock moved for both"
    );
}

#[test]
fn list_gives_every_key_with_its_state() {
    let clock = ManualClock::new();
    let registry = registry(&clock, 10);
    for key in ["c", "a", "b"] {
        registry.get(key).unwrap();
    }
    fail(&registry.get("b").unwrap());
    registry.get("c").unwrap().force_open();
    assert_eq!(
        keys(&registry),
        [
            ("a", CircuitState::Closed),
            ("b", CircuitState::Open),
            ("c", CircuitState::ForcedOpen),
        ]
    );
}

#[test]
fn remove_forgets_a_key_but_handed_out_breakers_keep_working() {
    let clock = ManualClock::new();
    let registry = registry(&clock, 10);
    let a = registry.get("a").unwrap();
    fail(&a);
    let removed = registry.remove(&"a").expect("it was there");
    assert_eq!(removed.state(), CircuitState::Open);
    assert!(registry.remove(&"a").is_none());
    assert!(registry.is_empty());
    assert_eq!(
        rejection(&a).state(),
        CircuitState::Open,
        "the clone still works"
    );
    let fresh = registry.get("a").unwrap();
    assert_eq!(
        fresh.state(),
        CircuitState::Closed,
        "a new breaker for the key"
    );
}

#[test]
fn when_full_it_evicts_the_least_recently_used_closed_breaker() {
    let clock = ManualClock::new();
    let registry = registry(&clock, 3);
    let a = registry.get("a").unwrap();
    registry.get("b").unwrap();
    registry.get("c").unwrap();
    registry.get("a").unwrap(); // "a" is now the most recently used.
    registry.get("d").unwrap();
    assert_eq!(
        keys(&registry)
            .into_iter()
            .map(|(k, _)| k)
            .collect::<Vec<_>>(),
        ["a", "c", "d"],
        "b was used longest ago"
    );
    fail(&a);
    drop(a);
    registry.get("e").unwrap();
    assert_eq!(
        keys(&registry)
            .into_iter()
            .map(|(k, _)| k)
            .collect::<Vec<_>>(),
        ["a", "d", "e"],
        "c was the oldest closed one"
    );
}

#[test]
fn an_open_breaker_is_never_evicted_even_if_least_recently_used() {
    let clock = ManualClock::new();
    let registry = registry(&clock, 2);
    fail(&registry.get("open").unwrap());
    registry.get("closed").unwrap();
    registry.get("new").unwrap();
    assert_eq!(
        keys(&registry),
        [("new", CircuitState::Closed), ("open", CircuitState::Open)]
    );
}

#[test]
fn when_no_breaker_is_idle_a_new_key_is_refused() {
    let clock = ManualClock::new();
    let registry = registry(&clock, 2);
    let a = registry.get("a").unwrap();
    fail(&a);
    clock.advance(secs(10));
    fail(&registry.get("b").unwrap()); // "b" is open until 20s.
    let _trial = a.try_acquire().unwrap(); // "a" is half-open now.
    let err = registry.get("c").unwrap_err();
    assert_eq!(
        err.to_string(),
        "breaker registry is full (2 breakers, none of them idle)"
    );
    let _: RegistryFull = err;
    assert_eq!(registry.len(), 2);
    assert!(registry.get("a").is_ok(), "existing keys are still served");
    // Once "b"'s wait is over it protects nothing until called again: evictable.
    clock.advance(secs(10));
    assert!(registry.get("c").is_ok());
    assert_eq!(
        keys(&registry),
        [("a", CircuitState::HalfOpen), ("c", CircuitState::Closed)]
    );
}

#[test]
fn a_zero_capacity_is_rejected() {
    let err = BreakerRegistry::<&str, _, _>::new(on(&ManualClock::new()), 0).unwrap_err();
    assert_eq!(err.field(), "capacity");
    assert_eq!(
        err.to_string(),
        "invalid capacity: got 0, expected at least 1"
    );
}

#[test]
fn a_builder_error_surfaces_from_new() {
    let err = BreakerRegistry::<&str, _, _>::new(on(&ManualClock::new()).failure_rate(1.5), 10)
        .unwrap_err();
    assert_eq!(err.field(), "failure_rate");
    let err = BreakerRegistry::<&str, _, _>::new(on(&ManualClock::new()).half_open_permits(0), 10)
        .unwrap_err();
    assert_eq!(err.field(), "half_open_permits");
}

#[test]
fn the_registry_is_shared_between_threads() {
    fn send_sync<T: Send + Sync>() {}
    send_sync::<Registry>();
    let clock = ManualClock::new();
    let registry = registry(&clock, 100);
    let breakers: Vec<CircuitBreaker<ManualClock>> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..4)
            .map(|_| s.spawn(|| registry.get("shared").unwrap()))
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    fail(&breakers[0]);
    assert!(breakers.iter().all(|b| b.state() == CircuitState::Open));
    assert_eq!(registry.len(), 1);
}
