#!/usr/bin/env bash
# Installs schemathesis (the API fuzzer of FuzzApiTest) and openapi-spec-validator (checks the served
# OpenAPI document) into a cached virtualenv (.ci/cached-venv.sh). Prints the venv path.
set -euo pipefail
SCHEMATHESIS_VERSION="${AGENTFN_SCHEMATHESIS_VERSION:-4.32.5}"
VALIDATOR_VERSION="0.9.0"
exec bash "$(dirname "$0")/cached-venv.sh" "schemathesis-$SCHEMATHESIS_VERSION" "schemathesis --version" \
  "schemathesis==$SCHEMATHESIS_VERSION" "openapi-spec-validator==$VALIDATOR_VERSION"
