//! resil-retry on tokio: `tokio::time::sleep` is the sleeper, as it is.
//!
//! A flaky "service" fails twice, then answers. Run with
//! `cargo run -p resil-retry --example tokio`.

use core::time::Duration;

use resil_core::{Backoff, Jitter, listener_fn};
use resil_retry::Retry;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let policy = Retry::builder()
        .backoff(
            Backoff::exponential(Duration::from_millis(5), 2.0)
                .jitter(Jitter::Full)
                .build()?,
        )
        .max_attempts(5)
        .max_elapsed(Duration::from_secs(2))
        .name("flaky-service")
        .listener(listener_fn(|event| println!("event: {event:?}")))
        .build()?;

    let mut requests = 0;
    let answer = policy
        .run(&tokio::time::sleep, async |attempt| {
            requests += 1;
            println!("attempt {attempt}");
            if requests < 3 {
                Err("503 Service Unavailable")
            } else {
                Ok("200 OK")
            }
        })
        .await;

    match answer {
        Ok(body) => println!("Operation succeeded! {body}"),
        Err(error) => println!("All retries failed! {error}"),
    }
    Ok(())
}
