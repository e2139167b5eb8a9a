#!/usr/bin/env bash
# Tracing benchmarks: export cost vs one StartTraceV3 round trip (real local MLflow), and the
# in-process cost per span. The driver is bench/export.py (PostgreSQL set-up shared with the other
# benchmarks in bench/common.py); this wrapper keeps the documented command.
#   bench/export.sh [rounds] [spans]              MLflow on SQLite, one worker (the test setup)
#   bench/export.sh --postgres [rounds] [spans]   MLflow on a throwaway PostgreSQL 15, 4 workers
#                                                 (BENCH_WORKERS=n for another count)
set -euo pipefail
exec python3 "$(dirname "$0")/export.py" "$@"
