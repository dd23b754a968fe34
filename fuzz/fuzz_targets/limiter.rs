//! The limiter target: see `resil_fuzz::limiter` for the invariants it checks.

#![no_main]

libfuzzer_sys::fuzz_target!(|input: resil_fuzz::limiter::Input| resil_fuzz::limiter::check(input));
