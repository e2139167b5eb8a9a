#!/usr/bin/env python3
"""CPU time agentfn spends per invocation: a measure that a shared, busy machine disturbs far less than latency.

Starts the fake Messages API (no model latency) and agentfn (JVM, tracing off unless --mlflow), warms the JIT
up, then for each round reads agentfn's process CPU time (user + system, /proc/<pid>/stat) before and after a
fixed number of POST /v1/invocations sent by `hey`, and reports CPU microseconds per invocation (median of the
rounds). Wall-clock throughput is printed too but depends on what else runs on the machine.

Usage: bench/cpu_per_invocation.py [--app target/quarkus-app] [--requests 4000] [--rounds 5] [--concurrency 32]
       [--jvm-flags '-XX:TieredStopAtLevel=1 -XX:+UseSerialGC'] [--mlflow] [--out target/bench-cpu.json]
"""
import argparse, json, os, statistics, subprocess, time

import common
from common import APP, ROOT, free_port, start_fake, start_mlflow, stop_all, wait_up
from invocation_overhead import hey, set_latency

TICK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK  # utime, stime


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--app", default=APP, help="a quarkus-app directory (to compare two builds)")
    ap.add_argument("--java", default="java")
    ap.add_argument("--jvm-flags", default="", help="JVM flags, space-separated, e.g. '-XX:TieredStopAtLevel=1 -XX:+UseSerialGC'")
    ap.add_argument("--requests", type=int, default=4000)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--concurrency", type=int, default=32)
    ap.add_argument("--warmup", type=int, default=8000)
    ap.add_argument("--mlflow", action="store_true", help="trace every invocation to a local MLflow server")
    ap.add_argument("--jfr", default=None, help="record a JFR profile of the measured rounds to this file")
    ap.add_argument("--out", default=None)
    a = ap.parse_args()
    procs = []
    try:
        fake_port = free_port()
        procs.append(start_fake(fake_port, "--latency-ms", "0", "--threads", "200"))
        mlflow_url = None
        if a.mlflow:
            mlflow, mlflow_url = start_mlflow("bench-mlflow-cpu")
            procs.append(mlflow)
        env = common.agentfn_env(fake_port, mlflow_url, "bench-cpu")
        port = free_port(); env["PORT"] = str(port)
        jfr = [f"-XX:StartFlightRecording=filename={a.jfr},settings=profile"] if a.jfr else []
        app = subprocess.Popen([a.java, *a.jvm_flags.split(), *jfr, "-jar", f"{a.app}/quarkus-run.jar"], env=env,
                               stdout=subprocess.DEVNULL)
        procs.append(app)
        wait_up(f"http://127.0.0.1:{port}/q/health/ready")
        url = f"http://127.0.0.1:{port}/v1/invocations"
        set_latency(fake_port, 0)
        hey(url, a.warmup, a.concurrency)
        per_call, rates = [], []
        for _ in range(a.rounds):
            c0, t0 = cpu_seconds(app.pid), time.monotonic()
            _, codes, _ = hey(url, a.requests, a.concurrency)
            c1, t1 = cpu_seconds(app.pid), time.monotonic()
            if set(codes) != {"200"}:
                raise SystemExit(f"non-200 answers: {codes}")
            per_call.append((c1 - c0) / a.requests * 1e6)
            rates.append(a.requests / (t1 - t0))
            print(f"round: {per_call[-1]:.0f} us CPU per invocation, {rates[-1]:.0f} invocations/s", flush=True)
        with open(f"/proc/{app.pid}/status") as f:
            hwm = next(int(l.split()[1]) for l in f if l.startswith("VmHWM")) / 1024
        result = {"app": a.app, "jvm_flags": a.jvm_flags, "mlflow": a.mlflow, "requests_per_round": a.requests, "concurrency": a.concurrency,
                  "cpu_us_per_invocation_all": [round(x) for x in per_call],
                  "cpu_us_per_invocation_median": round(statistics.median(per_call)),
                  "invocations_per_s_median": round(statistics.median(rates)), "peak_rss_mb": round(hwm, 1)}
        common.report(result, a.out)
    finally:
        stop_all(procs)


if __name__ == "__main__":
    main()
