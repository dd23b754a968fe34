//! The breaker target: see `resil_fuzz::breaker` for the invariants it checks.

#![no_main]

libfuzzer_sys::fuzz_target!(|input: resil_fuzz::breaker::Input| resil_fuzz::breaker::check(input));
