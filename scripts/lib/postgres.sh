# shellcheck shell=bash
# Provides a PostgreSQL server for the tests: the one named by MAILLAGE_TEST_POSTGRES_URL if it
# answers, else a throwaway cluster in a temporary directory (stopped and removed on exit).
# PostgreSQL refuses to run as root, so as root the cluster runs as the `postgres` system user
# (created if missing).

pg_bin_dir() {
    local d
    for d in /usr/lib/postgresql/*/bin; do
        [ -x "$d/initdb" ] && { echo "$d"; return 0; }
    done
    command -v initdb >/dev/null && { dirname "$(command -v initdb)"; return 0; }
    return 1
}

ensure_postgres() {
    if [ -n "${MAILLAGE_TEST_POSTGRES_URL:-}" ] && psql "$MAILLAGE_TEST_POSTGRES_URL" -c 'select 1' >/dev/null 2>&1; then
        echo "postgres: using $MAILLAGE_TEST_POSTGRES_URL"
        return 0
    fi
    local bin
    if ! bin=$(pg_bin_dir); then
        echo "postgres: installing the server (apt-get)"
        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
        bin=$(pg_bin_dir) || { echo "postgres: no initdb found" >&2; return 1; }
    fi
    local run=()
    if [ "$(id -u)" = 0 ]; then
        id -u postgres >/dev/null 2>&1 || useradd --system --home-dir /nonexistent --shell /usr/sbin/nologin postgres
        run=(runuser -u postgres --)
    fi
    MAILLAGE_PG_DIR=$(mktemp -d /tmp/maillage-pg.XXXXXX)
    chmod 755 "$MAILLAGE_PG_DIR"
    [ "$(id -u)" = 0 ] && chown postgres "$MAILLAGE_PG_DIR"
    local port
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    "${run[@]}" "$bin/initdb" -D "$MAILLAGE_PG_DIR/data" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >"$MAILLAGE_PG_DIR/initdb.log" 2>&1 \
        || { cat "$MAILLAGE_PG_DIR/initdb.log" >&2; return 1; }
    "${run[@]}" "$bin/pg_ctl" -D "$MAILLAGE_PG_DIR/data" -l "$MAILLAGE_PG_DIR/server.log" -w \
        -o "-p $port -k $MAILLAGE_PG_DIR -c listen_addresses=127.0.0.1 -c max_connections=300" start >/dev/null \
        || { cat "$MAILLAGE_PG_DIR/server.log" >&2; return 1; }
    MAILLAGE_PG_STOP=("${run[@]}" "$bin/pg_ctl" -D "$MAILLAGE_PG_DIR/data" -m fast stop)
    export MAILLAGE_TEST_POSTGRES_URL="postgres://postgres@127.0.0.1:$port/postgres"
    echo "postgres: throwaway cluster $("$bin/postgres" --version | awk '{print $3}') on 127.0.0.1:$port"
}

stop_postgres() {
    if [ -n "${MAILLAGE_PG_DIR:-}" ]; then
        "${MAILLAGE_PG_STOP[@]}" >/dev/null 2>&1 || true
        rm -rf "$MAILLAGE_PG_DIR"
        unset MAILLAGE_PG_DIR
    fi
}
