# Throwaway PostgreSQL clusters for the message store's tests (issue 17).
#
# Source it from bash (`source .ci/postgres.sh`): it installs PostgreSQL from
# the Debian packages when initdb is missing (needs root), makes two clusters in
# a temporary directory with initdb, starts each with pg_ctl on a free loopback
# port, creates the database `ft` in each, and exports:
#
#   FT_POSTGRES_URL          postgres://ft@127.0.0.1:PORT/ft (trust auth, loopback only):
#                            the shared cluster, which no test stops
#   FT_POSTGRES_DATA         its data directory
#   FT_POSTGRES_OUTAGE_URL   the second cluster, for the tests that stop and start
#                            PostgreSQL (a real outage): test files running in
#                            parallel on the shared cluster never see it go down
#   FT_POSTGRES_OUTAGE_DATA  its data directory (those tests run pg_ctl on it)
#   FT_POSTGRES_BIN          the directory of pg_ctl, initdb, ...
#   FT_POSTGRES_RUN_AS       the user pg_ctl must run as (set when run as root: initdb
#                            and pg_ctl refuse root), empty otherwise
#
# and the function ft_postgres_stop, which stops both clusters and removes the
# directory. It returns non-zero (and says why) when something fails: 1 when
# the shared cluster did not start (nothing is exported but FT_POSTGRES_BIN,
# _RUN_AS, _DATA, _OUTAGE_DATA and _DIR, for ft_postgres_stop), 2 when only the
# outage cluster did not (FT_POSTGRES_URL is exported as soon as the shared
# cluster is up, so the tests that need no outage still run; FT_POSTGRES_OUTAGE_URL
# is not set).
# Run by hand:  source .ci/postgres.sh && npx -y deno@2.9.6 test -A tests/message_store_postgres_test.ts; ft_postgres_stop

ft_postgres_as() {
  if [ -n "$FT_POSTGRES_RUN_AS" ]; then runuser -u "$FT_POSTGRES_RUN_AS" -- "$@"; else "$@"; fi
}

# ft_postgres_cluster DATA: initdb, configure, start, createdb ft; prints the URL.
ft_postgres_cluster() {
  local data=$1 port
  # A free loopback port, asked of the kernel (Node is on every machine).
  port=$(node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})') || return 1
  if ! ft_postgres_as "$FT_POSTGRES_BIN/initdb" -D "$data" -U ft --auth=trust -E UTF8 --no-locale >"$data.initdb.log" 2>&1; then
    echo "!! initdb failed:" >&2
    cat "$data.initdb.log" >&2
    return 1
  fi
  # Everything pg_ctl needs is in the configuration, so `pg_ctl start -D DATA` is enough.
  # fsync=off: a throwaway cluster (a stop, even -m immediate, loses no commit; an OS crash could).
  {
    echo "port = $port"
    echo "listen_addresses = '127.0.0.1'"
    echo "unix_socket_directories = '$FT_POSTGRES_DIR'"
    echo "fsync = off"
    echo "max_connections = 200"
  } >>"$data/postgresql.conf"
  if ! ft_postgres_as "$FT_POSTGRES_BIN/pg_ctl" -D "$data" -l "$data/server.log" -w -t 60 start >/dev/null; then
    echo "!! pg_ctl start failed:" >&2
    cat "$data/server.log" >&2
    return 1
  fi
  if ! ft_postgres_as "$FT_POSTGRES_BIN/createdb" -h 127.0.0.1 -p "$port" -U ft ft >&2; then
    echo "!! createdb failed" >&2
    return 1
  fi
  echo "postgres://ft@127.0.0.1:$port/ft"
}

ft_postgres_start() {
  local bin dir run_as="" url outage_url
  if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
    echo "== installing postgresql"
    if ! { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null; }; then
      echo "!! could not install postgresql from the Debian packages"
      return 1
    fi
  fi
  bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
  dir=$(mktemp -d "${TMPDIR:-/tmp}/ft-postgres.XXXXXX") || return 1
  if [ "$(id -u)" = "0" ]; then
    run_as=postgres
    id -u "$run_as" >/dev/null 2>&1 || useradd --system --no-create-home "$run_as" || return 1
    chown "$run_as" "$dir"
  fi
  export FT_POSTGRES_BIN="$bin" FT_POSTGRES_RUN_AS="$run_as" FT_POSTGRES_DIR="$dir"
  export FT_POSTGRES_DATA="$dir/data" FT_POSTGRES_OUTAGE_DATA="$dir/outage"
  url=$(ft_postgres_cluster "$FT_POSTGRES_DATA") || return 1
  # The shared cluster is up: its URL is exported now, so that a failure of the outage cluster
  # below costs only the outage tests.
  export FT_POSTGRES_URL="$url"
  echo "== postgresql $("$bin/postgres" --version | awk '{print $3}') at $FT_POSTGRES_URL (data $FT_POSTGRES_DATA)"
  if ! outage_url=$(ft_postgres_cluster "$FT_POSTGRES_OUTAGE_DATA"); then
    echo "!! the outage cluster did not start (why above), so FT_POSTGRES_OUTAGE_URL is not set: the tests that stop PostgreSQL (the outage tests of tests/message_store_postgres_test.ts) cannot run, and with CI=true each PostgreSQL test file's requirePostgres check fails; FT_POSTGRES_URL is set and the other PostgreSQL tests run on it"
    return 2
  fi
  export FT_POSTGRES_OUTAGE_URL="$outage_url"
  echo "== postgresql for outages at $FT_POSTGRES_OUTAGE_URL (data $FT_POSTGRES_OUTAGE_DATA)"
}

ft_postgres_stop() {
  [ -n "${FT_POSTGRES_DIR:-}" ] || return 0
  local data
  for data in "$FT_POSTGRES_DATA" "$FT_POSTGRES_OUTAGE_DATA"; do
    if [ -d "$data" ]; then
      ft_postgres_as "$FT_POSTGRES_BIN/pg_ctl" -D "$data" -m immediate stop >/dev/null 2>&1
    fi
  done
  rm -rf "$FT_POSTGRES_DIR"
  unset FT_POSTGRES_URL FT_POSTGRES_DATA FT_POSTGRES_OUTAGE_URL FT_POSTGRES_OUTAGE_DATA
  unset FT_POSTGRES_BIN FT_POSTGRES_RUN_AS FT_POSTGRES_DIR
}

ft_postgres_start
