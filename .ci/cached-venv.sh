#!/usr/bin/env bash
# Makes, once, the cached virtualenv $AGENTFN_CACHE/NAME (default ~/.cache/agentfn/NAME) with the pip arguments
# installed, checks it with CHECK (run with the venv's bin first on PATH), and prints its path. Idempotent: a
# marker file records a finished install, so an interrupted one is redone; a flock makes concurrent callers wait
# for one install and reuse it. NAME must change with what is pinned, so a stale venv is never reused.
#
#   .ci/cached-venv.sh NAME CHECK PIP_ARG...
set -euo pipefail
name=$1 check=$2
shift 2
CACHE="${AGENTFN_CACHE:-$HOME/.cache/agentfn}"
VENV="$CACHE/$name"
mkdir -p "$CACHE"
exec 9>"$CACHE/$name.install.lock"
flock 9
if [ ! -f "$VENV/.installed" ]; then
  rm -rf "$VENV"
  python3 -m venv "$VENV" >&2
  "$VENV/bin/pip" install --quiet "$@" >&2
  PATH="$VENV/bin:$PATH" bash -c "$check" >&2
  touch "$VENV/.installed"
fi
echo "$VENV"
