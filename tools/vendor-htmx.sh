#!/usr/bin/env bash
# Reproduces the vendored copy of htmx in crates/web/static/ (see crates/web/static/README.md):
# downloads the pinned npm package with `npm pack`, checks the tarball against the integrity
# recorded below, checks the sha256 of dist/htmx.min.js and LICENSE, then copies them.
#
# Usage: tools/vendor-htmx.sh          fetch, check and copy
#        tools/vendor-htmx.sh --check  only check the committed files against the recorded sha256
#                                      (no network)
#
# To move to another version: change VERSION and the three checksums (print them with
# `sha256sum` on the files of the new tarball after reviewing its changelog), run this script,
# and update the README.
set -euo pipefail
cd "$(dirname "$0")/.."

VERSION=2.0.11
# npm's `dist.integrity` of htmx.org@$VERSION (sha512 of the tarball, as npm reports it).
TARBALL_INTEGRITY='sha512-Thx/WtpeOQqSrqBCw/A1cwGJGg4UrVa3+sW0GmrM3p4gJgO89ecH4qtbnyzDDWFvBTqjnIMCgELTNt636dtamA=='
HTMX_MIN_SHA256=d6fdc75f204e6bdefa99b69bf1e6d4ac69b8a364f77929f45c13476b4000f717
LICENSE_SHA256=d3d2456f76414f2456104660ebd65aff1c04cd7966b942bdabd63f3cdb316a38

DEST=crates/web/static

check_sha256() { # file expected
    local actual
    actual=$(sha256sum "$1" | cut -d' ' -f1)
    if [ "$actual" != "$2" ]; then
        echo "vendor-htmx: $1: sha256 $actual, expected $2" >&2
        return 1
    fi
}

if [ "${1:-}" = "--check" ]; then
    check_sha256 "$DEST/htmx.min.js" "$HTMX_MIN_SHA256"
    check_sha256 "$DEST/htmx.LICENSE" "$LICENSE_SHA256"
    echo "vendor-htmx: $DEST/htmx.min.js and htmx.LICENSE are htmx.org@$VERSION"
    exit 0
elif [ $# -gt 0 ]; then
    echo "usage: $0 [--check]" >&2
    exit 2
fi

command -v npm >/dev/null || { echo "vendor-htmx: npm is needed" >&2; exit 1; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

(cd "$work" && npm pack --silent "htmx.org@$VERSION" >/dev/null)
tarball="$work/htmx.org-$VERSION.tgz"
[ -f "$tarball" ] || { echo "vendor-htmx: npm pack produced no $tarball" >&2; exit 1; }

actual_integrity="sha512-$(openssl dgst -sha512 -binary "$tarball" | base64 -w0)"
if [ "$actual_integrity" != "$TARBALL_INTEGRITY" ]; then
    echo "vendor-htmx: tarball integrity $actual_integrity, expected $TARBALL_INTEGRITY" >&2
    exit 1
fi

tar -xzf "$tarball" -C "$work" package/dist/htmx.min.js package/LICENSE
check_sha256 "$work/package/dist/htmx.min.js" "$HTMX_MIN_SHA256"
check_sha256 "$work/package/LICENSE" "$LICENSE_SHA256"

mkdir -p "$DEST"
cp "$work/package/dist/htmx.min.js" "$DEST/htmx.min.js"
cp "$work/package/LICENSE" "$DEST/htmx.LICENSE"
echo "vendor-htmx: copied htmx.org@$VERSION to $DEST/htmx.min.js and $DEST/htmx.LICENSE"
