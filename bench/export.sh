#!/usr/bin/env bash
# Tracing benchmarks: export cost vs one StartTraceV3 round trip (real local MLflow), and the
# in-process cost per span.
#   bench/export.sh [rounds] [spans]              MLflow on SQLite, one worker (the test setup)
#   bench/export.sh --postgres [rounds] [spans]   MLflow on a throwaway PostgreSQL, 4 workers
#                                                 (needs initdb/pg_ctl; PostgreSQL 15 from Debian here)
set -euo pipefail
cd "$(dirname "$0")/.."
backend=()
if [ "${1:-}" = "--postgres" ]; then
  shift
  venv=$(bash .ci/setup-mlflow.sh)
  "$venv/bin/python" -c "import psycopg2" 2>/dev/null || "$venv/bin/pip" install --quiet psycopg2-binary
  pgbin=$(dirname "$(readlink -f "$(command -v pg_ctl)")")
  pgdir=$(mktemp -d /tmp/agentfn-pg.XXXXXX)
  pgport=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  # PostgreSQL refuses to run as root: run it as the unprivileged "postgres" (or "nobody") user then.
  as=()
  if [ "$(id -u)" = 0 ]; then
    pguser=$(getent passwd postgres >/dev/null && echo postgres || echo nobody)
    chown "$pguser" "$pgdir"
    as=(runuser -u "$pguser" --)
  fi
  "${as[@]}" "$pgbin/initdb" -D "$pgdir/data" -U mlflow --auth=trust >/dev/null
  "${as[@]}" "$pgbin/pg_ctl" -D "$pgdir/data" -l "$pgdir/pg.log" -w \
    -o "-p $pgport -k $pgdir -c listen_addresses=127.0.0.1 -c max_connections=200" start >/dev/null
  trap '"${as[@]}" "$pgbin/pg_ctl" -D "$pgdir/data" -m immediate stop >/dev/null; rm -rf "$pgdir"' EXIT
  "$pgbin/createdb" -h 127.0.0.1 -p "$pgport" -U mlflow mlflow
  backend=("-Dbench.backend-uri=postgresql+psycopg2://mlflow@127.0.0.1:$pgport/mlflow" "-Dbench.workers=${BENCH_WORKERS:-4}")
fi
./mvnw -B -q test-compile
./mvnw -B -q dependency:build-classpath -Dmdep.outputFile=target/bench-classpath.txt -Dmdep.includeScope=test
cp="target/classes:target/test-classes:$(cat target/bench-classpath.txt)"
java -cp "$cp" dev.agentfn.bench.SpanCostBench "${2:-200000}"
java "${backend[@]}" -cp "$cp" dev.agentfn.bench.ExportBench "${1:-300}"
