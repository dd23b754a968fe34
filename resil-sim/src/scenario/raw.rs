//! The file as written: serde types mirroring the TOML, and the one pass
//! that turns them into a checked [`Scenario`].
//!
//! Kept apart from the model so that the model holds only valid values
//! (`Duration`s, built `Backoff`s) and every check lives in one place.
//! Technique settings are checked by the real builders (with a throwaway
//! clock), so the simulator never accepts what the crates would reject.

use core::time::Duration;

use resil_breaker::{CircuitBreaker, SlidingWindow};
use resil_core::{Backoff, ConfigError, Jitter, ManualClock};
use resil_shed::Priority;
use serde::Deserialize;

use super::{
    BreakerSpec, BudgetSpec, ClientSpec, Downstream, Fault, FaultKind, LimitSpec, MidTier,
    RetrySpec, Scenario, ShedSpec, ThrottleSpec, Workload,
};
use crate::dist::Latency;
use crate::error::ScenarioError;

type Result<T> = core::result::Result<T, ScenarioError>;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct File {
    name: String,
    #[serde(default)]
    description: String,
    duration: String,
    seed: Option<u64>,
    bucket: Option<String>,
    workload: RawWorkload,
    downstream: RawDownstream,
    mid_tier: Option<RawMidTier>,
    #[serde(default)]
    faults: Vec<RawFault>,
    clients: Vec<RawClient>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawWorkload {
    rate: f64,
    #[serde(default)]
    phases: Vec<RawPhase>,
    mix: Option<RawMix>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPhase {
    at: String,
    rate: f64,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMix {
    #[serde(default)]
    critical_plus: f64,
    #[serde(default)]
    critical: f64,
    #[serde(default)]
    sheddable_plus: f64,
    #[serde(default)]
    sheddable: f64,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDownstream {
    concurrency: u32,
    #[serde(default)]
    queue: u32,
    latency: RawLatency,
    error_latency: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMidTier {
    latency: RawLatency,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, tag = "kind", rename_all = "snake_case")]
enum RawLatency {
    Constant { value: String },
    Exponential { mean: String },
    Lognormal { median: String, p99: String },
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFault {
    kind: String,
    start: String,
    end: String,
    error_rate: Option<f64>,
    factor: Option<f64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawClient {
    name: String,
    timeout: Option<String>,
    retry: Option<RawRetry>,
    breaker: Option<RawBreaker>,
    shed: Option<RawShed>,
    throttle: Option<RawThrottle>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRetry {
    attempts: u32,
    backoff: RawBackoff,
    deadline: Option<String>,
    budget: Option<RawBudget>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawBackoff {
    kind: String,
    base: String,
    factor: Option<f64>,
    max: Option<String>,
    jitter: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, tag = "kind", rename_all = "snake_case")]
enum RawBudget {
    Ratio {
        ratio: f64,
        min_per_second: Option<u32>,
        window: Option<String>,
    },
    TokenBucket {
        max_tokens: u32,
        ratio: f64,
    },
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawBreaker {
    failure_rate: Option<f64>,
    window: Option<u32>,
    window_time: Option<String>,
    minimum_calls: Option<u32>,
    wait: String,
    half_open_permits: Option<u32>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawShed {
    limit: RawLimit,
    reserve: Option<RawMix>,
    max_queue: Option<u32>,
    max_wait: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLimit {
    kind: String,
    limit: Option<u32>,
    initial: Option<u32>,
    min: Option<u32>,
    max: Option<u32>,
    timeout: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawThrottle {
    k: f64,
    window: Option<String>,
}

/// Parses `"250ms"`, `"1.5s"`, `"2m"`, `"500us"`.
pub(crate) fn duration(field: &str, text: &str) -> Result<Duration> {
    let text = text.trim();
    let split = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let value: f64 = number.parse().map_err(|_| {
        ScenarioError::new(
            field,
            format!("got {text:?}, expected a duration such as \"250ms\""),
        )
    })?;
    let scale = match unit.trim() {
        "us" | "µs" => 1e-6,
        "ms" => 1e-3,
        "s" => 1.0,
        "m" | "min" => 60.0,
        "h" => 3600.0,
        _ => {
            return Err(ScenarioError::new(
                field,
                format!("got {text:?}: the unit must be one of us, ms, s, m, h"),
            ));
        }
    };
    let secs = value * scale;
    if !secs.is_finite() || secs > 1e7 {
        return Err(ScenarioError::new(
            field,
            format!("got {text:?}, which is too long"),
        ));
    }
    Ok(Duration::from_secs_f64(secs))
}

fn opt_duration(field: &str, text: Option<&String>, default: Duration) -> Result<Duration> {
    text.map_or(Ok(default), |t| duration(field, t))
}

fn positive(field: &str, value: f64) -> Result<f64> {
    if value.is_finite() && value > 0.0 {
        Ok(value)
    } else {
        Err(ScenarioError::new(
            field,
            format!("got {value}, expected a positive number"),
        ))
    }
}

fn share(field: &str, value: f64) -> Result<f64> {
    if (0.0..=1.0).contains(&value) {
        Ok(value)
    } else {
        Err(ScenarioError::new(
            field,
            format!("got {value}, expected a share in [0, 1]"),
        ))
    }
}

/// A builder's error, under the field path of the table it came from.
fn config(field: &str, error: ConfigError) -> ScenarioError {
    ScenarioError::new(format!("{field}.{}", error.field()), error.to_string())
}

impl File {
    pub(super) fn validate(self) -> Result<Scenario> {
        let duration = duration("duration", &self.duration)?;
        if duration.is_zero() {
            return Err(ScenarioError::new("duration", "must not be zero"));
        }
        let bucket = opt_duration("bucket", self.bucket.as_ref(), Duration::from_secs(1))?;
        if bucket.is_zero() || bucket > duration {
            return Err(ScenarioError::new(
                "bucket",
                "must be positive and at most the duration",
            ));
        }
        let workload = self.workload.validate()?;
        let downstream = self.downstream.validate()?;
        let mid_tier = match self.mid_tier {
            Some(m) => Some(MidTier {
                latency: m.latency.validate("mid_tier.latency")?,
            }),
            None => None,
        };
        let faults = self
            .faults
            .iter()
            .enumerate()
            .map(|(i, f)| f.validate(&format!("faults[{i}]"), duration))
            .collect::<Result<Vec<_>>>()?;
        if self.clients.is_empty() {
            return Err(ScenarioError::new(
                "clients",
                "at least one client is needed",
            ));
        }
        let clients = self
            .clients
            .iter()
            .enumerate()
            .map(|(i, c)| c.validate(&format!("clients[{i}]")))
            .collect::<Result<Vec<_>>>()?;
        Ok(Scenario {
            name: self.name,
            description: self.description,
            duration,
            seed: self.seed.unwrap_or(1),
            bucket,
            workload,
            downstream,
            mid_tier,
            faults,
            clients,
        })
    }
}

impl RawWorkload {
    fn validate(&self) -> Result<Workload> {
        let mut phases = vec![(Duration::ZERO, non_negative("workload.rate", self.rate)?)];
        for (i, phase) in self.phases.iter().enumerate() {
            let field = format!("workload.phases[{i}]");
            let at = duration(&format!("{field}.at"), &phase.at)?;
            if at <= phases.last().map_or(Duration::ZERO, |p| p.0) {
                return Err(ScenarioError::new(
                    format!("{field}.at"),
                    "phases must be in increasing time order, after zero",
                ));
            }
            phases.push((at, non_negative(&format!("{field}.rate"), phase.rate)?));
        }
        let mix = match &self.mix {
            None => [0.0, 1.0, 0.0, 0.0],
            Some(m) => m.validate("workload.mix", true)?,
        };
        Ok(Workload { phases, mix })
    }
}

fn non_negative(field: &str, value: f64) -> Result<f64> {
    if value.is_finite() && value >= 0.0 {
        Ok(value)
    } else {
        Err(ScenarioError::new(
            field,
            format!("got {value}, expected a positive number"),
        ))
    }
}

impl RawMix {
    fn validate(&self, field: &str, weights: bool) -> Result<[f64; 4]> {
        let values = [
            ("critical_plus", self.critical_plus),
            ("critical", self.critical),
            ("sheddable_plus", self.sheddable_plus),
            ("sheddable", self.sheddable),
        ];
        let mut out = [0.0; 4];
        for (i, (name, value)) in values.into_iter().enumerate() {
            let f = format!("{field}.{name}");
            out[i] = if weights {
                non_negative(&f, value)?
            } else {
                share(&f, value)?
            };
        }
        if weights && out.iter().sum::<f64>() <= 0.0 {
            return Err(ScenarioError::new(
                field,
                "at least one weight must be positive",
            ));
        }
        Ok(out)
    }
}

impl RawDownstream {
    fn validate(&self) -> Result<Downstream> {
        if self.concurrency == 0 {
            return Err(ScenarioError::new(
                "downstream.concurrency",
                "got 0, expected at least 1",
            ));
        }
        Ok(Downstream {
            concurrency: self.concurrency,
            queue: self.queue,
            latency: self.latency.validate("downstream.latency")?,
            error_latency: opt_duration(
                "downstream.error_latency",
                self.error_latency.as_ref(),
                Duration::from_millis(1),
            )?,
        })
    }
}

impl RawLatency {
    fn validate(&self, field: &str) -> Result<Latency> {
        Ok(match self {
            RawLatency::Constant { value } => {
                Latency::Constant(duration(&format!("{field}.value"), value)?)
            }
            RawLatency::Exponential { mean } => {
                Latency::Exponential(duration(&format!("{field}.mean"), mean)?)
            }
            RawLatency::Lognormal { median, p99 } => {
                let median = duration(&format!("{field}.median"), median)?;
                let p99 = duration(&format!("{field}.p99"), p99)?;
                if median.is_zero() || p99 < median {
                    return Err(ScenarioError::new(
                        format!("{field}.p99"),
                        "expected a positive median and a p99 of at least the median",
                    ));
                }
                Latency::LogNormal { median, p99 }
            }
        })
    }
}

impl RawFault {
    fn validate(&self, field: &str, horizon: Duration) -> Result<Fault> {
        let start = duration(&format!("{field}.start"), &self.start)?;
        let end = duration(&format!("{field}.end"), &self.end)?;
        if end <= start || end > horizon {
            return Err(ScenarioError::new(
                format!("{field}.end"),
                "must be after start and at most the scenario's duration",
            ));
        }
        let need = |name: &str, value: Option<f64>| {
            value.ok_or_else(|| {
                ScenarioError::new(
                    format!("{field}.{name}"),
                    format!("a {} fault needs it", self.kind),
                )
            })
        };
        let kind = match self.kind.as_str() {
            "outage" => FaultKind::Outage,
            "brownout" => FaultKind::Brownout {
                error_rate: share(
                    &format!("{field}.error_rate"),
                    need("error_rate", self.error_rate)?,
                )?,
            },
            "latency" => {
                let factor = positive(&format!("{field}.factor"), need("factor", self.factor)?)?;
                if factor < 1.0 {
                    return Err(ScenarioError::new(
                        format!("{field}.factor"),
                        format!("got {factor}, expected at least 1"),
                    ));
                }
                FaultKind::Latency { factor }
            }
            "capacity" => {
                let factor = positive(&format!("{field}.factor"), need("factor", self.factor)?)?;
                FaultKind::Capacity {
                    factor: share(&format!("{field}.factor"), factor)?,
                }
            }
            other => {
                return Err(ScenarioError::new(
                    format!("{field}.kind"),
                    format!("got {other:?}, expected outage, brownout, latency or capacity"),
                ));
            }
        };
        Ok(Fault { kind, start, end })
    }
}

impl RawClient {
    fn validate(&self, field: &str) -> Result<ClientSpec> {
        let timeout = opt_duration(
            &format!("{field}.timeout"),
            self.timeout.as_ref(),
            Duration::from_secs(1),
        )?;
        if timeout.is_zero() {
            return Err(ScenarioError::new(
                format!("{field}.timeout"),
                "must not be zero",
            ));
        }
        Ok(ClientSpec {
            name: self.name.clone(),
            timeout,
            retry: match &self.retry {
                Some(r) => Some(r.validate(&format!("{field}.retry"))?),
                None => None,
            },
            breaker: match &self.breaker {
                Some(b) => Some(b.validate(&format!("{field}.breaker"))?),
                None => None,
            },
            shed: match &self.shed {
                Some(s) => Some(s.validate(&format!("{field}.shed"))?),
                None => None,
            },
            throttle: match &self.throttle {
                Some(t) => Some(t.validate(&format!("{field}.throttle"))?),
                None => None,
            },
        })
    }
}

impl RawRetry {
    fn validate(&self, field: &str) -> Result<RetrySpec> {
        if self.attempts == 0 {
            return Err(ScenarioError::new(
                format!("{field}.attempts"),
                "got 0, expected at least 1 (the first attempt counts)",
            ));
        }
        let backoff = self.backoff.validate(&format!("{field}.backoff"))?;
        let deadline = match &self.deadline {
            Some(d) => Some(duration(&format!("{field}.deadline"), d)?),
            None => None,
        };
        let budget = match &self.budget {
            None => BudgetSpec::None,
            Some(RawBudget::Ratio {
                ratio,
                min_per_second,
                window,
            }) => {
                let field = format!("{field}.budget");
                let spec = BudgetSpec::Ratio {
                    ratio: *ratio,
                    min_per_second: min_per_second.unwrap_or(10),
                    window: opt_duration(
                        &format!("{field}.window"),
                        window.as_ref(),
                        Duration::from_secs(10),
                    )?,
                };
                crate::stack::build_budget(&spec, &ManualClock::new())
                    .map_err(|e| config(&field, e))?;
                spec
            }
            Some(RawBudget::TokenBucket { max_tokens, ratio }) => {
                let spec = BudgetSpec::TokenBucket {
                    max_tokens: *max_tokens,
                    ratio: *ratio,
                };
                crate::stack::build_budget(&spec, &ManualClock::new())
                    .map_err(|e| config(&format!("{field}.budget"), e))?;
                spec
            }
        };
        Ok(RetrySpec {
            attempts: self.attempts,
            backoff,
            deadline,
            budget,
        })
    }
}

impl RawBackoff {
    fn validate(&self, field: &str) -> Result<Backoff> {
        let base = duration(&format!("{field}.base"), &self.base)?;
        let builder = match self.kind.as_str() {
            "constant" => Backoff::constant(base),
            "exponential" => Backoff::exponential(base, self.factor.unwrap_or(2.0)),
            "decorrelated" => Backoff::decorrelated(base),
            other => {
                return Err(ScenarioError::new(
                    format!("{field}.kind"),
                    format!("got {other:?}, expected constant, exponential or decorrelated"),
                ));
            }
        };
        let builder = match &self.max {
            Some(max) => builder.max_delay(duration(&format!("{field}.max"), max)?),
            None => builder,
        };
        let builder = match self.jitter.as_deref() {
            None if self.kind == "decorrelated" => builder,
            None | Some("none") => builder.jitter(Jitter::None),
            Some("full") => builder.jitter(Jitter::Full),
            Some("equal") => builder.jitter(Jitter::Equal),
            Some("decorrelated") => builder.jitter(Jitter::Decorrelated),
            Some(other) => {
                return Err(ScenarioError::new(
                    format!("{field}.jitter"),
                    format!("got {other:?}, expected none, full, equal or decorrelated"),
                ));
            }
        };
        builder.build().map_err(|e| config(field, e))
    }
}

impl RawBreaker {
    fn validate(&self, field: &str) -> Result<BreakerSpec> {
        let window = match (self.window, &self.window_time) {
            (Some(_), Some(_)) => {
                return Err(ScenarioError::new(
                    format!("{field}.window_time"),
                    "give either window (calls) or window_time, not both",
                ));
            }
            (_, Some(t)) => SlidingWindow::time(duration(&format!("{field}.window_time"), t)?, 10),
            (count, None) => SlidingWindow::count(count.unwrap_or(100)),
        };
        let spec = BreakerSpec {
            failure_rate: self.failure_rate.unwrap_or(0.5),
            window,
            minimum_calls: self.minimum_calls.unwrap_or(20),
            wait: duration(&format!("{field}.wait"), &self.wait)?,
            half_open_permits: self.half_open_permits.unwrap_or(5),
        };
        build_breaker(&spec).map_err(|e| config(field, e))?;
        Ok(spec)
    }
}

/// Checks a breaker's settings with its real builder.
fn build_breaker(spec: &BreakerSpec) -> core::result::Result<(), ConfigError> {
    CircuitBreaker::builder()
        .failure_rate(spec.failure_rate)
        .window(spec.window)
        .minimum_calls(spec.minimum_calls)
        .wait(spec.wait)
        .half_open_permits(spec.half_open_permits)
        .clock(ManualClock::new())
        .build()
        .map(drop)
}

impl RawShed {
    fn validate(&self, field: &str) -> Result<ShedSpec> {
        let limit = self.limit.validate(&format!("{field}.limit"))?;
        let reserves = match &self.reserve {
            None => Vec::new(),
            Some(mix) => {
                let shares = mix.validate(&format!("{field}.reserve"), false)?;
                Priority::ALL
                    .into_iter()
                    .filter(|p| shares[p.index()] > 0.0)
                    .map(|p| (p, shares[p.index()]))
                    .collect()
            }
        };
        let spec = ShedSpec {
            limit,
            reserves,
            max_queue: self.max_queue.unwrap_or(0),
            max_wait: opt_duration(
                &format!("{field}.max_wait"),
                self.max_wait.as_ref(),
                Duration::from_secs(1),
            )?,
        };
        crate::stack::build_limiter(&spec, ManualClock::new()).map_err(|e| config(field, e))?;
        Ok(spec)
    }
}

impl RawLimit {
    fn validate(&self, field: &str) -> Result<LimitSpec> {
        let bounds = [
            self.initial.unwrap_or(20),
            self.min.unwrap_or(1),
            self.max.unwrap_or(1000),
        ];
        let spec = match self.kind.as_str() {
            "fixed" => LimitSpec::Fixed(self.limit.ok_or_else(|| {
                ScenarioError::new(format!("{field}.limit"), "a fixed limit needs it")
            })?),
            "aimd" => LimitSpec::Aimd {
                bounds,
                timeout: match &self.timeout {
                    Some(t) => Some(duration(&format!("{field}.timeout"), t)?),
                    None => None,
                },
            },
            "gradient2" => LimitSpec::Gradient2 { bounds },
            "vegas" => LimitSpec::Vegas { bounds },
            other => {
                return Err(ScenarioError::new(
                    format!("{field}.kind"),
                    format!("got {other:?}, expected fixed, aimd, gradient2 or vegas"),
                ));
            }
        };
        crate::stack::build_limit(&spec).map_err(|e| config(field, e))?;
        Ok(spec)
    }
}

impl RawThrottle {
    fn validate(&self, field: &str) -> Result<ThrottleSpec> {
        let spec = ThrottleSpec {
            k: self.k,
            window: opt_duration(
                &format!("{field}.window"),
                self.window.as_ref(),
                Duration::from_secs(120),
            )?,
        };
        crate::stack::build_throttle(&spec, ManualClock::new(), 0).map_err(|e| config(field, e))?;
        Ok(spec)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_parse_with_units() {
        assert_eq!(duration("f", "250ms"), Ok(Duration::from_millis(250)));
        assert_eq!(duration("f", "1.5s"), Ok(Duration::from_millis(1500)));
        assert_eq!(duration("f", "2m"), Ok(Duration::from_secs(120)));
        assert_eq!(duration("f", "500us"), Ok(Duration::from_micros(500)));
        assert_eq!(duration("f", "5").unwrap_err().field(), "f");
        assert_eq!(duration("f", "fast").unwrap_err().field(), "f");
    }
}
