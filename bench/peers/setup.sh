#!/usr/bin/env bash
# Installs the Python peers of the side-by-side benchmark (bench/peers/requirements.txt) into a
# cached virtualenv and prints its path. Idempotent; a flock makes concurrent runs wait for one install.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
CACHE="${AGENTFN_CACHE:-$HOME/.cache/agentfn}"
# The version names the pinned set: change it with requirements.txt so a stale venv is never reused.
VERSION="$(sha256sum "$here/requirements.txt" | cut -c1-12)"
VENV="$CACHE/bench-peers-$VERSION"
mkdir -p "$CACHE"
exec 9>"$VENV.lock"
flock 9
if [ ! -f "$VENV/.installed" ]; then
  rm -rf "$VENV"
  python3 -m venv "$VENV" >&2
  "$VENV/bin/pip" install --quiet --upgrade pip >&2
  "$VENV/bin/pip" install --quiet -r "$here/requirements.txt" >&2
  "$VENV/bin/python" -c "import mlflow, anthropic, claude_agent_sdk, fastapi, uvicorn, matplotlib" >&2
  touch "$VENV/.installed"
fi
echo "$VENV"
