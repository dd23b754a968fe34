//! resil-retry on smol: `smol::Timer::after` is the sleeper, as it is (its
//! output is an `Instant`, which resil ignores).
//!
//! Run with `cargo run -p resil-retry --example smol`.

use core::time::Duration;

use resil_core::Backoff;
use resil_retry::Retry;

fn main() -> Result<(), resil_core::ConfigError> {
    let policy = Retry::builder()
        .backoff(Backoff::constant(Duration::from_millis(10)).build()?)
        .max_attempts(3)
        .build()?;

    smol::block_on(async {
        let outcome = policy
            .call(async |attempt| {
                if attempt < 3 {
                    Err(attempt)
                } else {
                    Ok("done")
                }
            })
            .on_retry(|info| println!("attempt {} failed; waiting {:?}", info.attempt, info.delay))
            .run(&smol::Timer::after)
            .await;
        match outcome {
            Ok(value) => println!("Operation succeeded! {value}"),
            Err(error) => println!("All retries failed! {error}"),
        }
    });
    Ok(())
}
