#!/usr/bin/env bash
# Start a throwaway PostgreSQL for the adapter/postgres tests on
# 127.0.0.1:${PGPORT:-5432}: trust authentication, superuser postgres,
# database test (what the tests expect; PG_URL overrides it). Used by
# .ci/run when no PostgreSQL answers there. Needs the Debian postgresql
# package (initdb and pg_ctl under /usr/lib/postgresql/<version>/bin).
set -euo pipefail
port="${PGPORT:-5432}"
bin="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n1)"
if [ -z "$bin" ] || [ ! -x "$bin/initdb" ]; then
  echo "start-postgres: no PostgreSQL server binaries (apt-get install postgresql)" >&2
  exit 1
fi
data="$(mktemp -d /tmp/gosio-postgres.XXXXXX)"
as=()
if [ "$(id -u)" = 0 ]; then
  # initdb refuses to run as root: run the server as the package's user.
  chown postgres "$data"
  as=(runuser -u postgres --)
fi
"${as[@]}" "$bin/initdb" -D "$data/db" -U postgres --auth=trust -E UTF8 >/dev/null
"${as[@]}" "$bin/pg_ctl" -D "$data/db" -l "$data/log" -w -t 30 \
  -o "-c listen_addresses=127.0.0.1 -p $port -k $data -c fsync=off" start >/dev/null
psql -h 127.0.0.1 -p "$port" -U postgres -d postgres -qc "CREATE DATABASE test"
echo "PostgreSQL on 127.0.0.1:$port (data $data, log $data/log)"
