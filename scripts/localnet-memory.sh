#!/usr/bin/env bash
# Resident memory of an idle gpu-market-localnet over time: starts the binary (dev profile, as the
# tests build it), samples its RSS every 15 s for SECONDS (default 300), prints the samples and the
# growth per minute after the first minute.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-300}
cargo test -q --workspace --lib --bins --tests --no-run
dir=$(mktemp -d)
target/debug/gpu-market-localnet --rpc-port 38899 --faucet-keypair "$dir/faucet.json" >"$dir/out" 2>&1 &
pid=$!
trap 'kill "$pid" 2>/dev/null || true; rm -rf "$dir"' EXIT
sleep 2
: >"$dir/rss"
for ((t = 0; t <= seconds; t += 15)); do
  rss=$(ps -o rss= -p "$pid")
  echo "$t s: $((rss / 1024)) MiB"
  echo "$t $rss" >>"$dir/rss"
  ((t < seconds)) && sleep 15
done
awk '$1 >= 60 { if (!s) { s = $1; r = $2 } e = $1; q = $2 }
     END { if (e > s) printf "growth after the first minute: %.2f MiB/min\n", (q - r) / 1024 / ((e - s) / 60) }' "$dir/rss"
