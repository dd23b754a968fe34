//! resil-retry in synchronous code: `ThreadSleeper` waits with
//! `std::thread::sleep`; no runtime at all.
//!
//! Run with `cargo run -p resil-retry --example blocking`.

use core::time::Duration;

use resil_core::{Backoff, ThreadSleeper};
use resil_retry::Retry;

fn main() -> Result<(), resil_core::ConfigError> {
    let policy = Retry::builder()
        .backoff(Backoff::fibonacci(Duration::from_millis(5)).build()?)
        .max_attempts(4)
        .build()?;

    let outcome = policy
        .call_blocking(|attempt| -> Result<u32, std::io::Error> {
            println!("attempt {attempt}");
            Err(std::io::Error::new(
                std::io::ErrorKind::ConnectionRefused,
                "connection refused",
            ))
        })
        .retry_if(|e| e.kind() == std::io::ErrorKind::ConnectionRefused)
        .run(&ThreadSleeper);

    match outcome {
        Ok(value) => println!("Operation succeeded! {value}"),
        Err(error) => {
            println!("All retries failed! {error}");
            println!(
                "stopped because: {}; after {} attempts",
                error.reason(),
                error.attempts()
            );
        }
    }
    Ok(())
}
