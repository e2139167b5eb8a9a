#!/usr/bin/env bash
# Installs the MLflow server and Python client used by the tests into a cached virtualenv.
# Idempotent: a marker file records the installed version. Prints the venv path.
set -euo pipefail
# 3.18.0 is listed on PyPI but its mlflow-skinny==3.18.0 is not served here; 3.17.2 is the newest that installs.
MLFLOW_VERSION="${AGENTFN_MLFLOW_VERSION:-3.17.2}"
CACHE="${AGENTFN_CACHE:-$HOME/.cache/agentfn}"
VENV="$CACHE/mlflow-$MLFLOW_VERSION"
mkdir -p "$CACHE"
# Several processes may set up at once (bin/demo beside a test run, parallel test JVMs): one installs,
# the others wait for it and reuse the venv.
exec 9>"$CACHE/mlflow-$MLFLOW_VERSION.install.lock"
flock 9
if [ ! -f "$VENV/.installed" ]; then
  rm -rf "$VENV"
  python3 -m venv "$VENV" >&2
  "$VENV/bin/pip" install --quiet "mlflow==$MLFLOW_VERSION" >&2
  "$VENV/bin/mlflow" --version >&2
  touch "$VENV/.installed"
fi
echo "$VENV"
