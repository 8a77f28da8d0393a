#!/usr/bin/env bash
# A local PostgreSQL with Yeti's cdr schema and the tests' CDRs (scripts/pg/fixture.mjs): what the
# PostgreSQL tests, `npm start -- --var CDR_SOURCE:postgres` and the bench read. Installs PostgreSQL from
# Debian's packages when it is missing and starts its cluster; needs root (or sudo). Idempotent: the
# cdr schema is created anew each run. Prints the connection string the Worker's CDR_DB binding takes.
#
#   scripts/pg/setup.sh                  # database yeti_cdr, schema and seed
#   CDR_PG_DATABASE=x scripts/pg/setup.sh --schema-only
#
# The Worker connects as the login role cdr_exports (password cdr_exports: a local test password, the one
# wrangler.toml's localConnectionString names), which may only read cdr.cdr, as in production.
set -euo pipefail
# Only the final export line goes to stdout (callers eval it); everything else, including tools that
# print to stdout such as pg_ctlcluster's "Removed stale pid file", goes to stderr. The server must not
# inherit fd 3, or a caller's "$(scripts/pg/setup.sh)" would wait for it to exit.
exec 3>&1 1>&2
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
ROLE=cdr_exports
PASSWORD=cdr_exports
DATABASE="${CDR_PG_DATABASE:-yeti_cdr}"
SEED=1
[ "${1:-}" = "--schema-only" ] && SEED=0

as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }
as_postgres() { if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else sudo -u postgres "$@"; fi; }

if ! ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1; then
  echo "setup: installing PostgreSQL (apt-get install postgresql)" >&2
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
fi
if [ -z "$(pg_lsclusters --no-header)" ]; then
  as_root pg_createcluster "$(ls /usr/lib/postgresql | sort -V | tail -n 1)" main >/dev/null 3>&-
fi
read -r VERSION CLUSTER PORT STATUS _ < <(pg_lsclusters --no-header | head -n 1)
if [ "$STATUS" != "online" ]; then
  as_root pg_ctlcluster "$VERSION" "$CLUSTER" start 3>&-
fi

# As the postgres superuser over the local socket, from / (its home may not reach this checkout).
admin() { (cd / && as_postgres env PGOPTIONS="-c client_min_messages=warning" psql -X -q -v ON_ERROR_STOP=1 -p "$PORT" "$@"); }

admin -d postgres <<SQL
DO \$\$ BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '$ROLE') THEN CREATE ROLE $ROLE; END IF;
END \$\$;
ALTER ROLE $ROLE WITH LOGIN PASSWORD '$PASSWORD';
ALTER ROLE $ROLE SET default_transaction_read_only = on;
SELECT 'CREATE DATABASE $DATABASE ENCODING UTF8 TEMPLATE template0'
  WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = '$DATABASE') \gexec
SQL
admin -d "$DATABASE" < "$ROOT/scripts/pg/cdr-schema.sql"
if [ "$SEED" = 1 ]; then
  # The project's Node (the `node` devDependency, >= 22.18): the seed imports the TypeScript column list.
  NODE="$ROOT/node_modules/.bin/node"
  [ -x "$NODE" ] || { echo "setup.sh: $NODE is missing; run npm install first" >&2; exit 1; }
  "$NODE" "$ROOT/scripts/pg/seed.mjs" | admin -d "$DATABASE"
fi
admin -d "$DATABASE" <<SQL
REVOKE ALL ON DATABASE $DATABASE FROM PUBLIC;
GRANT CONNECT ON DATABASE $DATABASE TO $ROLE;
GRANT USAGE ON SCHEMA cdr TO $ROLE;
GRANT SELECT ON cdr.cdr TO $ROLE;
SQL

URL="postgres://$ROLE:$PASSWORD@127.0.0.1:$PORT/$DATABASE?sslmode=disable"
ROWS="$(psql -X -At "$URL" -c 'SELECT count(*) FROM cdr.cdr')"
echo "setup: PostgreSQL $VERSION on port $PORT, database $DATABASE, $ROWS CDRs in cdr.cdr, role $ROLE (read-only)"
echo "export CLOUDFLARE_HYPERDRIVE_LOCAL_CONNECTION_STRING_CDR_DB='$URL'" >&3
