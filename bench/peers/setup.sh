#!/usr/bin/env bash
# Installs the Python peers of the side-by-side benchmark (bench/peers/requirements.txt) into a
# cached virtualenv and prints its path. Idempotent; a flock makes concurrent runs wait for one install.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
# The name carries a digest of the pinned set: change requirements.txt and a new venv is made.
VERSION="$(sha256sum "$here/requirements.txt" | cut -c1-12)"
exec bash "$here/../../.ci/cached-venv.sh" "bench-peers-$VERSION" \
  "python -c 'import mlflow, anthropic, claude_agent_sdk, fastapi, uvicorn, matplotlib'" -r "$here/requirements.txt"
