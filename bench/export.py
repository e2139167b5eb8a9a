#!/usr/bin/env python3
"""Tracing benchmarks: export cost vs one StartTraceV3 round trip (real local MLflow, started by
ExportBench itself), and the in-process cost per span (SpanCostBench).

    bench/export.sh [rounds] [spans]                         MLflow on SQLite, one worker (the test setup)
    bench/export.sh --postgres [rounds] [spans]              MLflow on a throwaway PostgreSQL 15, 4 workers
    bench/export.py --mlflow-backend postgres --mlflow-workers 8 300 50000

The PostgreSQL cluster comes from common.Postgres (initdb/pg_ctl on a free loopback port, as the
`postgres` user when run as root, deleted afterwards); psycopg2-binary is added to the MLflow venv once.
"""
import argparse, os, subprocess, sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import MLFLOW_BACKENDS, ROOT, Postgres, default_mlflow_workers, ensure_psycopg2, mlflow_venv  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("rounds", nargs="?", type=int, default=300, help="measured export rounds (after 30 warm-up)")
    ap.add_argument("spans", nargs="?", type=int, default=200000, help="spans for SpanCostBench")
    ap.add_argument("--postgres", action="store_true", help="same as --mlflow-backend postgres")
    ap.add_argument("--mlflow-backend", choices=MLFLOW_BACKENDS, default="sqlite")
    ap.add_argument("--mlflow-workers", type=int, default=None,
                    help="MLflow server workers (default: 4 on PostgreSQL; SQLite always runs one, as in the tests)")
    a = ap.parse_args()
    backend = "postgres" if a.postgres else a.mlflow_backend
    workers = a.mlflow_workers or int(os.environ.get("BENCH_WORKERS", default_mlflow_workers(backend)))
    mvn = [f"{ROOT}/mvnw", "-B", "-q"]
    subprocess.run([*mvn, "test-compile"], cwd=ROOT, check=True)
    subprocess.run([*mvn, "dependency:build-classpath", "-Dmdep.outputFile=target/bench-classpath.txt",
                    "-Dmdep.includeScope=test"], cwd=ROOT, check=True)
    cp = "target/classes:target/test-classes:" + open(f"{ROOT}/target/bench-classpath.txt").read().strip()
    subprocess.run(["java", "-cp", cp, "dev.agentfn.bench.SpanCostBench", str(a.spans)], cwd=ROOT, check=True)
    pg = None
    try:
        props = []
        if backend == "postgres":
            ensure_psycopg2(mlflow_venv())
            pg = Postgres()
            props = [f"-Dbench.backend-uri={pg.uri}", f"-Dbench.workers={workers}"]
        subprocess.run(["java", *props, "-cp", cp, "dev.agentfn.bench.ExportBench", str(a.rounds)], cwd=ROOT, check=True)
    finally:
        if pg:
            pg.stop()


if __name__ == "__main__":
    main()
