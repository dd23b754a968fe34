//! The registry against a reference model: a list of keys in order of last
//! use, where a new key beyond the capacity evicts the oldest idle one (a
//! closed or disabled breaker here; forced open is never idle) or is
//! refused. Random sequences of gets, removes, force-opens and resets must
//! give the same answers and the same contents.

use std::collections::BTreeMap;

use proptest::prelude::*;
use resil_breaker::{BreakerRegistry, CircuitBreaker};
use resil_core::{CircuitState, ManualClock, NoopListener};

const CAPACITY: usize = 4;

#[derive(Clone, Copy, Debug)]
enum Op {
    Get(u8),
    Remove(u8),
    ForceOpen(u8),
    Reset(u8),
}

fn op() -> impl Strategy<Value = Op> {
    let key = 0u8..8;
    prop_oneof![
        4 => key.clone().prop_map(Op::Get),
        1 => key.clone().prop_map(Op::Remove),
        1 => key.clone().prop_map(Op::ForceOpen),
        1 => key.prop_map(Op::Reset),
    ]
}

/// The model: key → (last use, forced open).
#[derive(Default)]
struct Model {
    entries: BTreeMap<u8, (u64, bool)>,
    clock: u64,
}

impl Model {
    /// `get`: whether the key is (now) held.
    fn get(&mut self, key: u8) -> bool {
        self.clock += 1;
        if let Some(entry) = self.entries.get_mut(&key) {
            entry.0 = self.clock;
            return true;
        }
        if self.entries.len() >= CAPACITY {
            let victim = self
                .entries
                .iter()
                .filter(|(_, (_, forced))| !forced)
                .min_by_key(|(_, (used, _))| *used)
                .map(|(&key, _)| key);
            match victim {
                Some(victim) => {
                    self.entries.remove(&victim);
                }
                None => return false,
            }
        }
        self.entries.insert(key, (self.clock, false));
        true
    }

    fn contents(&self) -> Vec<(u8, CircuitState)> {
        self.entries
            .iter()
            .map(|(&key, &(_, forced))| {
                let state = if forced {
                    CircuitState::ForcedOpen
                } else {
                    CircuitState::Closed
                };
                (key, state)
            })
            .collect()
    }
}

proptest! {
    #[test]
    fn the_registry_is_its_model(ops in prop::collection::vec(op(), 1..200)) {
        let registry: BreakerRegistry<u8, ManualClock, NoopListener> = BreakerRegistry::new(
            CircuitBreaker::builder().clock(ManualClock::new()),
            CAPACITY,
        )
        .unwrap();
        let mut model = Model::default();
        for op in ops {
            match op {
                Op::Get(key) => {
                    prop_assert_eq!(registry.get(key).is_ok(), model.get(key), "{:?}", op);
                }
                Op::Remove(key) => {
                    prop_assert_eq!(registry.remove(&key).is_some(), model.entries.remove(&key).is_some());
                }
                Op::ForceOpen(key) | Op::Reset(key) => {
                    let held = registry.get(key);
                    prop_assert_eq!(held.is_ok(), model.get(key), "{:?}", op);
                    if let Ok(breaker) = held {
                        let forced = matches!(op, Op::ForceOpen(_));
                        if forced { breaker.force_open() } else { breaker.reset() }
                        if let Some(entry) = model.entries.get_mut(&key) {
                            entry.1 = forced;
                        }
                    }
                }
            }
            let mut contents = registry.list();
            contents.sort_by_key(|&(key, _)| key);
            prop_assert_eq!(contents, model.contents());
            prop_assert!(registry.len() <= CAPACITY);
        }
    }
}
