#!/usr/bin/env bash
# The project's main job in one command: builds `gpu-market` (installing Rust with rustup if this
# machine has none) and runs `gpu-market demo` with the flags given, e.g.
#   bash scripts/demo.sh --duration-secs 120 --linger-secs 600 --output json
# Build output and progress go to stderr; stdout carries only the summary.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v cargo >/dev/null 2>&1; then
  if [ -x "$HOME/.cargo/bin/cargo" ]; then
    export PATH="$HOME/.cargo/bin:$PATH"
  else
    echo "== installing Rust (rustup, minimal profile)" >&2
    curl --proto '=https' --tlsv1.2 -sSf https://sh.rustup.rs | sh -s -- -y --profile minimal >&2
    export PATH="$HOME/.cargo/bin:$PATH"
  fi
fi
echo "== building gpu-market (the first build takes a while: the Solana runtime is compiled optimized)" >&2
cargo build -p gpu-market-app --bin gpu-market >&2
exec target/debug/gpu-market demo "$@"
