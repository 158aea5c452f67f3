//! localnet: the gpu-market chain on one machine, over real JSON-RPC, with no SBF toolchain.
//!
//! A single-node Solana JSON-RPC server (HTTP, and websocket subscriptions on a second port) whose
//! ledger is the real Solana runtime of solana-program-test: gpu-market runs natively inside it, SPL
//! Token, Token-2022, Associated Token Account and Memo run as their real SBF binaries. Slots advance
//! on their own and the Clock follows wall time; `localnet_warpTime` moves it forward. Every produced
//! slot counts as confirmed and finalized at once. The ledger lives in memory.
//!
//! ```no_run
//! # async fn run() -> anyhow::Result<()> {
//! let localnet = localnet::Localnet::start(localnet::Config::default()).await?;
//! println!("{} {}", localnet.rpc_url(), localnet.ws_url());
//! # Ok(()) }
//! ```

pub mod cli;
pub mod ledger;
pub mod pubsub;
pub mod rpc;

use jsonrpsee::server::{Server, ServerConfig, ServerHandle};
use ledger::Ledger;
use solana_sdk::signature::Keypair;
use std::{net::SocketAddr, sync::Arc, time::Duration};
use tokio::task::JoinHandle;

/// A real node's cap on a request body.
pub const MAX_REQUEST_BODY_BYTES: u32 = 50 * 1024;

/// Where and how fast localnet runs.
#[derive(Clone, Debug)]
pub struct Config {
    /// JSON-RPC over HTTP; port 0 picks a free one.
    pub rpc_addr: SocketAddr,
    /// Websocket subscriptions; `None` means the port after the RPC port (a free one when the RPC
    /// port is picked).
    pub ws_addr: Option<SocketAddr>,
    /// How long each slot lasts.
    pub slot_duration: Duration,
}

impl Default for Config {
    /// Free ports on 127.0.0.1 and 400 ms slots: what tests want.
    fn default() -> Self {
        Self {
            rpc_addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            ws_addr: None,
            slot_duration: Duration::from_millis(400),
        }
    }
}

/// A running localnet. Dropping it stops the servers and the slot clock.
pub struct Localnet {
    ledger: Arc<Ledger>,
    rpc_addr: SocketAddr,
    ws_addr: SocketAddr,
    servers: [ServerHandle; 2],
    ticker: JoinHandle<()>,
}

impl Localnet {
    pub async fn start(config: Config) -> anyhow::Result<Self> {
        let ledger = Ledger::start().await?;

        // Browsers (a dashboard's wallet, @solana/kit) call from other origins, as they call a
        // public RPC node: any origin may POST.
        let cors = tower::ServiceBuilder::new().layer(tower_http::cors::CorsLayer::permissive());
        let rpc_server = Server::builder()
            .set_config(
                ServerConfig::builder()
                    .max_request_body_size(MAX_REQUEST_BODY_BYTES)
                    .http_only()
                    .build(),
            )
            .set_http_middleware(cors)
            .build(config.rpc_addr)
            .await?;
        let rpc_addr = rpc_server.local_addr()?;
        let ws_addr = match config.ws_addr {
            Some(addr) => addr,
            None => {
                let port = match config.rpc_addr.port() {
                    0 => 0,
                    port => port.checked_add(1).ok_or_else(|| {
                        anyhow::anyhow!(
                            "the websocket needs the port after {port}; choose a lower one"
                        )
                    })?,
                };
                SocketAddr::new(config.rpc_addr.ip(), port)
            }
        };
        let ws_server = Server::builder()
            .set_config(
                ServerConfig::builder()
                    .max_request_body_size(MAX_REQUEST_BODY_BYTES)
                    .ws_only()
                    .build(),
            )
            .build(ws_addr)
            .await?;
        let ws_addr = ws_server.local_addr()?;

        let servers = [
            rpc_server.start(rpc::module(ledger.clone())?),
            ws_server.start(pubsub::module(ledger.clone())?),
        ];
        let ticker = tokio::spawn(produce_slots(ledger.clone(), config.slot_duration));
        Ok(Self {
            ledger,
            rpc_addr,
            ws_addr,
            servers,
            ticker,
        })
    }

    pub fn rpc_url(&self) -> String {
        format!("http://{}", self.rpc_addr)
    }

    pub fn ws_url(&self) -> String {
        format!("ws://{}", self.ws_addr)
    }

    /// The keypair holding the chain's SOL: the fee payer of `requestAirdrop`.
    pub fn faucet(&self) -> &Keypair {
        self.ledger.faucet()
    }

    pub fn ledger(&self) -> &Arc<Ledger> {
        &self.ledger
    }

    /// Resolves when both servers have stopped (they stop only when the localnet is dropped).
    pub async fn stopped(&self) {
        for server in &self.servers {
            server.clone().stopped().await;
        }
    }
}

impl Drop for Localnet {
    fn drop(&mut self) {
        self.ticker.abort();
        for server in &self.servers {
            let _ = server.stop();
        }
    }
}

async fn produce_slots(ledger: Arc<Ledger>, slot_duration: Duration) {
    let mut interval = tokio::time::interval(slot_duration);
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    interval.tick().await;
    loop {
        interval.tick().await;
        if let Err(error) = ledger.advance_slot().await {
            tracing::error!("could not produce the next slot: {error:#}");
        }
    }
}

/// Writes `keypair` in the Solana CLI's keypair-file format (a JSON array of its 64 bytes), readable
/// only by its owner.
pub fn write_keypair(keypair: &Keypair, path: &std::path::Path) -> anyhow::Result<()> {
    use std::io::Write;
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let json = serde_json::to_string(&keypair.to_bytes().to_vec())?;
    // A fresh file each time (never writing through a link someone left at that path).
    match std::fs::remove_file(path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
            anyhow::bail!("could not replace {}: {e}", path.display())
        }
        _ => {}
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options
        .open(path)
        .and_then(|mut file| file.write_all(json.as_bytes()))
        .map_err(|e| anyhow::anyhow!("could not write the keypair to {}: {e}", path.display()))
}
