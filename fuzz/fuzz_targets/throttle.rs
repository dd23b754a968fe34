//! The throttle target: see `resil_fuzz::throttle` for the invariants it checks.

#![no_main]

libfuzzer_sys::fuzz_target!(
    |input: resil_fuzz::throttle::Input| resil_fuzz::throttle::check(input)
);
