# shellcheck shell=bash
# Provides headless Chromium and chromedriver for the browser tests (crates/web/tests/it/browser.rs):
# Debian's `chromium` and `chromium-driver`, installed with apt-get when /usr/bin/chromium or
# /usr/bin/chromedriver is missing. Installing needs root; without it, says what to run.

ensure_browser() {
    if [ ! -x /usr/bin/chromium ] || [ ! -x /usr/bin/chromedriver ]; then
        if [ "$(id -u)" != 0 ]; then
            echo "browser: chromium or chromedriver is missing and installing them needs root:" >&2
            echo "browser:   sudo apt-get update && sudo apt-get install chromium chromium-driver" >&2
            echo "browser: (or set MAILLAGE_SKIP_BROWSER=1 to skip the browser tests outside CI)" >&2
            return 1
        fi
        echo "browser: installing chromium and chromium-driver (apt-get)"
        if ! { apt-get update -qq \
            && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
                chromium chromium-driver >/dev/null; }; then
            echo "browser: apt-get could not install chromium and chromium-driver" >&2
            return 1
        fi
    fi
    local chromium_version driver_version
    # Debian's /usr/bin/chromium is a wrapper script that may print shell noise on stderr.
    chromium_version=$(/usr/bin/chromium --version 2>/dev/null)
    driver_version=$(/usr/bin/chromedriver --version 2>/dev/null)
    driver_version=${driver_version%% (*}
    echo "browser: ${chromium_version:-chromium (no version)}; ${driver_version:-chromedriver (no version)}"
}
