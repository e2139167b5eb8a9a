#!/usr/bin/env bash
# Installs py-spy (sampling profiler for the MLflow server's Python processes, used by
# bench/delivery_profile.py) into a cached virtualenv and prints the path of the py-spy binary.
# Idempotent; a flock makes concurrent runs wait for one install.
set -euo pipefail
VERSION=0.4.3
CACHE="${AGENTFN_CACHE:-$HOME/.cache/agentfn}"
VENV="$CACHE/py-spy-$VERSION"
mkdir -p "$CACHE"
exec 9>"$VENV.lock"
flock 9
if [ ! -f "$VENV/.installed" ]; then
  rm -rf "$VENV"
  python3 -m venv "$VENV" >&2
  "$VENV/bin/pip" install --quiet "py-spy==$VERSION" >&2
  "$VENV/bin/py-spy" --version >&2
  touch "$VENV/.installed"
fi
echo "$VENV/bin/py-spy"
