//! Test harness for gpu-market: the real Solana runtime (solana-program-test) with the program loaded
//! natively, SPL Token and Token-2022 as their real binaries, and one typed builder per instruction.
//! The same fixtures drive the runtime in-process ([`TestContext`]) and a cluster over JSON-RPC
//! ([`RpcChain`]), through the [`Chain`] trait.

pub mod chain;
pub mod cluster;
pub mod context;
pub mod databases;
pub mod fixtures;
pub mod idl;
pub use gpu_market_client::ix;

pub use chain::Chain;
pub use cluster::RpcChain;
pub use context::{Outcome, TestContext, TxError};
