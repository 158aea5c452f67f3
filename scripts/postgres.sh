#!/usr/bin/env bash
# Makes sure a PostgreSQL server answers at postgres://postgres@127.0.0.1:5432/postgres (the indexer's
# tests run on it as well as on SQLite, and are never skipped). On a machine without one it installs
# Debian's package, lets local TCP connections in without a password, and starts the cluster.
set -euo pipefail

ready() { pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; }
can_login() { psql -h 127.0.0.1 -U postgres -d postgres -Atc "select 1" >/dev/null 2>&1; }

if ready && can_login; then
  exit 0
fi
if ! command -v pg_ctlcluster >/dev/null 2>&1; then
  echo "installing PostgreSQL (Debian package)"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
fi
version=$(ls /etc/postgresql | sort -V | tail -1)
hba=/etc/postgresql/$version/main/pg_hba.conf
if ! grep -q "gpu-market tests" "$hba"; then
  sed -i '1i host all postgres 127.0.0.1/32 trust # gpu-market tests' "$hba"
fi
if ready; then
  pg_ctlcluster --skip-systemctl-redirect "$version" main reload
else
  pg_ctlcluster --skip-systemctl-redirect "$version" main start
fi
for _ in $(seq 60); do
  ready && can_login && exit 0
  sleep 1
done
echo "PostgreSQL did not come up at 127.0.0.1:5432" >&2
exit 1
