//! `gpu-market-localnet`: the market's chain on this machine, over JSON-RPC.

use clap::Parser;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "warn,tarpc=off,localnet=info".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    localnet::cli::run(localnet::cli::Args::parse()).await
}
