#!/usr/bin/env bash
# The end-to-end suite against a separately started gpu-market-localnet, named by ANCHOR_PROVIDER_URL
# and ANCHOR_WALLET exactly as `anchor test` names solana-test-validator: proves the suite's
# external-cluster path and the binary as users start it.
set -euo pipefail
cd "$(dirname "$0")/.."

port=28899
while (echo >"/dev/tcp/127.0.0.1/$port") 2>/dev/null || (echo >"/dev/tcp/127.0.0.1/$((port + 1))") 2>/dev/null; do
  port=$((port + 2))
done
dir=$(mktemp -d)
trap 'kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; rm -rf "$dir"' EXIT

# Workspace-wide with the targets scripts/test.sh builds: the same features, so nothing is rebuilt.
cargo test -q --workspace --lib --bins --tests --no-run
target/debug/gpu-market-localnet --rpc-port "$port" --faucet-keypair "$dir/faucet.json" >"$dir/out" 2>&1 &
pid=$!
for _ in $(seq 100); do
  grep -q "ledger:" "$dir/out" && break
  kill -0 "$pid" 2>/dev/null || { cat "$dir/out"; exit 1; }
  sleep 0.1
done
cat "$dir/out"

ANCHOR_PROVIDER_URL="http://127.0.0.1:$port" ANCHOR_WALLET="$dir/faucet.json" \
  cargo test --workspace --test it -- e2e::
