#!/usr/bin/env python3
"""Overhead of one invocation = response time - scripted model time, against the fake Messages API.
The fake is also measured alone at each level (fake_alone_*): what it adds itself is part of the overhead.

Starts the fake (fixed model latency), optionally a local MLflow server, and agentfn (JVM), then
drives POST /v1/invocations with `hey` at several concurrencies and reports p50/p99 overhead and
agentfn's peak RSS (VmHWM). Bounded: each level sends a fixed number of requests to loopback only.

Two arrival patterns (--arrivals):
  burst   `hey` (closed loop): all C callers send at the same instant, and again each time the model
          answers them all (a synchronized worst case: the p99 is the time 2 cores need to work through
          C requests at once);
  steady  `vegeta` (open loop): requests arrive independently at C / model latency per second, so C
          invocations are in flight on average (500 concurrent at 2 s = 250 invocations/s), as when
          independent users call the function.

Usage: bench/invocation_overhead.py [--latency-ms 2000] [--levels 1,50,500] [--arrivals burst|steady]
       [--level-warmup-s 40] [--requests-factor 12] [--runs 3] [--jvm-args=...] [--mlflow] [--out FILE.json]
"""
import argparse, json, os, re, shutil, statistics, subprocess, tempfile, urllib.request

import common
from common import APP, ROOT, free_port, start_fake, start_mlflow, stop_all, wait_up


INVOCATION = '{"prompt":"benchmark prompt"}'
MESSAGES = '{"model":"claude-sonnet-5-5","max_tokens":4096,"stream":true,"messages":[{"role":"user","content":"benchmark prompt"}]}'


def hey(url, n, c, body=INVOCATION, headers=()):
    hey_bin = shutil.which("hey") or os.path.expanduser("~/go/bin/hey")
    extra = [x for h in headers for x in ("-H", h)]
    out = subprocess.run([hey_bin, "-n", str(n), "-c", str(c), "-t", "60", "-m", "POST", "-T", "application/json",
                          *extra, "-d", body, url], capture_output=True, text=True, check=True).stdout
    pct = {int(m.group(1)): float(m.group(2)) for m in re.finditer(r"\s(\d+)%+ in ([\d.]+) secs", out)}
    slowest = float(re.search(r"Slowest:\s+([\d.]+) secs", out).group(1))
    pct.setdefault(99, slowest)  # hey omits high percentiles of small samples
    codes = dict(re.findall(r"\[(\d+)\]\s+(\d+) responses", out))
    return pct, codes, out


def vegeta(url, n, c, body=INVOCATION, headers=(), latency_s=2.0):
    """Open loop at c / latency requests per second for n requests: c invocations in flight on average,
    arriving independently (vegeta: go install github.com/tsenart/vegeta/v12@latest)."""
    bin_ = shutil.which("vegeta") or os.path.expanduser("~/go/bin/vegeta")
    per_ms = round(latency_s * 1000)
    with tempfile.TemporaryDirectory() as d:
        with open(f"{d}/body.json", "w") as f:
            f.write(body)
        extra = [x for h in ("content-type: application/json", *headers) for x in ("-header", h)]
        attack = subprocess.run([bin_, "attack", f"-rate={c}/{per_ms}ms", f"-duration={n * per_ms // c}ms", "-timeout=60s",
                                 f"-body={d}/body.json", "-max-workers=4096", *extra],
                                input=f"POST {url}\n".encode(), capture_output=True, check=True).stdout
    report = json.loads(subprocess.run([bin_, "report", "-type=json"], input=attack, capture_output=True,
                                       check=True).stdout)
    lat = report["latencies"]
    pct = {50: lat["50th"] / 1e9, 90: lat["90th"] / 1e9, 99: lat["99th"] / 1e9}
    return pct, report["status_codes"], None


def set_latency(port, ms):
    req = urllib.request.Request(f"http://127.0.0.1:{port}/_fake/config", data=json.dumps({"latency_ms": ms}).encode(),
                                 method="POST", headers={"content-type": "application/json"})
    urllib.request.urlopen(req, timeout=5).read()


def thread_cpu_s(pid):
    """CPU seconds per thread group of a JVM (C2 CompilerThread0 and 1 count as one), from /proc."""
    groups = {}
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{tid}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        name = re.sub(r"[-#]?\d+$", "", stat[stat.index("(") + 1:stat.rindex(")")])
        fields = stat.rsplit(")", 1)[1].split()
        groups[name] = groups.get(name, 0) + (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return groups


def vmhwm_mb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM"):
                return int(line.split()[1]) / 1024


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--latency-ms", type=int, default=2000)
    ap.add_argument("--levels", default="1,50,500")
    ap.add_argument("--mlflow", action="store_true", help="trace to a local MLflow server too")
    ap.add_argument("--java", default="java")
    ap.add_argument("--jvm-args", default="", help="extra JVM options for agentfn, e.g. '-XX:MaxRAM=1g' to size "
                    "the heap as in a 1 GB container (the JVM otherwise sizes it from the whole machine)")
    ap.add_argument("--warmup", type=int, default=5000, help="zero-latency requests before measuring")
    ap.add_argument("--arrivals", choices=("burst", "steady"), default="burst")
    ap.add_argument("--level-warmup-s", type=float, default=0, help="steady only: before measuring a level, send "
                    "the same open-loop load for this long, unmeasured (the JIT recompiles for 10+ s after the "
                    "zero-latency warm-up when connections, timers and in-flight counts change; 40 s lets it settle)")
    ap.add_argument("--requests-factor", type=int, default=4, help="requests per level = factor x concurrency "
                    "(at least 10); steady arrivals spread them over factor x model latency")
    ap.add_argument("--runs", type=int, default=1, help="measured windows per level, one after the other in the same "
                    "processes; the row reports the median p50 and p99 of the windows and lists every window's p99")
    ap.add_argument("--out", default=None)
    a = ap.parse_args()
    load = hey if a.arrivals == "burst" else (lambda *args: vegeta(*args, latency_s=a.latency_ms / 1000))
    procs = []
    try:
        fake_port = free_port()
        procs.append(start_fake(fake_port, "--latency-ms", str(a.latency_ms), "--threads", "1200"))
        mlflow_url = None
        if a.mlflow:
            mlflow, mlflow_url = start_mlflow("bench-mlflow")
            procs.append(mlflow)
        env = common.agentfn_env(fake_port, mlflow_url, "bench")
        port = free_port(); env["PORT"] = str(port)
        app = subprocess.Popen([a.java, *a.jvm_args.split(), "-jar", f"{APP}/quarkus-run.jar"], env=env,
                               stdout=subprocess.DEVNULL)
        procs.append(app)
        wait_up(f"http://127.0.0.1:{port}/q/health/ready")
        url = f"http://127.0.0.1:{port}/v1/invocations"
        fake_url = f"http://127.0.0.1:{fake_port}/v1/messages"
        fake_headers = ("x-api-key: bench-key", "anthropic-version: 2023-06-01")
        # JIT warm-up of both JVMs with no model latency, then the scripted latency for the measurements
        set_latency(fake_port, 0)
        hey(url, a.warmup, 32)
        hey(fake_url, a.warmup, 32, MESSAGES, fake_headers)
        set_latency(fake_port, a.latency_ms)
        model_s = a.latency_ms / 1000
        rows = []
        for c in [int(x) for x in a.levels.split(",")]:
            n = max(a.requests_factor * c, 10)
            warm_n = round(a.level_warmup_s * c / model_s) if a.arrivals == "steady" else 0
            if warm_n:
                load(url, warm_n, c)
            cpu0, threads0 = common.tree_cpu_s([app.pid]), thread_cpu_s(app.pid)
            runs = [load(url, n, c) for _ in range(a.runs)]
            cpu_us = (common.tree_cpu_s([app.pid]) - cpu0) / (n * a.runs) * 1e6
            threads = {k: round(v - threads0.get(k, 0), 1) for k, v in thread_cpu_s(app.pid).items()}
            busiest = dict(sorted(((k, v) for k, v in threads.items() if v >= 0.1), key=lambda kv: -kv[1]))
            if warm_n:
                load(fake_url, warm_n, c, MESSAGES, fake_headers)
            fake_runs = [load(fake_url, n, c, MESSAGES, fake_headers) for _ in range(a.runs)]
            codes = {}
            for _, run_codes, _ in runs:
                for code, count in run_codes.items():
                    codes[code] = codes.get(code, 0) + int(count)
            ms = lambda runs_, p: [round((r[0][p] - model_s) * 1000, 1) for r in runs_]
            rows.append({"concurrency": c, "requests": n * a.runs, "warmup_requests": warm_n, "status_codes": codes,
                         "app_cpu_us_per_invocation": round(cpu_us), "app_cpu_s_by_thread": busiest,
                         "p50_overhead_ms": statistics.median(ms(runs, 50)),
                         "p99_overhead_ms": statistics.median(ms(runs, 99)),
                         "p99_overhead_ms_per_run": ms(runs, 99),
                         "fake_alone_p50_ms": statistics.median(ms(fake_runs, 50)),
                         "fake_alone_p99_ms": statistics.median(ms(fake_runs, 99)),
                         "fake_alone_p99_ms_per_run": ms(fake_runs, 99)})
            print(rows[-1], flush=True)
        result = {"model_latency_ms": a.latency_ms, "arrivals": a.arrivals, "level_warmup_s": a.level_warmup_s, "runs": a.runs, "mlflow": a.mlflow, "java": a.java, "jvm_args": a.jvm_args, "levels": rows,
                  "peak_rss_mb": round(vmhwm_mb(app.pid), 1)}
        common.report(result, a.out)
    finally:
        stop_all(procs)

if __name__ == "__main__":
    main()
