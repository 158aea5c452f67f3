//! gpu-market's client library, shared by the CLI, the provider agent, the verifier, the demo and the
//! tests: one typed builder per instruction ([`ix`]), reads of the program's accounts over JSON-RPC and
//! sending with errors explained by name ([`cluster`], [`errors`]).

pub mod cluster;
pub mod errors;
pub mod ix;

pub use cluster::Cluster;
pub use errors::TxFailure;
