#!/usr/bin/env bash
# A PostgreSQL cluster of the tests' own: initdb in a temporary directory, the server on 127.0.0.1:PORT
# (trust auth, user postgres, no fsync), never touching the machine's clusters or their configuration.
# Prints `postgres://postgres@127.0.0.1:PORT/postgres` once the server answers, then keeps it up until
# its standard input closes (the test process that started it exits, however it exits), then stops it
# and removes the directory. Run as root it runs the server as the `postgres` user (PostgreSQL refuses
# root). Usage: bash scripts/throwaway-postgres.sh PORT
set -euo pipefail
port=${1:?usage: throwaway-postgres.sh PORT}

bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1 || true)
if [ -z "$bindir" ] || [ ! -x "$bindir/initdb" ]; then
  echo "PostgreSQL's server binaries are not installed (Debian: apt-get install postgresql), or set DATABASE_URL to a server the tests may create databases on" >&2
  exit 1
fi
as_server_user=()
if [ "$(id -u)" = 0 ]; then
  as_server_user=(runuser -u postgres --)
fi

dir=$("${as_server_user[@]}" mktemp -d -t gpu-market-postgres-XXXXXX)
cleanup() {
  # The postmaster's own pid: a background job of a script ignores SIGINT, and so may runuser.
  if [ -f "$dir/data/postmaster.pid" ]; then
    kill -INT "$(head -1 "$dir/data/postmaster.pid")" 2>/dev/null || true
  fi
  [ -n "${pid:-}" ] && wait "$pid" 2>/dev/null
  rm -rf "$dir"
}
trap cleanup EXIT

"${as_server_user[@]}" "$bindir/initdb" -D "$dir/data" -U postgres --auth=trust --no-sync -E UTF8 \
  >"$dir/initdb.log" 2>&1 || { cat "$dir/initdb.log" >&2; exit 1; }
"${as_server_user[@]}" "$bindir/postgres" -D "$dir/data" -p "$port" -k "$dir" \
  -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off \
  -c max_connections=300 >"$dir/server.log" 2>&1 </dev/null &
pid=$!
for _ in $(seq 300); do
  if "$bindir/pg_isready" -q -h 127.0.0.1 -p "$port"; then
    echo "postgres://postgres@127.0.0.1:$port/postgres"
    cat >/dev/null # until the process that started us closes our standard input
    exit 0
  fi
  kill -0 "$pid" 2>/dev/null || break
  sleep 0.1
done
echo "PostgreSQL did not start on 127.0.0.1:$port:" >&2
cat "$dir/server.log" >&2
exit 1
