//! Every limit, fed any sequence of samples (any latency, in-flight count,
//! outcome and instant, time going backwards included): never a panic, the
//! limit always within `[min, max]` and what `update` returned, the same
//! samples always giving the same limits, and ignored samples changing
//! nothing.

use std::time::Duration;

use proptest::prelude::*;
use resil_core::{Instant, Outcome};
use resil_shed::{Aimd, AnyLimit, Fixed, Gradient2, Limit, Sample, Vegas};

fn outcome() -> impl Strategy<Value = Outcome> {
    prop_oneof![
        4 => Just(Outcome::Success),
        1 => Just(Outcome::Failure),
        1 => Just(Outcome::Ignored),
    ]
}

fn latency() -> impl Strategy<Value = Duration> {
    prop_oneof![
        8 => (0u64..50_000_000).prop_map(Duration::from_nanos),
        1 => any::<u64>().prop_map(Duration::from_nanos),
        1 => Just(Duration::ZERO),
        1 => Just(Duration::MAX),
    ]
}

/// Samples whose instants mostly move forward (by up to 20ms), sometimes
/// jump anywhere (backwards included).
fn samples() -> impl Strategy<Value = Vec<Sample>> {
    let step = (
        latency(),
        prop_oneof![4 => 0u32..300, 1 => any::<u32>()],
        outcome(),
        prop_oneof![20 => (0u64..20_000_000).prop_map(Some), 1 => Just(None)],
        any::<u64>(),
    );
    prop::collection::vec(step, 0..400).prop_map(|steps| {
        let mut now = 0u64;
        steps
            .into_iter()
            .map(|(latency, in_flight, outcome, advance, jump)| {
                now = match advance {
                    Some(delta) => now.saturating_add(delta),
                    None => jump,
                };
                Sample::new(latency, in_flight, outcome, Instant::from_nanos(now))
            })
            .collect()
    })
}

/// `(min, initial, max)` with `1 ≤ min ≤ initial ≤ max`.
fn bounds() -> impl Strategy<Value = (u32, u32, u32)> {
    (1u32..40, 0u32..200, 0u32..2_000).prop_map(|(min, up, more)| (min, min + up, min + up + more))
}

/// A limit and its `(min, max)`.
type Bounded<L> = (L, (u32, u32));

/// An AIMD limit, its bounds and its timeout.
fn aimd() -> impl Strategy<Value = (Aimd, (u32, u32), Duration)> {
    (
        bounds(),
        0.5f64..1.0,
        1u64..100_000_000,
        prop_oneof![Just(1.0), 0.01f64..1e6],
    )
        .prop_map(|((min, initial, max), ratio, timeout, increase)| {
            let timeout = Duration::from_nanos(timeout);
            let limit = Aimd::builder()
                .min(min)
                .initial(initial)
                .max(max)
                .backoff_ratio(ratio)
                .timeout(timeout)
                .increase(increase)
                .build()
                .unwrap();
            (limit, (min, max), timeout)
        })
}

fn gradient2() -> impl Strategy<Value = Bounded<Gradient2>> {
    (
        bounds(),
        prop_oneof![Just(1.0), 1.0f64..10.0],
        prop_oneof![Just(1.0), 0.001f64..1.0],
        1u32..50,
        1u32..1_000,
        prop_oneof![1u32..5, Just(60), Just(u32::MAX)],
    )
        .prop_map(
            |((min, initial, max), tolerance, smoothing, queue, window, probe)| {
                let limit = Gradient2::builder()
                    .min(min)
                    .initial(initial)
                    .max(max)
                    .tolerance(tolerance)
                    .smoothing(smoothing)
                    .queue_size(queue)
                    .long_window(window)
                    .probe_multiplier(probe)
                    .build()
                    .unwrap();
                (limit, (min, max))
            },
        )
}

fn vegas() -> impl Strategy<Value = Bounded<Vegas>> {
    (
        bounds(),
        0.01f64..10.0,
        0.0f64..10.0,
        0.5f64..1.0,
        prop_oneof![1u32..5, Just(60), Just(u32::MAX)],
    )
        .prop_map(|((min, initial, max), alpha, more, ratio, probe)| {
            let limit = Vegas::builder()
                .min(min)
                .initial(initial)
                .max(max)
                .alpha(alpha)
                .beta(alpha + more)
                .backoff_ratio(ratio)
                .probe_multiplier(probe)
                .build()
                .unwrap();
            (limit, (min, max))
        })
}

/// Feeds `samples`, checking the bounds after each; returns the limits.
fn feed<L: Limit + Clone + std::fmt::Debug>(
    limit: &L,
    min: u32,
    max: u32,
    samples: &[Sample],
) -> Result<Vec<u32>, TestCaseError> {
    let mut limit = limit.clone();
    let mut seen = Vec::with_capacity(samples.len());
    prop_assert!((min..=max).contains(&limit.limit()));
    for sample in samples {
        let returned = limit.update(sample);
        prop_assert_eq!(returned, limit.limit(), "{:?} after {:?}", limit, sample);
        prop_assert!(
            (min..=max).contains(&returned),
            "{} outside [{}, {}]: {:?}",
            returned,
            min,
            max,
            limit
        );
        seen.push(returned);
    }
    Ok(seen)
}

/// The checks every limit must pass: bounds, determinism, and ignored
/// samples changing nothing.
fn check<L: Limit + Clone + std::fmt::Debug>(
    limit: L,
    (min, max): (u32, u32),
    samples: Vec<Sample>,
) -> Result<(), TestCaseError> {
    let first = feed(&limit, min, max, &samples)?;
    prop_assert_eq!(
        &feed(&limit, min, max, &samples)?,
        &first,
        "not deterministic"
    );
    // Without the ignored samples, the others give the same limits.
    let kept: Vec<usize> = (0..samples.len())
        .filter(|&i| !samples[i].outcome.is_ignored())
        .collect();
    let without: Vec<Sample> = kept.iter().map(|&i| samples[i]).collect();
    let expected: Vec<u32> = kept.iter().map(|&i| first[i]).collect();
    prop_assert_eq!(
        feed(&limit, min, max, &without)?,
        expected,
        "an ignored sample mattered"
    );
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn aimd_stays_in_bounds((limit, bounds, _) in aimd(), samples in samples()) {
        check(limit, bounds, samples)?;
    }

    #[test]
    fn gradient2_stays_in_bounds((limit, bounds) in gradient2(), samples in samples()) {
        check(limit, bounds, samples)?;
    }

    #[test]
    fn vegas_stays_in_bounds((limit, bounds) in vegas(), samples in samples()) {
        check(limit, bounds, samples)?;
    }

    #[test]
    fn fixed_never_moves(n in 1u32.., samples in samples()) {
        let limit = Fixed::try_from(n).unwrap();
        prop_assert_eq!(feed(&limit, n, n, &samples)?, vec![n; samples.len()]);
    }

    /// `AnyLimit` is each limit it wraps, sample for sample.
    #[test]
    fn any_limit_is_the_limit_it_wraps(
        (aimd, bounds, _) in aimd(),
        (vegas, vegas_bounds) in vegas(),
        (gradient2, gradient2_bounds) in gradient2(),
        samples in samples(),
    ) {
        let (min, max) = bounds;
        prop_assert_eq!(feed(&AnyLimit::from(aimd.clone()), min, max, &samples)?, feed(&aimd, min, max, &samples)?);
        let (min, max) = vegas_bounds;
        prop_assert_eq!(feed(&AnyLimit::from(vegas.clone()), min, max, &samples)?, feed(&vegas, min, max, &samples)?);
        let (min, max) = gradient2_bounds;
        prop_assert_eq!(
            feed(&AnyLimit::from(gradient2.clone()), min, max, &samples)?,
            feed(&gradient2, min, max, &samples)?
        );
        let fixed = Fixed::try_from(7).unwrap();
        prop_assert_eq!(feed(&AnyLimit::from(fixed), 7, 7, &samples)?, vec![7; samples.len()]);
    }

    /// AIMD's directions: a success within the timeout never lowers it; a
    /// failure or a slow success never raises it.
    #[test]
    fn aimd_moves_the_right_way((mut limit, _, timeout) in aimd(), samples in samples()) {
        for sample in &samples {
            let before = limit.limit();
            let after = limit.update(sample);
            match sample.outcome {
                Outcome::Success if sample.latency <= timeout => prop_assert!(after >= before),
                Outcome::Ignored => prop_assert_eq!(after, before),
                _ => prop_assert!(after <= before),
            }
        }
    }
}

#[test]
fn a_fast_success_never_lowers_aimd_and_a_slow_one_lowers_it() {
    let mut limit = Aimd::builder()
        .initial(10)
        .timeout(Duration::from_millis(100))
        .build()
        .unwrap();
    let at = Instant::from_nanos(1_000_000_000);
    let fast = Sample::new(Duration::from_millis(100), 10, Outcome::Success, at);
    let slow = Sample::new(Duration::from_millis(101), 10, Outcome::Success, at);
    let before = limit.limit();
    assert!(limit.update(&fast) >= before);
    let before = limit.limit();
    assert!(limit.update(&slow) < before);
}
