//! `cargo run`: the whole product on 127.0.0.1:3000 with an embedded store. Ctrl-C stops it.

use local::{Config, LocalStack};

// mimalloc, not glibc's malloc: a profile of adds under load spent a third of the CPU in glibc's
// allocator (its arena locks, and frees on the store's writer thread of what the request
// threads allocated). The in-process bench uses the same allocator (`bench rest`).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "info,hyper=warn".into()),
        )
        .with_target(false)
        .compact()
        .init();
    let config = match Config::from_args_and_env(std::env::args().skip(1)) {
        Ok(config) => config,
        Err(e) => {
            eprintln!("{e}");
            return std::process::ExitCode::from(2);
        }
    };
    let data_dir = config.data_dir.clone();
    let stack = match LocalStack::start(config).await {
        Ok(stack) => stack,
        Err(e) => {
            eprintln!(
                "error: {e}{}",
                std::error::Error::source(&e)
                    .map(|s| format!(": {s}"))
                    .unwrap_or_default()
            );
            return std::process::ExitCode::FAILURE;
        }
    };
    let url = format!("http://{}", stack.addr());
    if stack.seeded_items() > 0 {
        tracing::info!(
            "seeded the demo catalog with {} items",
            stack.seeded_items()
        );
    }
    println!("\nShared carts, local stack");
    println!("  page   {url}/   (open it in two browsers, as two users)");
    println!("  API    {url}");
    println!("  live   ws://{}/ws?token=<token>", stack.addr());
    println!("  data   {} (embedded store)", data_dir.display());
    println!("  token  curl -s -X POST {url}/dev/token -d '{{\"userId\":\"alice\"}}'");
    println!("  then   curl -s {url}/items -H \"Authorization: Bearer $TOKEN\"\nCtrl-C to stop.\n");
    if let Err(e) = tokio::signal::ctrl_c().await {
        tracing::error!(error = %e, "cannot listen for Ctrl-C; stopping");
    }
    tracing::info!("stopping: finishing in-flight requests");
    stack.shutdown().await;
    tracing::info!("stopped");
    std::process::ExitCode::SUCCESS
}
