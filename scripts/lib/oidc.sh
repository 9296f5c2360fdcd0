# shellcheck shell=bash
# Provides a real OpenID Connect provider for the tests: tools/oidc-provider/server.mjs (npm
# `oidc-provider`, installed with `npm ci` on first use) on a free loopback port. It exports
# MAILLAGE_TEST_OIDC_ISSUER, MAILLAGE_TEST_OIDC_CLIENT_ID, MAILLAGE_TEST_OIDC_CLIENT_SECRET and
# MAILLAGE_TEST_OIDC_REDIRECT_URI; stop_oidc_provider stops it. Needs node (>= 20) and npm.

ensure_oidc_provider() {
    local root dir
    root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
    dir="$root/tools/oidc-provider"
    if [ -n "${MAILLAGE_OIDC_PID:-}" ] && kill -0 "$MAILLAGE_OIDC_PID" 2>/dev/null; then
        echo "oidc: provider already running at $MAILLAGE_TEST_OIDC_ISSUER"
        return 0
    fi
    if ! command -v node >/dev/null || ! command -v npm >/dev/null \
        || ! node -e 'process.exit(Number(process.versions.node.split(".")[0]) >= 20 ? 0 : 1)'; then
        echo "oidc: node >= 20 and npm are needed for the test provider (Debian's nodejs 18 is too old)" >&2
        return 1
    fi
    if [ ! -d "$dir/node_modules/oidc-provider" ] \
        || [ "$dir/package-lock.json" -nt "$dir/node_modules/.package-lock.json" ]; then
        echo "oidc: installing the test provider (npm ci)"
        npm ci --prefix "$dir" --no-audit --no-fund --loglevel=error >/dev/null \
            || { echo "oidc: npm ci failed" >&2; return 1; }
    fi

    export MAILLAGE_TEST_OIDC_CLIENT_ID="${MAILLAGE_TEST_OIDC_CLIENT_ID:-maillage-test}"
    export MAILLAGE_TEST_OIDC_CLIENT_SECRET="${MAILLAGE_TEST_OIDC_CLIENT_SECRET:-maillage-test-secret}"
    export MAILLAGE_TEST_OIDC_REDIRECT_URI="${MAILLAGE_TEST_OIDC_REDIRECT_URI:-http://127.0.0.1:8080/auth/oidc/callback}"
    MAILLAGE_OIDC_LOG=$(mktemp /tmp/maillage-oidc.XXXXXX)
    # Port 0: the server takes a free port itself and reports it (no race with other services).
    node "$dir/server.mjs" 0 >"$MAILLAGE_OIDC_LOG" 2>&1 &
    MAILLAGE_OIDC_PID=$!

    local issuer="" _
    for _ in $(seq 1 150); do
        issuer=$(sed -n 's/^READY //p' "$MAILLAGE_OIDC_LOG" | head -n 1)
        [ -n "$issuer" ] && break
        kill -0 "$MAILLAGE_OIDC_PID" 2>/dev/null || break
        sleep 0.1
    done
    if [ -z "$issuer" ]; then
        echo "oidc: the test provider did not start:" >&2
        cat "$MAILLAGE_OIDC_LOG" >&2
        stop_oidc_provider
        return 1
    fi
    export MAILLAGE_TEST_OIDC_ISSUER="$issuer"
    echo "oidc: test provider (oidc-provider $(node -p "require('$dir/node_modules/oidc-provider/package.json').version")) at $issuer"
}

stop_oidc_provider() {
    if [ -n "${MAILLAGE_OIDC_PID:-}" ]; then
        kill "$MAILLAGE_OIDC_PID" 2>/dev/null || true
        wait "$MAILLAGE_OIDC_PID" 2>/dev/null || true
        unset MAILLAGE_OIDC_PID
    fi
    if [ -n "${MAILLAGE_OIDC_LOG:-}" ]; then
        rm -f "$MAILLAGE_OIDC_LOG"
        unset MAILLAGE_OIDC_LOG
    fi
    unset MAILLAGE_TEST_OIDC_ISSUER
}
