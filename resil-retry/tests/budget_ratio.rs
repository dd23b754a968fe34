//! `RatioBudget` from the outside, in virtual time: every configuration
//! error; exact counts (ten requests at 0.6 pay for six retries, never
//! seven); the reserve refilling window after window; deposits and retries
//! leaving the window bucket by bucket as the `ManualClock` moves; random
//! schedules checked against a reference model and against the documented
//! guarantee; exactly N retries admitted to eight racing threads; and no
//! allocation on the hot paths.

use std::sync::Barrier;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread;
use std::time::Duration;

use proptest::prelude::*;
use resil_core::{Clock, ConfigError, Instant, ManualClock, Outcome};
use resil_retry::Budget;
use resil_retry::budget::RatioBudget;
use resil_testkit::{CountingAllocator, allocations_during};

#[global_allocator]
static ALLOCATOR: CountingAllocator = CountingAllocator;

const SECOND: Duration = Duration::from_secs(1);
const MILLI: Duration = Duration::from_millis(1);

fn at(d: Duration) -> Instant {
    Instant::ZERO + d
}

/// A budget on `clock` with the given knobs.
fn budget(
    ratio: f64,
    min_per_second: u32,
    window: Duration,
    clock: &ManualClock,
) -> RatioBudget<ManualClock> {
    RatioBudget::builder()
        .ratio(ratio)
        .min_per_second(min_per_second)
        .window(window)
        .clock(clock.clone())
        .build()
        .unwrap()
}

fn deposits(budget: &impl Budget, n: usize) {
    for _ in 0..n {
        budget.deposit();
    }
}

fn withdrawals(budget: &impl Budget, n: usize) -> usize {
    (0..n).filter(|_| budget.withdraw()).count()
}

// ---- Configuration ----

#[test]
fn every_invalid_ratio_is_an_error() {
    for bad in [
        f64::NAN,
        f64::INFINITY,
        f64::NEG_INFINITY,
        -f64::MIN_POSITIVE,
        -1.0,
        1_000.000_001,
        1e300,
    ] {
        let err = RatioBudget::builder().ratio(bad).build().unwrap_err();
        assert!(
            matches!(err, ConfigError::Invalid { field: "ratio", .. }),
            "{bad}: {err:?}"
        );
    }
    let message = |ratio: f64| {
        RatioBudget::builder()
            .ratio(ratio)
            .build()
            .unwrap_err()
            .to_string()
    };
    assert_eq!(
        message(f64::NAN),
        "invalid ratio: got NaN, expected a finite number"
    );
    assert_eq!(
        message(-0.5),
        "invalid ratio: got -0.5, expected a ratio in [0, 1000]"
    );
    assert_eq!(
        message(1_000.5),
        "invalid ratio: got 1000.5, expected a ratio in [0, 1000]"
    );
}

#[test]
fn every_invalid_window_is_an_error() {
    let message = |window: Duration| {
        let err = RatioBudget::builder().window(window).build().unwrap_err();
        assert!(matches!(
            err,
            ConfigError::Invalid {
                field: "window",
                ..
            }
        ));
        err.to_string()
    };
    assert_eq!(
        message(Duration::ZERO),
        "invalid window: got 0ns, expected a duration greater than zero"
    );
    assert_eq!(
        message(Duration::from_secs(3_600) + Duration::from_nanos(1)),
        "invalid window: got 3600.000000001s, expected at most one hour"
    );
    message(Duration::MAX);
}

#[test]
fn the_bounds_themselves_are_accepted() {
    let clock = ManualClock::new();
    for ratio in [0.0, -0.0, 1_000.0] {
        budget(ratio, 0, SECOND, &clock);
    }
    for window in [Duration::from_nanos(1), Duration::from_secs(3_600)] {
        budget(0.2, 10, window, &clock);
    }
    // The largest reserve: u32::MAX a second for an hour.
    let huge = budget(1_000.0, u32::MAX, Duration::from_secs(3_600), &clock);
    assert_eq!(huge.available(), u64::from(u32::MAX) * 3_600);
    deposits(&huge, 10);
    assert_eq!(huge.available(), u64::from(u32::MAX) * 3_600 + 10_000);
}

#[test]
fn the_defaults_are_a_fifth_plus_ten_a_second_over_ten_seconds() {
    let clock = ManualClock::new();
    let built = RatioBudget::builder().clock(clock.clone()).build().unwrap();
    assert_eq!(built.available(), 100);
    deposits(&built, 5);
    assert_eq!(built.available(), 101);
    // The default clock: nothing here depends on time passing.
    assert_eq!(RatioBudget::default().available(), 100);
    assert_eq!(RatioBudget::builder().build().unwrap().available(), 100);
}

// ---- Exact counts ----

#[test]
fn ten_deposits_at_0_6_pay_for_exactly_six_retries() {
    let clock = ManualClock::new();
    let budget = budget(0.6, 0, 10 * SECOND, &clock);
    assert!(!budget.withdraw(), "no reserve, no deposits");
    deposits(&budget, 10);
    assert_eq!(budget.available(), 6);
    assert_eq!(withdrawals(&budget, 10), 6);
    assert_eq!(budget.available(), 0);
    // One more request earns 0.6 of a retry: not enough. Two earn 1.2.
    budget.deposit();
    assert!(!budget.withdraw());
    budget.deposit();
    assert!(budget.withdraw());
    assert!(!budget.withdraw());
}

#[test]
fn ratios_are_kept_in_thousandths() {
    let clock = ManualClock::new();
    let fifth = budget(0.2, 0, SECOND, &clock);
    deposits(&fifth, 4);
    assert_eq!(fifth.available(), 0);
    fifth.deposit();
    assert_eq!(fifth.available(), 1);

    // 0.3334 is 0.333: three deposits make 0.999 of a retry.
    let third = budget(0.3334, 0, SECOND, &clock);
    deposits(&third, 3);
    assert!(!third.withdraw());

    // Below half a thousandth would round to nothing: an error, not a silent zero.
    let err = RatioBudget::builder().ratio(0.0004).build().unwrap_err();
    assert_eq!(err.field(), "ratio");
    let smallest = budget(0.0005, 0, SECOND, &clock);
    deposits(&smallest, 1_000);
    assert!(smallest.withdraw(), "0.0005 rounds up to a thousandth");

    // Huge ratios are exact too.
    let many = budget(1_000.0, 0, SECOND, &clock);
    many.deposit();
    assert_eq!(withdrawals(&many, 2_000), 1_000);
}

#[test]
fn record_changes_nothing() {
    let clock = ManualClock::new();
    let budget = budget(0.5, 1, SECOND, &clock);
    for outcome in [Outcome::Success, Outcome::Failure, Outcome::Ignored] {
        budget.record(outcome);
    }
    assert_eq!(budget.available(), 1);
}

// ---- Time ----

#[test]
fn the_reserve_refills_window_after_window() {
    let clock = ManualClock::new();
    let budget = budget(0.0, 10, 10 * SECOND, &clock);
    for _ in 0..3 {
        assert_eq!(withdrawals(&budget, 150), 100);
        clock.advance(10 * SECOND - MILLI);
        assert!(
            !budget.withdraw(),
            "still charged just before the window ends"
        );
        clock.advance(MILLI);
    }
}

#[test]
fn retries_are_returned_bucket_by_bucket() {
    let clock = ManualClock::new();
    let budget = budget(0.0, 10, 10 * SECOND, &clock);
    // Ten retries in each of the ten one-second buckets.
    for _ in 0..10 {
        assert_eq!(withdrawals(&budget, 10), 10);
        clock.advance(SECOND);
    }
    // Now t = 10 s: the first second's ten are back, and so on.
    for returned in [10, 20, 30] {
        assert_eq!(budget.available(), returned);
        clock.advance(SECOND);
    }
}

#[test]
fn deposits_expire_after_the_window() {
    let clock = ManualClock::new();
    let budget = budget(1.0, 0, 10 * SECOND, &clock);
    deposits(&budget, 3);
    clock.set(at(4 * SECOND + 500 * MILLI));
    deposits(&budget, 2);
    assert_eq!(budget.available(), 5);

    clock.set(at(10 * SECOND - MILLI));
    assert_eq!(budget.available(), 5);
    clock.set(at(10 * SECOND));
    assert_eq!(
        budget.available(),
        2,
        "the first three counted for exactly 10 s"
    );

    // The later two were made in the bucket [4 s, 5 s), which leaves the
    // window at 14 s: they count for 9.5 s, within one bucket of the window.
    clock.set(at(14 * SECOND - MILLI));
    assert_eq!(budget.available(), 2);
    clock.set(at(14 * SECOND));
    assert_eq!(budget.available(), 0);
}

#[test]
fn a_retry_stays_charged_after_the_deposit_that_paid_for_it_expires() {
    let clock = ManualClock::new();
    let budget = budget(1.0, 0, 10 * SECOND, &clock);
    budget.deposit();
    clock.set(at(5 * SECOND));
    assert!(budget.withdraw());
    // At 10 s the deposit has gone but the retry (made at 5 s) is charged
    // until 15 s: a new deposit only brings the balance back to zero.
    clock.set(at(10 * SECOND));
    budget.deposit();
    assert!(!budget.withdraw());
    clock.set(at(15 * SECOND));
    assert!(budget.withdraw());
}

#[test]
fn a_clock_set_backwards_expires_nothing() {
    let clock = ManualClock::starting_at(at(100 * SECOND));
    let budget = budget(1.0, 0, 10 * SECOND, &clock);
    budget.deposit();
    clock.set(Instant::ZERO);
    budget.deposit();
    assert_eq!(budget.available(), 2);
    // Both were recorded in the newest bucket, at 100 s.
    clock.set(at(110 * SECOND - MILLI));
    assert_eq!(budget.available(), 2);
    clock.set(at(110 * SECOND));
    assert_eq!(budget.available(), 0);
}

#[test]
fn the_end_of_time_is_just_another_bucket() {
    // With a 1 ns window, bucket numbers (ten a nanosecond) saturate at
    // u64::MAX from about 58 years on.
    let clock = ManualClock::starting_at(Instant::from_nanos(1_000_000_000_000_000_000));
    let budget = budget(1.0, 0, Duration::from_nanos(1), &clock);
    budget.deposit();
    assert_eq!(budget.available(), 1);
    assert_eq!(clock.advance(Duration::MAX), Instant::MAX);
    assert_eq!(budget.available(), 0, "expired, no panic");
    budget.deposit();
    assert!(budget.withdraw());
    assert!(!budget.withdraw());
}

#[test]
fn tiny_windows_work_to_the_nanosecond() {
    // A 7 ns window: buckets of 0.7 ns.
    let clock = ManualClock::new();
    let budget = budget(1.0, 0, Duration::from_nanos(7), &clock);
    budget.deposit();
    clock.advance(Duration::from_nanos(6));
    assert_eq!(budget.available(), 1);
    clock.advance(Duration::from_nanos(1));
    assert_eq!(budget.available(), 0);
}

// ---- Sharing ----

#[test]
fn shared_by_reference_and_by_arc() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<RatioBudget>();
    assert_send_sync::<RatioBudget<ManualClock>>();

    let clock = ManualClock::new();
    let shared = std::sync::Arc::new(budget(0.5, 0, SECOND, &clock));
    let by_ref: &RatioBudget<ManualClock> = &shared;
    by_ref.deposit();
    shared.deposit();
    assert!(Budget::withdraw(&shared));
    assert!(!Budget::withdraw(&by_ref));
}

#[test]
fn debug_shows_the_knobs_and_the_balance() {
    let clock = ManualClock::new();
    let budget = budget(0.5, 2, SECOND, &clock);
    budget.deposit();
    let debug = format!("{budget:?}");
    assert_eq!(
        debug,
        "RatioBudget { ratio: 0.5, min_per_second: 2, window: 1s, balance: 2.5, .. }"
    );
}

#[test]
fn the_hot_paths_do_not_allocate() {
    // Guards the rest: a counter that saw nothing would pass anything.
    let (_, n) = allocations_during(|| std::hint::black_box(vec![1u8; 16]));
    assert!(n >= 1);

    let clock = ManualClock::new();
    let budget = budget(0.5, 1, SECOND, &clock);
    let (_, n) = allocations_during(|| {
        for i in 0..1_000 {
            budget.deposit();
            std::hint::black_box(budget.withdraw());
            budget.record(Outcome::Failure);
            std::hint::black_box(budget.available());
            if i % 7 == 0 {
                // Opening new buckets, expiring old ones.
                clock.advance(Duration::from_millis(30));
            }
        }
    });
    assert_eq!(n, 0);
}

// ---- Threads ----

/// Eight threads hammer `withdraw` on a budget with exactly 1000 retries
/// and no clock movement: exactly 1000 succeed, in every round.
#[test]
fn eight_threads_get_exactly_the_retries_there_are() {
    const THREADS: usize = 8;
    const AVAILABLE: u64 = 1_000;
    for _round in 0..20 {
        let clock = ManualClock::new();
        // A reserve of 100 a second for 10 s, no ratio.
        let budget = budget(0.0, 100, 10 * SECOND, &clock);
        assert_eq!(budget.available(), AVAILABLE);
        let start = Barrier::new(THREADS);
        let admitted = AtomicU64::new(0);
        thread::scope(|s| {
            for _ in 0..THREADS {
                s.spawn(|| {
                    start.wait();
                    let mine = (0..AVAILABLE).filter(|_| budget.withdraw()).count();
                    admitted.fetch_add(mine as u64, Ordering::Relaxed);
                });
            }
        });
        assert_eq!(admitted.into_inner(), AVAILABLE);
        assert_eq!(budget.available(), 0);
    }
}

/// Four threads deposit 1000 requests each at a ratio of 0.6 while four
/// others withdraw: 2400 retries in total, never more, however they mix.
#[test]
fn racing_deposits_and_withdrawals_admit_exactly_the_ratio() {
    let clock = ManualClock::new();
    let budget = budget(0.6, 0, 10 * SECOND, &clock);
    let start = Barrier::new(8);
    let depositing = AtomicU64::new(4);
    let admitted = AtomicU64::new(0);
    let done = AtomicBool::new(false);
    thread::scope(|s| {
        for _ in 0..4 {
            s.spawn(|| {
                start.wait();
                deposits(&budget, 1_000);
                if depositing.fetch_sub(1, Ordering::AcqRel) == 1 {
                    done.store(true, Ordering::Release);
                }
            });
        }
        for _ in 0..4 {
            s.spawn(|| {
                start.wait();
                let mut mine = 0;
                loop {
                    // Read before trying: a failure after every deposit
                    // has landed means the balance is spent.
                    let finished = done.load(Ordering::Acquire);
                    if budget.withdraw() {
                        mine += 1;
                    } else if finished {
                        break;
                    } else {
                        thread::yield_now();
                    }
                }
                admitted.fetch_add(mine, Ordering::Relaxed);
            });
        }
    });
    assert_eq!(admitted.into_inner(), 2_400);
    assert_eq!(budget.available(), 0);
}

// ---- Properties ----

/// The budget as the docs describe it, one event at a time: each deposit and
/// retry lands in the newest bucket seen, and counts while that bucket is
/// one of the ten newest.
#[derive(Debug)]
struct Model {
    deposit: i64,
    reserve: i64,
    window: u64,
    head: u64,
    events: Vec<(u64, i64)>,
}

impl Model {
    fn new(ratio: f64, min_per_second: u32, window: u64) -> Self {
        Model {
            deposit: (ratio * 1_000.0).round() as i64,
            reserve: (u128::from(min_per_second) * u128::from(window) / 1_000_000) as i64,
            window,
            head: 0,
            events: Vec::new(),
        }
    }

    fn sync(&mut self, now: u64) {
        let bucket = (u128::from(now) * 10 / u128::from(self.window)) as u64;
        self.head = self.head.max(bucket);
    }

    fn balance(&self) -> i64 {
        let live = self
            .events
            .iter()
            .filter(|(bucket, _)| bucket + 10 > self.head)
            .map(|(_, units)| units);
        self.reserve + live.sum::<i64>()
    }

    fn deposit(&mut self, now: u64) {
        self.sync(now);
        if self.deposit != 0 {
            self.events.push((self.head, self.deposit));
        }
    }

    fn withdraw(&mut self, now: u64) -> bool {
        self.sync(now);
        let ok = self.balance() >= 1_000;
        if ok {
            self.events.push((self.head, -1_000));
        }
        ok
    }

    fn available(&mut self, now: u64) -> u64 {
        self.sync(now);
        self.balance().max(0) as u64 / 1_000
    }
}

#[derive(Clone, Debug)]
enum Op {
    /// Advance by this many thousandths of the window.
    Advance(u64),
    Deposit,
    Withdraw,
    Record(Outcome),
    Available,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        2 => (0u64..=100).prop_map(Op::Advance),
        1 => (0u64..=1_500).prop_map(Op::Advance),
        6 => Just(Op::Deposit),
        6 => Just(Op::Withdraw),
        1 => prop_oneof![
            Just(Outcome::Success),
            Just(Outcome::Failure),
            Just(Outcome::Ignored)
        ]
        .prop_map(Op::Record),
        1 => Just(Op::Available),
    ]
}

fn ratio() -> impl Strategy<Value = f64> {
    prop_oneof![
        Just(0.0),
        Just(0.2),
        Just(0.6),
        Just(1.0),
        Just(2.5),
        0.0..3.0f64
    ]
}

fn window() -> impl Strategy<Value = u64> {
    prop_oneof![
        Just(10_000_000_000u64),
        1u64..=10_000,
        1_000_000u64..=5_000_000_000,
    ]
}

proptest! {
    /// Random schedules of time, deposits, retries and outcomes: the budget
    /// answers exactly as the one-event-at-a-time model does, and every
    /// admitted retry satisfies the documented guarantee, measured on the
    /// raw timestamps rather than on buckets:
    ///
    /// retries in [t - (window - window/10), t] <= reserve + ratio x deposits in (t - window, t].
    #[test]
    fn matches_the_model_and_keeps_the_guarantee(
        ratio in ratio(),
        min_per_second in 0u32..4,
        window in window(),
        ops in prop::collection::vec(op(), 1..300),
    ) {
        let clock = ManualClock::new();
        let budget = budget(ratio, min_per_second, Duration::from_nanos(window), &clock);
        let mut model = Model::new(ratio, min_per_second, window);
        let (mut deposit_times, mut retry_times) = (Vec::new(), Vec::new());
        for op in ops {
            let now = nanos(&clock);
            match op {
                Op::Advance(thousandths) => {
                    let step = u128::from(window) * u128::from(thousandths) / 1_000;
                    clock.advance(Duration::from_nanos(step as u64));
                }
                Op::Deposit => {
                    budget.deposit();
                    model.deposit(now);
                    deposit_times.push(now);
                }
                Op::Withdraw => {
                    let ok = budget.withdraw();
                    prop_assert_eq!(ok, model.withdraw(now), "withdraw at {}", now);
                    if ok {
                        retry_times.push(now);
                        check_guarantee(&model, now, &deposit_times, &retry_times)?;
                    }
                }
                Op::Record(outcome) => budget.record(outcome),
                Op::Available => {
                    prop_assert_eq!(budget.available(), model.available(now));
                }
            }
        }
        let now = nanos(&clock);
        prop_assert_eq!(budget.available(), model.available(now));
    }
}

/// The guarantee at a retry admitted at `t`, in thousandths of a retry.
fn check_guarantee(
    model: &Model,
    t: u64,
    deposit_times: &[u64],
    retry_times: &[u64],
) -> Result<(), TestCaseError> {
    let (t, window) = (i128::from(t), i128::from(model.window));
    // s >= t - window + window/10, without dividing.
    let retries = retry_times
        .iter()
        .filter(|&&s| 10 * i128::from(s) >= 10 * t - 9 * window)
        .count() as i64;
    let deposits = deposit_times
        .iter()
        .filter(|&&s| i128::from(s) > t - window)
        .count() as i64;
    prop_assert!(
        retries * 1_000 <= model.reserve + model.deposit * deposits,
        "{} retries against a reserve of {} and {} deposits of {} at t = {}",
        retries,
        model.reserve,
        deposits,
        model.deposit,
        t
    );
    Ok(())
}

/// The clock's reading in nanoseconds.
fn nanos(clock: &ManualClock) -> u64 {
    clock.now().as_nanos()
}
