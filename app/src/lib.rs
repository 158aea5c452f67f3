//! gpu-market's node software: the `gpu-market` CLI, the provider agent, the verifier, the
//! deterministic workloads and the one-command demo.

pub mod cli;
pub mod demo;
pub mod hardware;
pub mod proofs;
pub mod provider;
pub mod verifier;
pub mod workload;
