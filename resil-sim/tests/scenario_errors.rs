//! Every built-in scenario loads, and errors in a scenario file name the
//! field.

use resil_sim::{BUILTIN, Scenario};

const GOOD: &str = r#"
name = "x"
duration = "10s"
[workload]
rate = 10.0
[downstream]
concurrency = 4
latency = { kind = "constant", value = "10ms" }
[[clients]]
name = "plain"
"#;

fn error(extra: &str) -> String {
    Scenario::from_toml(&format!("{GOOD}{extra}"))
        .unwrap_err()
        .to_string()
}

#[test]
fn every_built_in_scenario_loads() {
    for (file, text) in BUILTIN {
        let scenario = Scenario::from_toml(text).unwrap_or_else(|e| panic!("{file}: {e}"));
        assert!(!scenario.clients.is_empty(), "{file}");
    }
    assert!(Scenario::from_toml(GOOD).is_ok());
}

#[test]
fn errors_name_the_field() {
    let cases = [
        (
            "[[clients]]\nname = \"r\"\nretry = { attempts = 3, backoff = { kind = \"exponential\", base = \"10ms\", factor = 0.5 } }",
            "clients[1].retry.backoff.factor:",
        ),
        (
            "[[clients]]\nname = \"r\"\nretry = { attempts = 0, backoff = { kind = \"constant\", base = \"10ms\" } }",
            "clients[1].retry.attempts:",
        ),
        (
            "[[clients]]\nname = \"b\"\nbreaker = { wait = \"soon\" }",
            "clients[1].breaker.wait:",
        ),
        (
            "[[clients]]\nname = \"b\"\nbreaker = { wait = \"5s\", failure_rate = 1.5 }",
            "clients[1].breaker.failure_rate:",
        ),
        (
            "[[faults]]\nkind = \"meteor\"\nstart = \"1s\"\nend = \"2s\"",
            "faults[0].kind:",
        ),
        (
            "[[faults]]\nkind = \"brownout\"\nstart = \"1s\"\nend = \"2s\"",
            "faults[0].error_rate:",
        ),
        (
            "[[faults]]\nkind = \"outage\"\nstart = \"5s\"\nend = \"20s\"",
            "faults[0].end:",
        ),
        (
            "[[clients]]\nname = \"s\"\nshed = { limit = { kind = \"fixed\" } }",
            "clients[1].shed.limit.limit:",
        ),
        (
            "[[clients]]\nname = \"t\"\nthrottle = { k = 0.5 }",
            "clients[1].throttle.k:",
        ),
    ];
    for (extra, field) in cases {
        let message = error(extra);
        assert!(
            message.starts_with(field),
            "expected {field}, got: {message}"
        );
    }
}

#[test]
fn unknown_and_mistyped_fields_are_named_by_the_parser() {
    let message = error("[[clients]]\nname = \"x\"\nretries = 3");
    assert!(message.contains("retries"), "{message}");
    let message = Scenario::from_toml(&GOOD.replace("rate = 10.0", "rate = \"fast\"")).unwrap_err();
    assert!(message.to_string().contains("rate"), "{message}");
}
