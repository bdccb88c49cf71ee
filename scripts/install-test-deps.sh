#!/usr/bin/env bash
# Installs everything the test suite needs beyond the Rust toolchain.
# Idempotent and quiet when everything is present; never prompts.
set -euo pipefail
cd "$(dirname "$0")/.."

# Node packages for crates/formats/tests/postman_tools.rs (tests/node: ajv, postman-collection,
# postman-collection-transformer, newman) and for the app's browser test in
# crates/apisync/tests/app*.rs (playwright-core, driving Debian's chromium below; axe-core,
# which app_a11y.js injects into the pages; also `apisync bench --app`) and for
# crates/apisync/tests/v3_oracle.rs (@postman/pm-bin-linux-x64, the Postman CLI's binary: an
# optional dependency, installed on linux x64 only, 237 MB), exactly as package-lock.json pins them. Reinstalled only when node_modules is missing or
# package-lock.json changed since the last install.
node_dir=tests/node
stamp="$node_dir/node_modules/.apisync-package-lock.sha256"
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
    echo "install-test-deps: node and npm (Node 20+) are needed for crates/formats/tests/postman_tools.rs" >&2
    exit 1
fi
want="$(sha256sum "$node_dir/package-lock.json" | cut -d' ' -f1)"
if [[ ! -f "$stamp" || "$(cat "$stamp")" != "$want" ]]; then
    echo "install-test-deps: npm ci in $node_dir" >&2
    (cd "$node_dir" && CI=true npm ci --no-audit --no-fund --loglevel=error --no-progress </dev/null >/dev/null)
    echo "$want" >"$stamp"
fi

# Schemathesis and openapi-spec-validator for crates/server/tests/schemathesis.rs, in a venv of
# their own (tests/python/.venv, ignored by git), exactly as tests/python/requirements.txt pins
# them, hashes and all. Made anew only when the venv is missing or requirements.txt changed since.
py_dir=tests/python
venv="$py_dir/.venv"
py_stamp="$venv/.apisync-requirements.sha256"
want="$(sha256sum "$py_dir/requirements.txt" | cut -d' ' -f1)"
if [[ ! -f "$py_stamp" || "$(cat "$py_stamp")" != "$want" ]]; then
    if ! python3 -m venv --help >/dev/null 2>&1; then
        echo "install-test-deps: python3 (3.11) with its venv module is needed for crates/server/tests/schemathesis.rs" >&2
        exit 1
    fi
    echo "install-test-deps: pip install into $venv" >&2
    rm -rf "$venv"
    python3 -m venv "$venv"
    PIP_NO_INPUT=1 "$venv/bin/pip" install --quiet --disable-pip-version-check --require-hashes \
        -r "$py_dir/requirements.txt" </dev/null >/dev/null
    echo "$want" >"$py_stamp"
fi

# Debian's Chromium for the app's browser test (never a browser downloaded by playwright),
# openssl for the recording server's one-run certificate (tests/node/newman_harness.js),
# unshare and ip, which confine the Postman CLI to a loopback-only network namespace
# (tests/node/v3_oracle.js), and git for the mirror's repository test (crates/apisync/tests/mirror.rs).
missing=()
command -v chromium >/dev/null || missing+=(chromium)
command -v openssl >/dev/null || missing+=(openssl)
command -v unshare >/dev/null || missing+=(util-linux)
command -v ip >/dev/null || missing+=(iproute2)
command -v git >/dev/null || missing+=(git)
if (( ${#missing[@]} )); then
    if [[ "$(id -u)" == 0 ]] && command -v apt-get >/dev/null; then
        echo "install-test-deps: apt-get install ${missing[*]}" >&2
        # A fresh machine may have no package lists yet.
        DEBIAN_FRONTEND=noninteractive apt-get update -qq </dev/null >/dev/null
        DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}" </dev/null >/dev/null
    else
        echo "install-test-deps: the tests need Debian's ${missing[*]}: sudo apt-get install ${missing[*]}" >&2
        exit 1
    fi
fi
