//! The next backoff delay: resil-core's `Delays` against backon's and
//! backoff's iterators.
//!
//! A retry loop makes a fresh schedule per call and draws a few delays from
//! it, so that is what is measured: each operation draws the next delay,
//! and every [`SCHEDULE`]th draw starts a fresh schedule with the library's
//! own per-call constructor first. The figure is the cost of one delay
//! with an eighth of a schedule's creation in it, over the first eight
//! delays (growth and cap both).
//!
//! All three are exponential from 100 ms, doubling, capped at 10 s:
//!
//! - resil: [`Backoff::iter`] (seeded per schedule from the OS's hash
//!   keys, as `resil-retry` seeds it), no jitter or [`Jitter::Full`].
//! - backon: `ExponentialBuilder::build` (a fresh `fastrand` generator per
//!   schedule), no jitter or `with_jitter()` (backon's only jitter: up to
//!   one more delay on top).
//! - backoff: a prebuilt `ExponentialBackoff`, cloned and `reset()` per
//!   schedule (as `backoff::retry` does; it reads the clock), with a
//!   randomization factor of 0 or its default 0.5. It draws from `rand`'s
//!   thread generator and reads the clock on every delay, whatever the
//!   factor: its design.

use core::time::Duration;

use backoff::backoff::Backoff as _;
use backon::{BackoffBuilder as _, ExponentialBuilder};
use resil_core::{Backoff, Delays, Jitter};

use crate::Operation;

/// Delays drawn from one schedule before a fresh one is made.
pub const SCHEDULE: u32 = 8;

/// resil's schedule: no jitter, or full jitter.
#[derive(Debug)]
pub struct Resil<const JITTER: bool> {
    backoff: Backoff,
    delays: Delays,
    drawn: u32,
}

impl<const JITTER: bool> Operation for Resil<JITTER> {
    type Output = Option<Duration>;

    fn new() -> Self {
        let jitter = if JITTER { Jitter::Full } else { Jitter::None };
        let backoff = Backoff::exponential(Duration::from_millis(100), 2.0)
            .max_delay(Duration::from_secs(10))
            .jitter(jitter)
            .build()
            .expect("a valid backoff");
        let mut op = Resil {
            backoff,
            delays: backoff.iter(),
            drawn: 0,
        };
        check_schedule(|| op.run(), JITTER);
        op
    }

    #[inline]
    fn run(&mut self) -> Self::Output {
        if self.drawn == SCHEDULE {
            self.delays = self.backoff.iter();
            self.drawn = 0;
        }
        self.drawn += 1;
        self.delays.next()
    }
}

/// backon's schedule: no jitter, or backon's jitter.
#[derive(Debug)]
pub struct Backon<const JITTER: bool> {
    builder: ExponentialBuilder,
    delays: backon::ExponentialBackoff,
    drawn: u32,
}

impl<const JITTER: bool> Operation for Backon<JITTER> {
    type Output = Option<Duration>;

    fn new() -> Self {
        let builder = ExponentialBuilder::new()
            .with_min_delay(Duration::from_millis(100))
            .with_factor(2.0)
            .with_max_delay(Duration::from_secs(10))
            .with_max_times(SCHEDULE as usize);
        let builder = if JITTER {
            builder.with_jitter()
        } else {
            builder
        };
        let mut op = Backon {
            builder,
            delays: builder.build(),
            drawn: 0,
        };
        check_schedule(|| op.run(), JITTER);
        op
    }

    #[inline]
    fn run(&mut self) -> Self::Output {
        if self.drawn == SCHEDULE {
            self.delays = self.builder.build();
            self.drawn = 0;
        }
        self.drawn += 1;
        self.delays.next()
    }
}

/// backoff's schedule: randomization factor 0, or its default 0.5.
#[derive(Debug)]
pub struct BackoffCrate<const JITTER: bool> {
    template: backoff::ExponentialBackoff,
    delays: backoff::ExponentialBackoff,
    drawn: u32,
}

impl<const JITTER: bool> Operation for BackoffCrate<JITTER> {
    type Output = Option<Duration>;

    fn new() -> Self {
        let template = backoff::ExponentialBackoffBuilder::new()
            .with_initial_interval(Duration::from_millis(100))
            .with_multiplier(2.0)
            .with_max_interval(Duration::from_secs(10))
            .with_randomization_factor(if JITTER { 0.5 } else { 0.0 })
            .with_max_elapsed_time(None)
            .build();
        let mut op = BackoffCrate {
            delays: template.clone(),
            template,
            drawn: 0,
        };
        check_schedule(|| op.run(), JITTER);
        op
    }

    #[inline]
    fn run(&mut self) -> Self::Output {
        if self.drawn == SCHEDULE {
            self.delays = self.template.clone();
            self.delays.reset();
            self.drawn = 0;
        }
        self.drawn += 1;
        self.delays.next_backoff()
    }
}

/// Checks the first schedules: 100 ms doubling to the 10 s cap without
/// jitter (to within backon's `f32` rounding), and within
/// `[0, 2 × nominal]` with (the widest of the three jitter ranges).
fn check_schedule(mut next: impl FnMut() -> Option<Duration>, jitter: bool) {
    for _ in 0..3 {
        for i in 0..SCHEDULE {
            let nominal = (Duration::from_millis(100) * 2u32.pow(i)).min(Duration::from_secs(10));
            let delay = next().expect("a delay for every draw of a schedule");
            if jitter {
                assert!(delay <= nominal * 2, "draw {i}: {delay:?} for {nominal:?}");
            } else {
                let error = delay.abs_diff(nominal);
                assert!(
                    error <= nominal / 1_000,
                    "draw {i}: {delay:?} for {nominal:?}"
                );
            }
        }
    }
}
