#!/usr/bin/env bash
# The project's test command (the README's and CI's): every crate's unit tests, the program-test
# scenarios, the indexer's tests on SQLite and PostgreSQL (a throwaway cluster per test process
# unless DATABASE_URL names a server), the end-to-end suite over JSON-RPC (in-process localnet,
# then a separately started one as `anchor test` would use a validator), the provider agent and
# verifier on localnet, the demo end to end (fraud caught and slashed) and the IDL staleness check.
# Each crate's integration tests are one binary (`tests/it/`). Benchmarks and the long property
# run are not part of it: their commands are in the README.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/postgres.sh
cargo test --workspace --lib --bins --tests
bash scripts/e2e-external.sh
