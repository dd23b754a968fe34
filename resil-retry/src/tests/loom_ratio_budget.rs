//! `RatioBudget`: withdrawals racing each other, deposits, and the expiry
//! of old buckets. No interleaving may admit a retry the budget does not
//! cover, nor keep a deposit's credit past its window.
//!
//! Every model uses a one-second window on a shared `ManualClock`, no
//! reserve unless it says so, and a ratio of 1 or 0.5, so that one or two
//! deposits pay for exactly one retry.
//!
//! Threads that move the clock use `advance_to` (one `fetch_max`), not
//! `advance` (a load, then a compare-and-swap): loom 0.7 remembers only the
//! last access to an atomic, so a thread's own load hides its later
//! compare-and-swap from the race check against another thread's earlier
//! load, and the interleaving "advance, then the other thread reads the
//! clock" is never explored (tokio-rs/loom#392 is the same family).

use core::time::Duration;

use loom::sync::Arc;
use loom::thread;

use resil_core::{Clock, Instant, ManualClock};

use crate::Budget;
use crate::budget::RatioBudget;

const WINDOW: Duration = Duration::from_secs(1);

fn budget(ratio: f64, min_per_second: u32, clock: &ManualClock) -> Arc<RatioBudget<ManualClock>> {
    let budget = RatioBudget::builder()
        .ratio(ratio)
        .min_per_second(min_per_second)
        .window(WINDOW)
        .clock(clock.clone())
        .build()
        .unwrap();
    Arc::new(budget)
}

/// Two threads race for the last retry (the reserve's one): exactly one
/// gets it. Check-then-act (tower's bug) lets both through.
#[test]
fn loom_last_retry_goes_to_exactly_one_thread() {
    loom::model(|| {
        let clock = ManualClock::new();
        let budget = budget(0.0, 1, &clock);
        let other = budget.clone();
        let handle = thread::spawn(move || other.withdraw());
        let mine = budget.withdraw();
        let theirs = handle.join().unwrap();
        assert!(mine ^ theirs, "mine: {mine}, theirs: {theirs}");
        assert_eq!(budget.units(), 0);
    });
}

/// Two half-retry deposits pay for exactly one retry, however the second
/// deposit interleaves with two threads withdrawing.
#[test]
fn loom_deposit_racing_withdraw_never_over_admits() {
    loom::model(|| {
        let clock = ManualClock::new();
        let budget = budget(0.5, 0, &clock);
        budget.deposit();
        let other = budget.clone();
        let handle = thread::spawn(move || {
            other.deposit();
            other.withdraw()
        });
        let mine = budget.withdraw();
        let theirs = handle.join().unwrap();
        // The depositing thread withdraws after its deposit: someone wins.
        assert!(mine ^ theirs, "mine: {mine}, theirs: {theirs}");
        assert_eq!(budget.units(), 0);
    });
}

/// A deposit expires while another thread withdraws: a withdrawal that
/// read the clock after the window moved on never gets the expired credit,
/// even while the expiry is half done.
#[test]
fn loom_expiry_racing_withdraw_never_over_admits() {
    loom::model(|| {
        let clock = ManualClock::new();
        let budget = budget(1.0, 0, &clock);
        budget.deposit();
        let (other, other_clock) = (budget.clone(), clock.clone());
        let handle = thread::spawn(move || {
            other_clock.advance_to(Instant::ZERO + WINDOW);
            other.withdraw()
        });
        // The budget reads the clock after this, so a late reading here is
        // late there too.
        let late = clock.now() >= Instant::ZERO + WINDOW;
        let mine = budget.withdraw();
        let theirs = handle.join().unwrap();
        assert!(!theirs, "the deposit had expired");
        assert!(!(late && mine), "a late withdrawal got an expired deposit");
        // The deposit has left the window. An early retry has too, unless
        // its charge was recorded after the expiry: then it stays charged
        // for one more window (the conservative side of the race).
        let units = budget.units();
        assert!(units == 0 || (mine && units == -1_000), "{units}");
        clock.advance(WINDOW);
        assert_eq!(budget.available(), 0);
        assert_eq!(budget.units(), 0);
    });
}

/// A deposit races the expiry of its bucket: one deposit never pays for
/// two retries, one before and one after the expiry, and its credit is gone
/// one window later whichever bucket it landed in. Crediting before
/// recording lets a stalled deposit's credit outlive its window.
#[test]
fn loom_deposit_racing_expiry_counts_for_one_window() {
    loom::model(|| {
        let clock = ManualClock::new();
        let budget = budget(1.0, 0, &clock);
        let other = budget.clone();
        let handle = thread::spawn(move || other.deposit());
        let before = budget.withdraw();
        clock.advance(WINDOW);
        let after = budget.withdraw();
        handle.join().unwrap();
        assert!(!(before && after), "one deposit paid for two retries");
        clock.advance(WINDOW);
        assert_eq!(budget.available(), 0);
        assert_eq!(budget.units(), 0);
    });
}

/// Two threads see a new bucket at once: it is opened once, and the retry
/// it returns (the reserve's one, taken in the old window) is handed out
/// exactly once.
#[test]
fn loom_racing_openers_expire_each_bucket_once() {
    loom::model(|| {
        let clock = ManualClock::new();
        let budget = budget(0.0, 1, &clock);
        assert!(budget.withdraw());
        let (other, other_clock) = (budget.clone(), clock.clone());
        let handle = thread::spawn(move || {
            other_clock.advance_to(Instant::ZERO + WINDOW);
            other.withdraw()
        });
        let mine = budget.withdraw();
        let theirs = handle.join().unwrap();
        assert!(mine ^ theirs, "mine: {mine}, theirs: {theirs}");
        assert_eq!(budget.units(), 0);
    });
}
