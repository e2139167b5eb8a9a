#!/usr/bin/env bash
# Installs schemathesis (the API fuzzer of FuzzApiTest) and openapi-spec-validator (checks the served
# OpenAPI document) into a cached virtualenv. Idempotent and safe to run concurrently (flock): a marker
# file records a finished install. Prints the venv path.
set -euo pipefail
SCHEMATHESIS_VERSION="${AGENTFN_SCHEMATHESIS_VERSION:-4.32.5}"
VALIDATOR_VERSION="0.9.0"
CACHE="${AGENTFN_CACHE:-$HOME/.cache/agentfn}"
VENV="$CACHE/schemathesis-$SCHEMATHESIS_VERSION"
mkdir -p "$CACHE"
exec 9>"$CACHE/schemathesis-$SCHEMATHESIS_VERSION.install.lock"
flock 9
if [ ! -f "$VENV/.installed" ]; then
  rm -rf "$VENV"
  python3 -m venv "$VENV" >&2
  "$VENV/bin/pip" install --quiet "schemathesis==$SCHEMATHESIS_VERSION" \
    "openapi-spec-validator==$VALIDATOR_VERSION" >&2
  "$VENV/bin/schemathesis" --version >&2
  touch "$VENV/.installed"
fi
echo "$VENV"
