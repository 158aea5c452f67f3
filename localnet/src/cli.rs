//! The command line of `gpu-market-localnet` (and of `gpu-market localnet`, which is the same).

use crate::{Config, Localnet};
use clap::Parser;
use std::{net::IpAddr, path::PathBuf, time::Duration};

/// A single-node Solana JSON-RPC server running the real Solana runtime, with gpu-market loaded
/// natively and SPL Token / Token-2022 / ATA / Memo as their real binaries. No SBF toolchain needed.
///
/// The ledger is in memory: everything is lost when localnet stops, and each start is a new chain
/// (new genesis, new faucet).
#[derive(Parser, Debug, Clone)]
#[command(version)]
pub struct Args {
    /// JSON-RPC port; the websocket server listens on the next port.
    #[arg(long, default_value_t = 8899, env = "GPU_MARKET_LOCALNET_RPC_PORT")]
    pub rpc_port: u16,
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1")]
    pub bind: IpAddr,
    /// Milliseconds per slot.
    #[arg(long, default_value_t = 400, value_parser = clap::value_parser!(u64).range(10..=10_000))]
    pub slot_ms: u64,
    /// Where to write the faucet keypair (the account holding the chain's SOL).
    #[arg(long)]
    pub faucet_keypair: Option<PathBuf>,
}

/// Starts localnet, prints where it is, and serves until Ctrl-C.
pub async fn run(args: Args) -> anyhow::Result<()> {
    let localnet = Localnet::start(Config {
        rpc_addr: (args.bind, args.rpc_port).into(),
        ws_addr: None,
        slot_duration: Duration::from_millis(args.slot_ms),
    })
    .await
    .map_err(|e| anyhow::anyhow!("could not start localnet on port {}: {e:#}", args.rpc_port))?;

    let faucet_path = args.faucet_keypair.unwrap_or_else(|| {
        std::env::temp_dir()
            .join(format!("gpu-market-localnet-{}", args.rpc_port))
            .join("faucet.json")
    });
    crate::write_keypair(localnet.faucet(), &faucet_path)?;

    println!(
        "gpu-market localnet (Solana runtime {})",
        crate::rpc::RUNTIME_VERSION
    );
    println!("JSON-RPC URL:       {}", localnet.rpc_url());
    println!("WebSocket URL:      {}", localnet.ws_url());
    println!("gpu-market program: {}", gpu_market::ID);
    println!("faucet keypair:     {}", faucet_path.display());
    println!("ledger:             in memory (lost when localnet stops)");
    println!(
        "slots:              every {} ms; Clock follows wall time (localnet_warpTime moves it)",
        args.slot_ms
    );

    tokio::select! {
        result = tokio::signal::ctrl_c() => result?,
        () = localnet.stopped() => {}
    }
    Ok(())
}
