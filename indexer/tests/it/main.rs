//! The indexer's integration tests in one binary (one link against the Solana runtime): the
//! pipeline (`ingest::`), the binary as a user starts it (`binary::`), the API against the chain
//! (`api::`) and faults (`faults::`), each on SQLite and PostgreSQL.

mod api;
mod binary;
mod common;
mod faults;
mod ingest;
