//! `gpu-market`: the marketplace's command line, provider agent, verifier and demo.

use app::cli::{Cli, Command};
use clap::Parser;

#[tokio::main]
async fn main() {
    let cli = Cli::parse();
    // The demo shows a progress line and a summary; its participants' logs are there with RUST_LOG.
    let default_filter = match cli.command {
        Command::Demo(_) => "error",
        Command::Localnet(_) => "warn,tarpc=off,localnet=info",
        _ => "warn,tarpc=off,app=info,sqlx=warn",
    };
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| default_filter.into()),
        )
        .with_writer(std::io::stderr)
        .init();
    if let Err(error) = app::cli::run(cli).await {
        eprintln!("error: {error:#}");
        std::process::exit(1);
    }
}
