#!/usr/bin/env bash
# Tracing benchmarks: export cost vs one StartTraceV3 round trip (real local MLflow), and the
# in-process cost per span. Usage: bench/export.sh [rounds] [spans]
set -euo pipefail
cd "$(dirname "$0")/.."
./mvnw -B -q test-compile
./mvnw -B -q dependency:build-classpath -Dmdep.outputFile=target/bench-classpath.txt -Dmdep.includeScope=test
cp="target/classes:target/test-classes:$(cat target/bench-classpath.txt)"
java -cp "$cp" dev.agentfn.bench.SpanCostBench "${2:-200000}"
java -cp "$cp" dev.agentfn.bench.ExportBench "${1:-300}"
