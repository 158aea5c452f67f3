//! `gpu-market`'s integration tests in one binary (one link against the Solana runtime): the
//! provider agent and verifier one behaviour at a time (`agents::`), and the demo end to end
//! (`demo::`).

mod agents;
mod demo;
