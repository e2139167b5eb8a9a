#!/usr/bin/env bash
# Installs the MLflow server and Python client used by the tests into a cached virtualenv (.ci/cached-venv.sh:
# idempotent, safe beside bin/demo or parallel test JVMs). Prints the venv path.
set -euo pipefail
# 3.18.0 is listed on PyPI but its mlflow-skinny==3.18.0 is not served here; 3.17.2 is the newest that installs.
MLFLOW_VERSION="${AGENTFN_MLFLOW_VERSION:-3.17.2}"
exec bash "$(dirname "$0")/cached-venv.sh" "mlflow-$MLFLOW_VERSION" "mlflow --version" "mlflow==$MLFLOW_VERSION"
