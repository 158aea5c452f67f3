//! Every integration test of the program in one binary (one link against the Solana runtime instead
//! of one per file): scenario tests on the in-process runtime, the state matrix, altered
//! transactions, the conservation property, the IDL check, and the end-to-end suite over JSON-RPC
//! (`e2e::`). Run one group with a filter, e.g. `cargo test --workspace --test it stake::`.

mod attacks;
mod auction;
mod conservation;
mod e2e;
mod idl;
mod job_states;
mod jobs;
mod market;
mod provider;
mod stake;
mod verification;
mod verifier_stake;
