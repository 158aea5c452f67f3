//! End-to-end: the program driven only through JSON-RPC, with solana-client (the client code a real
//! cluster gets). Each test starts its own localnet in-process, or targets the cluster at
//! `ANCHOR_PROVIDER_URL` when it is set (`anchor test`).

mod conformance;
mod lifecycle;
mod requests;
