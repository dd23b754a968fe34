//! Public behaviour of `Backoff`: exact schedules, caps, jitter ranges, seeding and saturation.

use core::time::Duration;

use proptest::option;
use proptest::prelude::*;

use resil_core::{Backoff, BackoffBuilder, Jitter, SplitMix64};

/// Every jitter mode, for tests that must cover them all.
const MODES: [Jitter; 4] = [
    Jitter::None,
    Jitter::Full,
    Jitter::Equal,
    Jitter::Decorrelated,
];

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

fn ns(n: u64) -> Duration {
    Duration::from_nanos(n)
}

/// The first `n` delays of an iterator over `backoff`.
fn first(backoff: &Backoff, n: usize) -> Vec<Duration> {
    backoff.iter().take(n).collect()
}

/// The growth kinds, each with what it needs besides `base`.
#[derive(Clone, Copy, Debug)]
enum Growth {
    Constant,
    Linear(Duration),
    Exponential(f64),
    Fibonacci,
}

impl Growth {
    fn builder(self, base: Duration) -> BackoffBuilder {
        match self {
            Growth::Constant => Backoff::constant(base),
            Growth::Linear(step) => Backoff::linear(base, step),
            Growth::Exponential(factor) => Backoff::exponential(base, factor),
            Growth::Fibonacci => Backoff::fibonacci(base),
        }
    }
}

/// One backoff of every growth kind, from a 10ms base.
fn every_kind() -> [BackoffBuilder; 5] {
    [
        Backoff::constant(ms(10)),
        Backoff::linear(ms(10), ms(7)),
        Backoff::exponential(ms(10), 2.0),
        Backoff::exponential(ms(10), 1.5),
        Backoff::fibonacci(ms(10)),
    ]
}

/// The range, in nanoseconds, that a jittered delay must fall in, given the
/// nominal delay, the delay used before it and the backoff (for its base and cap).
fn jitter_range(mode: Jitter, nominal: u128, previous: u128, backoff: &Backoff) -> (u128, u128) {
    let max = backoff.max_delay().as_nanos();
    match mode {
        Jitter::None => (nominal, nominal),
        Jitter::Full => (0, nominal),
        Jitter::Equal => (nominal / 2, nominal),
        // Documented as `[base, max(d, 3 × previous)]` capped at `max_delay`.
        Jitter::Decorrelated => {
            let high = previous.saturating_mul(3).max(nominal).min(max);
            (backoff.base().as_nanos().min(high), high)
        }
        other => panic!("no expected range for the new jitter mode {other:?}"),
    }
}

// Exact schedules without jitter.

#[test]
fn constant_repeats_its_delay() {
    let backoff = Backoff::constant(ms(250)).build().unwrap();
    assert_eq!(first(&backoff, 5), [ms(250); 5]);
    assert_eq!(backoff.delay(u32::MAX), ms(250));
}

#[test]
fn constant_zero_delay_retries_at_once() {
    let backoff = Backoff::constant(Duration::ZERO).build().unwrap();
    assert_eq!(first(&backoff, 3), [Duration::ZERO; 3]);
    assert_eq!(backoff.delay(u32::MAX), Duration::ZERO);
}

#[test]
fn linear_adds_the_step_each_time() {
    let backoff = Backoff::linear(ms(100), ms(50)).build().unwrap();
    assert_eq!(first(&backoff, 5), [100, 150, 200, 250, 300].map(ms));
    // The closed form base + step·n holds far out too.
    assert_eq!(backoff.delay(1_000_000), ms(100 + 50 * 1_000_000));
}

#[test]
fn linear_keeps_sub_millisecond_steps_exact() {
    let backoff = Backoff::linear(ns(1), ns(333)).build().unwrap();
    assert_eq!(first(&backoff, 4), [1, 334, 667, 1_000].map(ns));
}

#[test]
fn exponential_multiplies_by_a_whole_factor() {
    let backoff = Backoff::exponential(ms(100), 2.0).build().unwrap();
    assert_eq!(
        first(&backoff, 6),
        [100, 200, 400, 800, 1_600, 3_200].map(ms)
    );
    let backoff = Backoff::exponential(ms(1), 10.0).build().unwrap();
    assert_eq!(backoff.delay(9), Duration::from_secs(1_000_000));
}

#[test]
fn exponential_with_a_fractional_factor_is_exact_to_the_nanosecond() {
    let backoff = Backoff::exponential(ms(100), 1.5).build().unwrap();
    assert_eq!(
        first(&backoff, 6),
        [
            100_000_000,
            150_000_000,
            225_000_000,
            337_500_000,
            506_250_000,
            759_375_000
        ]
        .map(ns)
    );
    // Further out the exact value base·3ⁿ/2ⁿ has a fraction of a nanosecond,
    // which is dropped.
    for n in 0..=20u32 {
        let exact = 100_000_000u128 * 3u128.pow(n) / 2u128.pow(n);
        assert_eq!(backoff.delay(n).as_nanos(), exact, "delay({n})");
    }
}

#[test]
fn sub_millisecond_bases_are_kept_to_the_nanosecond() {
    let base = Duration::from_micros(150);
    let backoff = Backoff::exponential(base, 1.5).build().unwrap();
    assert_eq!(
        first(&backoff, 6),
        [150_000, 225_000, 337_500, 506_250, 759_375, 1_139_062].map(ns)
    );
    let backoff = Backoff::exponential(base, 2.0).build().unwrap();
    assert_eq!(
        first(&backoff, 5),
        [150_000, 300_000, 600_000, 1_200_000, 2_400_000].map(ns)
    );
    let backoff = Backoff::exponential(ns(1), 3.0).build().unwrap();
    assert_eq!(first(&backoff, 5), [1, 3, 9, 27, 81].map(ns));
}

#[test]
fn exponential_factor_one_is_constant() {
    let backoff = Backoff::exponential(ms(40), 1.0).build().unwrap();
    assert_eq!(first(&backoff, 4), [ms(40); 4]);
    assert_eq!(backoff.delay(u32::MAX), ms(40));
}

#[test]
fn fibonacci_follows_the_fibonacci_numbers() {
    let backoff = Backoff::fibonacci(ms(10)).build().unwrap();
    assert_eq!(
        first(&backoff, 10),
        [10, 10, 20, 30, 50, 80, 130, 210, 340, 550].map(ms)
    );
    // delay(n) is base·F(n + 1), and F(51) = 20365011074.
    assert_eq!(backoff.delay(50), ms(10 * 20_365_011_074));
}

#[test]
fn every_kind_is_capped_by_max_delay() {
    let capped = |builder: BackoffBuilder| builder.max_delay(ms(100)).build().unwrap();
    assert_eq!(first(&capped(Backoff::constant(ms(100))), 3), [ms(100); 3]);
    assert_eq!(
        first(&capped(Backoff::linear(ms(30), ms(30))), 5),
        [30, 60, 90, 100, 100].map(ms)
    );
    assert_eq!(
        first(&capped(Backoff::exponential(ms(15), 2.0)), 5),
        [15, 30, 60, 100, 100].map(ms)
    );
    assert_eq!(
        first(&capped(Backoff::exponential(ms(40), 1.5)), 5),
        [40, 60, 90, 100, 100].map(ms)
    );
    assert_eq!(
        first(&capped(Backoff::fibonacci(ms(10))), 9),
        [10, 10, 20, 30, 50, 80, 100, 100, 100].map(ms)
    );
}

#[test]
fn max_delay_equal_to_base_pins_every_delay() {
    for builder in every_kind() {
        let backoff = builder.max_delay(ms(10)).build().unwrap();
        assert_eq!(first(&backoff, 8), [ms(10); 8], "{backoff:?}");
        assert_eq!(backoff.delay(u32::MAX), ms(10), "{backoff:?}");
    }
}

#[test]
fn accessors_report_the_configuration() {
    let backoff = Backoff::exponential(ms(5), 2.0).build().unwrap();
    assert_eq!(backoff.base(), ms(5));
    assert_eq!(backoff.max_delay(), Duration::MAX);
    assert_eq!(backoff.jitter_mode(), Jitter::None);
    let backoff = Backoff::linear(ms(5), ms(1))
        .max_delay(ms(9))
        .jitter(Jitter::Equal)
        .build()
        .unwrap();
    assert_eq!(backoff.max_delay(), ms(9));
    assert_eq!(backoff.jitter_mode(), Jitter::Equal);
    let backoff = Backoff::decorrelated(ms(5)).build().unwrap();
    assert_eq!(backoff.jitter_mode(), Jitter::Decorrelated);
}

// Decorrelated jitter.

#[test]
fn decorrelated_is_constant_growth_with_decorrelated_jitter() {
    assert_eq!(
        Backoff::decorrelated(ms(100)).max_delay(ms(900)).build(),
        Backoff::constant(ms(100))
            .max_delay(ms(900))
            .jitter(Jitter::Decorrelated)
            .build()
    );
}

#[test]
fn decorrelated_stays_between_base_and_three_times_the_previous_delay() {
    let base = ms(100);
    let max = Duration::from_secs(5);
    let backoff = Backoff::decorrelated(base).max_delay(max).build().unwrap();
    for seed in 0..20 {
        let mut previous = base;
        let mut longest = Duration::ZERO;
        for delay in backoff.iter_seeded(seed).take(200) {
            let high = max.min(previous * 3);
            assert!(
                base <= delay && delay <= high,
                "seed {seed}: {delay:?} outside [{base:?}, {high:?}]"
            );
            longest = longest.max(delay);
            previous = delay;
        }
        // The delays do wander upwards: a constant schedule would fail this.
        assert!(longest > max / 2, "seed {seed}: longest {longest:?}");
    }
}

#[test]
fn decorrelated_without_a_cap_is_bounded_by_three_times_the_previous_delay() {
    let base = Duration::from_micros(150);
    let backoff = Backoff::decorrelated(base).build().unwrap();
    let mut previous = base;
    for delay in backoff.iter_seeded(11).take(500) {
        assert!(base <= delay && delay <= previous.saturating_mul(3));
        previous = delay;
    }
}

// Seeding.

#[test]
fn the_same_seed_gives_the_same_delays() {
    for mode in MODES {
        let backoff = Backoff::exponential(ms(100), 2.0)
            .max_delay(Duration::from_secs(60))
            .jitter(mode)
            .build()
            .unwrap();
        let a: Vec<_> = backoff.iter_seeded(7).take(64).collect();
        let b: Vec<_> = backoff.iter_seeded(7).take(64).collect();
        assert_eq!(a, b, "{mode:?}");
    }
}

#[test]
fn different_seeds_give_different_delays() {
    for mode in [Jitter::Full, Jitter::Equal, Jitter::Decorrelated] {
        let backoff = Backoff::exponential(ms(100), 2.0)
            .max_delay(Duration::from_secs(60))
            .jitter(mode)
            .build()
            .unwrap();
        let a: Vec<_> = backoff.iter_seeded(7).take(64).collect();
        let b: Vec<_> = backoff.iter_seeded(8).take(64).collect();
        assert_ne!(a, b, "{mode:?}");
    }
}

#[test]
fn unseeded_iterators_differ() {
    // 64 draws from ranges of at least 100ms in nanoseconds: two equal
    // sequences would take odds of far below 10^-500.
    let backoff = Backoff::exponential(ms(100), 2.0)
        .max_delay(Duration::from_secs(3600))
        .jitter(Jitter::Full)
        .build()
        .unwrap();
    let a = first(&backoff, 64);
    let b = first(&backoff, 64);
    assert_ne!(a, b);
}

#[test]
fn without_jitter_the_seed_does_not_matter() {
    let backoff = Backoff::fibonacci(ms(3)).build().unwrap();
    let seeded: Vec<_> = backoff.iter_seeded(1).take(30).collect();
    assert_eq!(seeded, backoff.iter_seeded(2).take(30).collect::<Vec<_>>());
    assert_eq!(seeded, first(&backoff, 30));
}

// `delay` and `jittered_delay`.

#[test]
fn delay_is_the_unjittered_iterators_item() {
    for builder in every_kind() {
        for max in [None, Some(ms(500))] {
            let builder = match max {
                Some(max) => builder.max_delay(max),
                None => builder,
            };
            let backoff = builder.build().unwrap();
            for (index, delay) in (0..200).zip(backoff.iter()) {
                assert_eq!(backoff.delay(index), delay, "{backoff:?} at {index}");
            }
        }
    }
}

#[test]
fn delay_is_nominal_whatever_the_jitter() {
    for builder in every_kind() {
        let plain = builder.build().unwrap();
        for mode in MODES {
            let jittered = builder.jitter(mode).build().unwrap();
            for index in (0..100).chain([1_000, u32::MAX]) {
                assert_eq!(jittered.delay(index), plain.delay(index));
            }
        }
    }
}

#[test]
fn jittered_delay_stays_within_its_mode_range() {
    let max = Duration::from_secs(10);
    for mode in MODES {
        let backoff = Backoff::exponential(ms(100), 2.0)
            .max_delay(max)
            .jitter(mode)
            .build()
            .unwrap();
        let mut rng = SplitMix64::new(5);
        for index in 0..10 {
            let nominal = backoff.delay(index);
            for previous in [Duration::ZERO, ms(100), ms(700), Duration::MAX] {
                let (low, high) =
                    jitter_range(mode, nominal.as_nanos(), previous.as_nanos(), &backoff);
                for _ in 0..50 {
                    let delay = backoff.jittered_delay(index, previous, &mut rng).as_nanos();
                    assert!(
                        low <= delay && delay <= high,
                        "{mode:?}: {delay} outside [{low}, {high}] (index {index}, previous {previous:?})"
                    );
                }
            }
        }
    }
}

#[test]
fn jitter_actually_spreads_the_delays() {
    // Each mode must use its whole range, not just the nominal delay (which
    // lies inside every range, so a do-nothing jitter would pass the range
    // test above).
    let nominal = Duration::from_secs(1);
    let draws = |mode: Jitter, previous: Duration| -> Vec<Duration> {
        let backoff = Backoff::constant(nominal).jitter(mode).build().unwrap();
        let mut rng = SplitMix64::new(9);
        (0..200)
            .map(|_| backoff.jittered_delay(0, previous, &mut rng))
            .collect()
    };
    let full = draws(Jitter::Full, nominal);
    assert!(full.iter().any(|&d| d < nominal / 4));
    assert!(full.iter().any(|&d| d > nominal * 3 / 4));
    let equal = draws(Jitter::Equal, nominal);
    assert!(equal.iter().any(|&d| d < nominal * 3 / 5));
    assert!(equal.iter().any(|&d| d > nominal * 9 / 10));
    let decorrelated = draws(Jitter::Decorrelated, nominal * 10);
    assert!(decorrelated.iter().any(|&d| d > nominal * 20));
    assert!(decorrelated.iter().any(|&d| d < nominal * 5));
}

#[test]
fn the_iterator_is_jittered_delay_fed_its_own_output() {
    for mode in MODES {
        let backoff = Backoff::linear(ms(20), ms(20))
            .max_delay(Duration::from_secs(2))
            .jitter(mode)
            .build()
            .unwrap();
        let mut rng = SplitMix64::new(3);
        let mut previous = backoff.base();
        let by_hand: Vec<_> = (0..100)
            .map(|index| {
                previous = backoff.jittered_delay(index, previous, &mut rng);
                previous
            })
            .collect();
        let iterated: Vec<_> = backoff
            .iter_with_rng(SplitMix64::new(3))
            .take(100)
            .collect();
        assert_eq!(by_hand, iterated, "{mode:?}");
    }
}

// The iterator itself.

#[test]
fn delays_counts_what_it_has_drawn() {
    let backoff = Backoff::constant(ms(1)).build().unwrap();
    let mut delays = backoff.iter();
    assert_eq!(delays.drawn(), 0);
    assert_eq!(delays.by_ref().take(5).count(), 5);
    assert_eq!(delays.drawn(), 5);
    assert_eq!(delays.size_hint(), (usize::MAX, None));
}

#[test]
fn a_cloned_iterator_continues_identically() {
    let backoff = Backoff::exponential(ms(10), 2.0)
        .jitter(Jitter::Full)
        .build()
        .unwrap();
    let mut original = backoff.iter_seeded(4);
    original.nth(3);
    let copy = original.clone();
    assert_eq!(
        original.take(20).collect::<Vec<_>>(),
        copy.take(20).collect::<Vec<_>>()
    );
}

#[test]
fn a_reference_iterates_like_iter() {
    let backoff = Backoff::fibonacci(ms(1)).build().unwrap();
    let mut seen = Vec::new();
    for delay in &backoff {
        seen.push(delay);
        if seen.len() == 6 {
            break;
        }
    }
    assert_eq!(seen, [1, 1, 2, 3, 5, 8].map(ms));
}

// Overflow corners: nothing panics, everything saturates.

#[test]
fn huge_factors_saturate_at_duration_max() {
    for factor in [1e300, f64::MAX, 1e19, 18_446_744_073_709_551_616.0] {
        let backoff = Backoff::exponential(ns(1), factor).build().unwrap();
        assert_eq!(backoff.delay(0), ns(1), "factor {factor:e}");
        assert_eq!(backoff.delay(2), Duration::MAX, "factor {factor:e}");
        assert_eq!(backoff.delay(u32::MAX), Duration::MAX, "factor {factor:e}");
    }
    // 1e300 and f64::MAX overshoot at once.
    for factor in [1e300, f64::MAX] {
        let backoff = Backoff::exponential(ns(1), factor).build().unwrap();
        assert_eq!(backoff.delay(1), Duration::MAX);
    }
}

#[test]
fn huge_factors_saturate_at_max_delay() {
    let max = Duration::from_secs(3600);
    for factor in [1.000_000_1, 2.0, 1e300, f64::MAX] {
        let backoff = Backoff::exponential(Duration::from_micros(50), factor)
            .max_delay(max)
            .build()
            .unwrap();
        assert_eq!(backoff.delay(u32::MAX), max, "factor {factor:e}");
    }
}

#[test]
fn factors_barely_above_one_grow_slowly_but_do_grow() {
    // 1.0000001^(2^32 - 1) is about e^429, far past `Duration::MAX`.
    let backoff = Backoff::exponential(ns(1), 1.000_000_1).build().unwrap();
    assert_eq!(backoff.delay(u32::MAX), Duration::MAX);
    // (1 + 2^-52)^(2^32 - 1) is about 1 + 9.5367e-7: a 1s base gains 953ns.
    let backoff = Backoff::exponential(Duration::from_secs(1), 1.0 + f64::EPSILON)
        .build()
        .unwrap();
    let last = backoff.delay(u32::MAX).as_nanos();
    assert!((1_000_000_950..=1_000_000_956).contains(&last), "{last}");
}

#[test]
fn duration_max_base_saturates_at_once() {
    let builders = [
        Backoff::constant(Duration::MAX),
        Backoff::linear(Duration::MAX, Duration::MAX),
        Backoff::exponential(Duration::MAX, 2.0),
        Backoff::exponential(Duration::MAX, 1.5),
        Backoff::exponential(Duration::MAX, 1e300),
        Backoff::fibonacci(Duration::MAX),
    ];
    let max = Duration::MAX.as_nanos();
    for builder in builders {
        for mode in MODES {
            let backoff = builder.jitter(mode).build().unwrap();
            for index in [0, 1, 2, 1_000, u32::MAX] {
                assert_eq!(backoff.delay(index), Duration::MAX, "{backoff:?}");
            }
            let mut previous = max;
            for delay in backoff.iter_seeded(1).take(20) {
                let (low, high) = jitter_range(mode, max, previous, &backoff);
                let delay = delay.as_nanos();
                assert!(low <= delay && delay <= high, "{mode:?}: {delay}");
                previous = delay;
            }
        }
    }
}

#[test]
fn linear_and_fibonacci_saturate() {
    let backoff = Backoff::linear(ns(1), Duration::MAX).build().unwrap();
    assert_eq!(backoff.delay(1), Duration::MAX);
    let backoff = Backoff::linear(ns(1), Duration::from_secs(u64::MAX / 2))
        .build()
        .unwrap();
    assert_eq!(backoff.delay(3), Duration::MAX);
    let backoff = Backoff::fibonacci(ns(1)).build().unwrap();
    assert_eq!(backoff.delay(u32::MAX), Duration::MAX);
    let backoff = Backoff::fibonacci(ns(1)).max_delay(ms(1)).build().unwrap();
    assert_eq!(backoff.delay(u32::MAX), ms(1));
}

#[test]
fn max_delay_of_duration_max_is_the_same_as_none() {
    for builder in every_kind() {
        assert_eq!(
            builder.max_delay(Duration::MAX).build(),
            builder.build(),
            "{builder:?}"
        );
    }
}

#[test]
fn jitter_at_duration_max_stays_in_range() {
    let full = Backoff::constant(Duration::MAX)
        .jitter(Jitter::Full)
        .build()
        .unwrap();
    let equal = Backoff::constant(Duration::MAX)
        .jitter(Jitter::Equal)
        .build()
        .unwrap();
    let decorrelated = Backoff::decorrelated(Duration::MAX).build().unwrap();
    for seed in 0..10 {
        assert!(full.iter_seeded(seed).take(20).all(|d| d < Duration::MAX));
        assert!(
            equal
                .iter_seeded(seed)
                .take(20)
                .all(|d| d >= Duration::MAX / 2)
        );
        assert!(
            decorrelated
                .iter_seeded(seed)
                .take(20)
                .all(|d| d == Duration::MAX)
        );
    }
}

#[test]
fn iterators_keep_yielding_after_many_delays() {
    let max = Duration::from_secs(60);
    for builder in every_kind() {
        for mode in MODES {
            let backoff = builder.max_delay(max).jitter(mode).build().unwrap();
            let mut delays = backoff.iter_seeded(2);
            let previous = delays.nth(9_999).expect("delays never run out");
            let delay = delays.next().expect("delays never run out");
            assert_eq!(delays.drawn(), 10_001);
            let (low, high) = jitter_range(
                mode,
                backoff.delay(10_000).as_nanos(),
                previous.as_nanos(),
                &backoff,
            );
            let nanos = delay.as_nanos();
            assert!(low <= nanos && nanos <= high, "{backoff:?}: {delay:?}");
        }
    }
    // Everything but the constant schedule has reached the cap by then.
    for builder in &every_kind()[1..] {
        let backoff = builder.max_delay(max).build().unwrap();
        assert_eq!(backoff.iter().nth(10_000), Some(max), "{backoff:?}");
    }
}

/// Regression: a fractional-factor exponential multiplies `base` in `f64`,
/// so a base above 2^53 ns (about 104 days) was rounded and `delay(0)` was
/// not `base` (2^53 + 1 ns gave 2^53 ns; 2^54 − 1 ns gave 2^54 ns). Found
/// while writing these tests.
#[test]
fn fractional_exponential_keeps_huge_bases_exact() {
    for base in [(1 << 53) + 1, (1 << 54) - 1, 123_456_789_123_456_789] {
        let backoff = Backoff::exponential(ns(base), 1.5).build().unwrap();
        assert_eq!(backoff.delay(0), ns(base));
    }
}

// Properties over every growth kind × jitter mode × factor × base × cap × index.

/// Durations from 1ns to `Duration::MAX`, weighted towards the interesting
/// parts: sub-millisecond, everyday, anything at all, and the two extremes.
fn duration() -> impl Strategy<Value = Duration> {
    prop_oneof![
        (1u64..1_000_000).prop_map(ns),
        (1u64..=3_600_000_000_000).prop_map(ns),
        (any::<u64>(), 0u32..1_000_000_000)
            .prop_map(|(secs, nanos)| Duration::new(secs, nanos).max(ns(1))),
        Just(ns(1)),
        Just(Duration::MAX),
    ]
}

/// Valid exponential factors: exactly 1 and 2, whole numbers, fractions just
/// above 1, anything up to 1e300, and the huge extremes.
fn factor() -> impl Strategy<Value = f64> {
    prop_oneof![
        Just(1.0),
        Just(2.0),
        (1u32..=64).prop_map(f64::from),
        (1u32..=64).prop_map(|k| 1.0 + f64::EPSILON * f64::from(k)),
        1.0..=2.0,
        1.0..=1e300,
        Just(1e300),
        Just(f64::MAX),
    ]
}

fn growth() -> impl Strategy<Value = Growth> {
    prop_oneof![
        Just(Growth::Constant),
        duration().prop_map(Growth::Linear),
        factor().prop_map(Growth::Exponential),
        Just(Growth::Fibonacci),
    ]
}

fn jitter() -> impl Strategy<Value = Jitter> {
    prop_oneof![
        Just(Jitter::None),
        Just(Jitter::Full),
        Just(Jitter::Equal),
        Just(Jitter::Decorrelated),
    ]
}

fn index() -> impl Strategy<Value = u32> {
    prop_oneof![0u32..100, any::<u32>(), Just(u32::MAX)]
}

/// A valid configuration: `cap` is raised to `base` if it is below it.
fn configure(growth: Growth, base: Duration, cap: Option<Duration>, mode: Jitter) -> Backoff {
    let builder = growth.builder(base).jitter(mode);
    let builder = match cap {
        Some(cap) => builder.max_delay(cap.max(base)),
        None => builder,
    };
    match builder.build() {
        Ok(backoff) => backoff,
        Err(e) => panic!("{builder:?} was rejected: {e}"),
    }
}

proptest! {
    #[test]
    fn valid_configurations_build(
        growth in growth(),
        base in duration(),
        cap in option::of(duration()),
        mode in jitter(),
    ) {
        let backoff = configure(growth, base, cap, mode);
        prop_assert_eq!(backoff.base(), base);
        prop_assert_eq!(backoff.max_delay(), cap.map_or(Duration::MAX, |c| c.max(base)));
        prop_assert_eq!(backoff.jitter_mode(), mode);
    }

    #[test]
    fn nominal_delays_are_capped_and_non_decreasing(
        growth in growth(),
        base in duration(),
        cap in option::of(duration()),
        mode in jitter(),
        index in index(),
    ) {
        let backoff = configure(growth, base, cap, mode);
        let max = backoff.max_delay();
        let delay = backoff.delay(index);
        prop_assert!(delay <= max);
        prop_assert!(backoff.delay(index / 2) <= delay);
        if let Some(next) = index.checked_add(1) {
            prop_assert!(delay <= backoff.delay(next));
        }
        prop_assert_eq!(backoff.delay(0), base);
    }

    #[test]
    fn jittered_delays_stay_in_their_mode_range(
        growth in growth(),
        base in duration(),
        cap in option::of(duration()),
        mode in jitter(),
        index in index(),
        previous in prop_oneof![Just(Duration::ZERO), duration()],
        seed in any::<u64>(),
    ) {
        let backoff = configure(growth, base, cap, mode);
        let max = backoff.max_delay().as_nanos();
        let nominal = backoff.delay(index).as_nanos();
        let (low, high) = jitter_range(mode, nominal, previous.as_nanos(), &backoff);
        let mut rng = SplitMix64::new(seed);
        for _ in 0..8 {
            let delay = backoff.jittered_delay(index, previous, &mut rng).as_nanos();
            prop_assert!(delay <= max);
            prop_assert!(low <= delay && delay <= high, "{} outside [{}, {}]", delay, low, high);
        }
    }

    #[test]
    fn seeded_iterators_draw_within_bounds_and_repeat(
        growth in growth(),
        base in duration(),
        cap in option::of(duration()),
        mode in jitter(),
        seed in any::<u64>(),
    ) {
        let backoff = configure(growth, base, cap, mode);
        let max = backoff.max_delay().as_nanos();
        let drawn: Vec<_> = backoff.iter_seeded(seed).take(40).collect();
        let mut previous = backoff.base().as_nanos();
        for (index, delay) in (0u32..).zip(&drawn) {
            let nominal = backoff.delay(index).as_nanos();
            let (low, high) = jitter_range(mode, nominal, previous, &backoff);
            let delay = delay.as_nanos();
            prop_assert!(delay <= max);
            prop_assert!(low <= delay && delay <= high, "item {}: {} outside [{}, {}]", index, delay, low, high);
            previous = delay;
        }
        let again: Vec<_> = backoff.iter_seeded(seed).take(40).collect();
        prop_assert_eq!(drawn, again);
    }
}

proptest! {
    /// The iterator steps its nominal delay and draws in `u64` where the
    /// values fit; `jittered_delay` recomputes from the index in `u128`.
    /// Both must give the very same delays, across 2^64 ns too.
    #[test]
    fn the_iterator_matches_jittered_delay_for_every_configuration(
        growth in growth(),
        base in duration(),
        cap in option::of(duration()),
        mode in jitter(),
        seed in any::<u64>(),
    ) {
        let backoff = configure(growth, base, cap, mode);
        let mut rng = SplitMix64::new(seed);
        let mut previous = backoff.base();
        let mut delays = backoff.iter_seeded(seed);
        for index in 0..100 {
            previous = backoff.jittered_delay(index, previous, &mut rng);
            prop_assert_eq!(delays.next(), Some(previous), "item {}", index);
        }
    }
}

/// Debug shows durations, and `max_delay` only when there is a cap.
#[test]
fn debug_shows_the_cap_only_when_there_is_one() {
    let capped = Backoff::constant(ms(100))
        .max_delay(ms(500))
        .build()
        .unwrap();
    let shown = format!("{capped:?}");
    assert!(shown.starts_with("Backoff {"), "{shown}");
    assert!(
        shown.contains("base: 100ms") && shown.contains("max_delay: 500ms"),
        "{shown}"
    );
    let uncapped = Backoff::exponential(ms(100), 2.0)
        .max_delay(Duration::MAX)
        .build()
        .unwrap();
    assert!(
        !format!("{uncapped:?}").contains("max_delay"),
        "{uncapped:?}"
    );
}

/// `set_previous` (a server's hint replaced the drawn delay) moves the
/// range decorrelated jitter draws the next delay from: up to 3× the delay
/// actually waited.
#[test]
fn decorrelated_jitter_grows_from_the_delay_set_as_previous() {
    let backoff = Backoff::decorrelated(ms(1))
        .max_delay(Duration::from_secs(60))
        .build()
        .unwrap();
    let mut longest = Duration::ZERO;
    for seed in 0..32 {
        let mut delays = backoff.iter_seeded(seed);
        delays.set_previous(Duration::from_secs(10));
        let delay = delays.next().unwrap();
        assert!(
            delay >= ms(1) && delay <= Duration::from_secs(30),
            "{delay:?}"
        );
        longest = longest.max(delay);
    }
    // Without the hint the range would end at 3 ms.
    assert!(longest > Duration::from_secs(1), "{longest:?}");
}

/// Iterators seeded by `Backoff::iter` on threads that start together do
/// not jitter alike: each thread's seed stream is keyed from fresh entropy,
/// not from a fixed starting state.
#[test]
fn fresh_threads_draw_different_jitter() {
    let backoff = Backoff::constant(Duration::from_secs(1))
        .jitter(Jitter::Full)
        .build()
        .unwrap();
    let draws: Vec<Vec<Duration>> = (0..2)
        .map(|_| std::thread::spawn(move || backoff.iter().take(8).collect()))
        .collect::<Vec<_>>()
        .into_iter()
        .map(|thread| thread.join().unwrap())
        .collect();
    assert_ne!(draws[0], draws[1]);
}
