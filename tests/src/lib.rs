//! Test harness for gpu-market: the real Solana runtime (solana-program-test) with the program loaded
//! natively, SPL Token and Token-2022 as their real binaries, and one typed builder per instruction.

pub mod context;
pub mod fixtures;
pub mod idl;
pub mod ix;

pub use context::{Outcome, TestContext, TxError};
