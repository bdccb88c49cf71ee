#!/usr/bin/env bash
# Installs everything the test suite needs beyond the Rust toolchain.
# Idempotent and quiet when everything is present; never prompts.
set -euo pipefail
cd "$(dirname "$0")/.."

# Nothing beyond cargo's own dependencies is needed yet.
exit 0
