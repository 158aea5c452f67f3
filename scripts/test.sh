#!/usr/bin/env bash
# The project's test command (the README's and CI's): every crate's unit tests, the program-test
# scenarios, the indexer's tests on SQLite and PostgreSQL (started here if the machine has none),
# the end-to-end suite over JSON-RPC (in-process localnet, then a separately started one as
# `anchor test` would use a validator), the provider agent and verifier on localnet, the demo end
# to end (fraud caught and slashed), the IDL staleness check and the examples' build.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/postgres.sh
cargo test --workspace --all-targets
bash scripts/e2e-external.sh
