//! An HTTP client whose retry layer honours the server's `Retry-After`
//! (the layer is in `http/client.rs`, which `tests/http.rs` also drives).
//!
//! ```text
//! cargo run -p resil --features tower --example http_server &
//! cargo run -p resil --features tower --example http_client [URL] [PRIORITY]
//! ```
//!
//! It sends one request (by default to `/flaky`) and prints each attempt's
//! status and when it was made: after a `503` with `Retry-After: 5` the
//! next attempt comes five seconds later, not after the policy's 200ms.

#[path = "http/client.rs"]
mod client;

use core::time::Duration;
use std::sync::{Arc, Mutex};

use http_body_util::Full;
use hyper::Request;
use resil::core::{Backoff, Clock, SystemClock};
use resil::retry::Retry;
use tower::{Layer, Service, ServiceExt};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let url = args
        .next()
        .unwrap_or_else(|| "http://127.0.0.1:3000/flaky".into());
    let priority = args.next().unwrap_or_else(|| "critical".into());

    let clock = SystemClock;
    let policy = Retry::builder()
        .backoff(Backoff::constant(Duration::from_millis(200)).build()?)
        .max_attempts(5)
        .max_hint(Duration::from_secs(10))
        .build()?;
    // Print every attempt as it leaves.
    let started = clock.now();
    let attempts = Arc::new(Mutex::new(0));
    let inner = client::http_client()
        .map_request(move |request: Request<client::Body>| {
            let mut n = attempts.lock().unwrap_or_else(|e| e.into_inner());
            *n += 1;
            print!("attempt {n} at {:?}: ", clock.now() - started);
            request
        })
        .map_result(|attempt: client::Attempt| {
            match &attempt {
                Ok(response) => println!("{}", response.status()),
                Err(error) => println!("{error}"),
            }
            attempt
        });
    let mut service = client::retry_layer(policy, tokio::time::sleep).layer(inner);

    let request = Request::get(url.as_str())
        .header("x-priority", priority)
        .body(Full::default())?;
    match service.ready().await?.call(request).await {
        Ok(response) => {
            let status = response.status();
            let retry_after = client::retry_after(&Ok(response));
            println!("final answer: {status}; Retry-After: {retry_after:?}");
        }
        Err(error) => println!("gave up: {error}"),
    }
    Ok(())
}
