//! The backoff target: see `resil_fuzz::backoff` for the invariants it checks.

#![no_main]

libfuzzer_sys::fuzz_target!(|input: resil_fuzz::backoff::Input| resil_fuzz::backoff::check(input));
