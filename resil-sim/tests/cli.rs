//! The `resil-sim` command: runs a scenario file, writes the report, and
//! names the field of a bad scenario.

use std::process::Command;

const SCENARIO: &str = r#"
name = "tiny"
duration = "6s"
[workload]
rate = 50.0
mix = { critical = 1.0, sheddable = 1.0 }
[downstream]
concurrency = 4
queue = 10
latency = { kind = "exponential", mean = "20ms" }
[[faults]]
kind = "outage"
start = "2s"
end = "3s"
[[clients]]
name = "plain"
[[clients]]
name = "retrying"
retry = { attempts = 3, backoff = { kind = "constant", base = "50ms" } }
"#;

fn dir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("resil-sim-cli-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn run_prints_the_table_and_writes_the_report() {
    let dir = dir("ok");
    let file = dir.join("tiny.toml");
    std::fs::write(&file, SCENARIO).unwrap();
    let out = dir.join("report");
    let output = Command::new(env!("CARGO_BIN_EXE_resil-sim"))
        .args(["run", file.to_str().unwrap(), "--seed", "3", "--out"])
        .arg(&out)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(stdout.contains("== tiny (seed 3"), "{stdout}");
    assert!(stdout.contains("retrying"), "{stdout}");
    let html = std::fs::read_to_string(out.join("index.html")).unwrap();
    // Per scenario: attempts, success for each of two priorities, latency.
    assert_eq!(html.matches("<svg").count(), 4, "charts in the report");
    assert!(
        std::fs::read_to_string(out.join("report.md"))
            .unwrap()
            .contains("| retrying |")
    );
}

#[test]
fn a_bad_scenario_names_file_and_field() {
    let dir = dir("bad");
    let file = dir.join("bad.toml");
    std::fs::write(
        &file,
        SCENARIO.replace("base = \"50ms\"", "base = \"50 parsecs\""),
    )
    .unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_resil-sim"))
        .args(["run", file.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("bad.toml: clients[1].retry.backoff.base:"),
        "{stderr}"
    );
}

#[test]
fn bad_arguments_print_the_usage() {
    for args in [&["fly"][..], &["run"], &["demo", "--seed", "x"]] {
        let output = Command::new(env!("CARGO_BIN_EXE_resil-sim"))
            .args(args)
            .output()
            .unwrap();
        assert!(!output.status.success(), "{args:?}");
        assert!(!output.stderr.is_empty(), "{args:?}");
    }
}
