//! The retry target: see `resil_fuzz::retry` for the invariants it checks.

#![no_main]

libfuzzer_sys::fuzz_target!(|input: resil_fuzz::retry::Input| resil_fuzz::retry::check(input));
