#!/usr/bin/env bash
# Starts a throwaway PostgreSQL cluster for the github-app store tests (github-app/tests/store.rs)
# on 127.0.0.1:55432 and prints the variable the tests read:
#   eval "$(.ci/start-postgres.sh)"   ->  export CAVRA_TEST_POSTGRES_URL=postgres://postgres@127.0.0.1:55432/cavra_test
# Installs Debian's `postgresql` when no server is found (run as root on a fresh machine). The
# cluster lives in a temp dir (trust authentication, listening on loopback only); idempotent: when
# one already answers on the port, it only prints. Stop it with: runuser -u postgres -- pg_ctl -D DIR stop
set -euo pipefail
PORT=55432
URL="postgres://postgres@127.0.0.1:$PORT/cavra_test"

bindir() {
  local d
  for d in /usr/lib/postgresql/*/bin; do
    [ -x "$d/initdb" ] && { echo "$d"; return 0; }
  done
  return 1
}

if ! command -v pg_ctl >/dev/null 2>&1 && ! bindir >/dev/null; then
  echo "installing postgresql" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2
  apt-get install -y -qq postgresql >&2
fi
BIN=$(bindir) || { echo "no initdb under /usr/lib/postgresql/*/bin" >&2; exit 1; }

if "$BIN/pg_isready" -q -h 127.0.0.1 -p "$PORT" 2>/dev/null; then
  "$BIN/psql" -q -h 127.0.0.1 -p "$PORT" -U postgres -d postgres -tAc \
    "SELECT 1 FROM pg_database WHERE datname = 'cavra_test'" | grep -q 1 \
    || "$BIN/createdb" -h 127.0.0.1 -p "$PORT" -U postgres cavra_test >&2
  echo "export CAVRA_TEST_POSTGRES_URL=$URL"
  exit 0
fi

id postgres >/dev/null 2>&1 || useradd --system --home-dir /var/lib/postgresql --shell /bin/sh postgres
DIR=$(mktemp -d /tmp/cavra-postgres.XXXXXX)
chown postgres "$DIR"
chmod 700 "$DIR"
runuser -u postgres -- "$BIN/initdb" -D "$DIR/data" -A trust -U postgres >/dev/null
runuser -u postgres -- "$BIN/pg_ctl" -D "$DIR/data" -l "$DIR/log" -w -o \
  "-c listen_addresses=127.0.0.1 -p $PORT -k $DIR -c max_connections=200 -c fsync=on" start >&2
"$BIN/createdb" -h 127.0.0.1 -p "$PORT" -U postgres cavra_test >&2
echo "started PostgreSQL in $DIR (stop: runuser -u postgres -- $BIN/pg_ctl -D $DIR/data stop)" >&2
echo "export CAVRA_TEST_POSTGRES_URL=$URL"
