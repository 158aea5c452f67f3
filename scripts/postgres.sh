#!/usr/bin/env bash
# Makes sure PostgreSQL's server binaries are installed (the indexer's tests run on it as well as on
# SQLite, and are never skipped): each test process starts a throwaway cluster of its own with them
# (scripts/throwaway-postgres.sh) unless DATABASE_URL names a server. Installs Debian's package on a
# machine without them; never changes a cluster's configuration.
set -euo pipefail

if [ -n "${DATABASE_URL:-}" ] || ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
  exit 0
fi
echo "installing PostgreSQL's server binaries (Debian package postgresql)"
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
