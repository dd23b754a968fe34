//! An HTTP server on 127.0.0.1 with the shed and breaker layers in front of
//! its handlers (the stack is in `http/server.rs`, which `tests/http.rs`
//! also drives).
//!
//! ```text
//! cargo run -p resil --features tower --example http_server [PORT]
//! curl -i -H 'x-priority: sheddable' http://127.0.0.1:3000/work   # shed when busy
//! curl -i http://127.0.0.1:3000/flaky                             # fails, then the breaker opens
//! ```
//!
//! `/work` takes 200ms; more than four sheddable requests at once are
//! answered `503` with `Retry-After: 1`, while critical ones still get in.
//! `/flaky` fails for 10 seconds out of every 20; after three failures in a
//! row its breaker answers `503` with `Retry-After` for five seconds.

#[path = "http/server.rs"]
mod server;

use core::time::Duration;
use std::sync::atomic::Ordering;

use resil::core::SystemClock;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let port: u16 = match std::env::args().nth(1) {
        Some(port) => port.parse()?,
        None => 3000,
    };
    let flaky = server::Flaky::default();
    let work = || tokio::time::sleep(Duration::from_millis(200));
    let server = server::build(SystemClock, flaky.clone(), work)?;

    // The flaky handler's weather: ten seconds of failures, ten of calm.
    let (limiter, breaker) = (server.limiter.clone(), server.breaker.clone());
    tokio::spawn(async move {
        loop {
            let failing = !flaky.failing.load(Ordering::SeqCst);
            flaky.failing.store(failing, Ordering::SeqCst);
            println!(
                "/flaky is now {}; breaker {:?}, {} requests in flight",
                if failing { "failing" } else { "fine" },
                breaker.state(),
                limiter.in_flight(),
            );
            tokio::time::sleep(Duration::from_secs(10)).await;
        }
    });

    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
    println!("listening on http://{}", listener.local_addr()?);
    axum::serve(listener, server.router).await?;
    Ok(())
}
