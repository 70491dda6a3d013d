# A throwaway PostgreSQL cluster for the message store's tests (issue 17).
#
# Source it from bash (`source .ci/postgres.sh`): it installs PostgreSQL from
# the Debian packages when initdb is missing (needs root), makes a cluster in a
# temporary directory with initdb, starts it with pg_ctl on a free loopback
# port, creates the database `ft`, and exports:
#
#   FT_POSTGRES_URL      postgres://ft@127.0.0.1:PORT/ft (trust auth, loopback only)
#   FT_POSTGRES_DATA     the cluster's data directory (tests stop/start it with pg_ctl)
#   FT_POSTGRES_BIN      the directory of pg_ctl, initdb, ...
#   FT_POSTGRES_RUN_AS   the user pg_ctl must run as (set when run as root: initdb
#                        and pg_ctl refuse root), empty otherwise
#
# and the function ft_postgres_stop, which stops the cluster and removes the
# directory. It returns non-zero (and says why) when something fails.
# Run by hand:  source .ci/postgres.sh && npx -y deno@2.9.6 test -A tests/message_store_postgres_test.ts; ft_postgres_stop

ft_postgres_start() {
  local bin dir port run_as=""
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
  # A free loopback port, asked of the kernel (Node is on every machine).
  port=$(node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})') || return 1
  ft_postgres_as() {
    if [ -n "$FT_POSTGRES_RUN_AS" ]; then runuser -u "$FT_POSTGRES_RUN_AS" -- "$@"; else "$@"; fi
  }
  export FT_POSTGRES_BIN="$bin" FT_POSTGRES_DATA="$dir/data" FT_POSTGRES_RUN_AS="$run_as"
  export FT_POSTGRES_DIR="$dir"
  if ! ft_postgres_as "$bin/initdb" -D "$dir/data" -U ft --auth=trust -E UTF8 --no-locale >"$dir/initdb.log" 2>&1; then
    echo "!! initdb failed:"; cat "$dir/initdb.log"; return 1
  fi
  # Everything pg_ctl needs is in the configuration, so `pg_ctl start -D DATA` is enough.
  # fsync=off: a throwaway cluster (a stop, even -m immediate, loses no commit; an OS crash could).
  cat >>"$dir/data/postgresql.conf" <<EOF
port = $port
listen_addresses = '127.0.0.1'
unix_socket_directories = '$dir'
fsync = off
max_connections = 200
EOF
  if ! ft_postgres_as "$bin/pg_ctl" -D "$dir/data" -l "$dir/data/server.log" -w -t 60 start >/dev/null; then
    echo "!! pg_ctl start failed:"; cat "$dir/data/server.log"; return 1
  fi
  if ! ft_postgres_as "$bin/createdb" -h 127.0.0.1 -p "$port" -U ft ft; then
    echo "!! createdb failed"; return 1
  fi
  export FT_POSTGRES_URL="postgres://ft@127.0.0.1:$port/ft"
  echo "== postgresql $("$bin/postgres" --version | awk '{print $3}') at $FT_POSTGRES_URL (data $FT_POSTGRES_DATA)"
}

ft_postgres_stop() {
  [ -n "${FT_POSTGRES_DIR:-}" ] || return 0
  if [ -n "$FT_POSTGRES_RUN_AS" ]; then
    runuser -u "$FT_POSTGRES_RUN_AS" -- "$FT_POSTGRES_BIN/pg_ctl" -D "$FT_POSTGRES_DATA" -m immediate stop >/dev/null 2>&1
  else
    "$FT_POSTGRES_BIN/pg_ctl" -D "$FT_POSTGRES_DATA" -m immediate stop >/dev/null 2>&1
  fi
  rm -rf "$FT_POSTGRES_DIR"
  unset FT_POSTGRES_URL FT_POSTGRES_DATA FT_POSTGRES_BIN FT_POSTGRES_RUN_AS FT_POSTGRES_DIR
}

ft_postgres_start
