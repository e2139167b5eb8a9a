#!/usr/bin/env python3
"""Where the time of a delivered trace export goes at concurrency 1: agentfn (client) or MLflow (server).

Starts the fake Messages API, MLflow (PostgreSQL, 4 workers by default, as bench/compare.py does) and two
agentfn processes (JVM, JDK 17): one tracing to MLflow, one not. Both are warmed up; then, with the spool
empty, N plain invocations are sent one at a time to each, first without any profiler (response times and
CPU time of agentfn, of the MLflow server and of PostgreSQL, read from /proc), then N more to the traced one
while:
  - JFR (settings=profile) records agentfn (jcmd JFR.start / JFR.dump);
  - py-spy (in the peers' venv, bench/peers/setup.sh) samples the MLflow server's master and workers (on-CPU samples);
Prints (and writes to --out/summary.json): delivery = traced - untraced response time (p50/p99), CPU ms per
invocation on each side, agentfn's hottest methods (JFR) and the MLflow server's hottest frames (py-spy).

    python3 bench/delivery_profile.py [--requests 300] [--latency-ms 50] [--mlflow-backend postgres|sqlite]
"""
import argparse, collections, json, os, signal, statistics, subprocess, sys, time, urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402
from common import APP, MLFLOW_BACKENDS, ROOT, free_port, start_fake, start_mlflow, stop_all, tree_cpu_s, wait_up  # noqa: E402

JFR_TOOL = "/usr/lib/jvm/temurin-25-jdk-amd64/bin/jfr"  # has `jfr view`; reads JDK 17 recordings




def invoke(url, n, tag):
    """n plain invocations one at a time; returns (latencies ms, export statuses)."""
    lat, exports = [], collections.Counter()
    for i in range(n):
        body = json.dumps({"prompt": f"profile {tag} {i}"}).encode()
        t = time.perf_counter()
        req = urllib.request.Request(url, data=body, headers={"content-type": "application/json"})
        with urllib.request.urlopen(req, timeout=60) as r:
            answer = json.loads(r.read())
        lat.append((time.perf_counter() - t) * 1000)
        exports[(answer.get("trace") or {}).get("export", "none")] += 1
    return lat, dict(exports)


def pct(xs, p):
    s = sorted(xs)
    return s[min(len(s) - 1, int(round((len(s) - 1) * p / 100)))]


def start_agentfn(fake_port, mlflow_url, name):
    env = common.agentfn_env(fake_port, mlflow_url, "bench-delivery-profile")
    port = free_port()
    env.update(PORT=str(port), AGENTFN_TRACING_SPOOL_DIRECTORY=f"{ROOT}/target/delivery-profile/spool-{name}",
               AGENTFN_TRACING_SPOOL_DRAIN_INTERVAL="2s")
    p = subprocess.Popen(["java", "-jar", f"{APP}/quarkus-run.jar"], env=env, stdout=subprocess.DEVNULL,
                         stderr=open(f"{ROOT}/target/delivery-profile/{name}.log", "w"))
    wait_up(f"http://127.0.0.1:{port}/q/health/ready")
    return p, f"http://127.0.0.1:{port}/v1/invocations"


def spooled(name):
    d = f"{ROOT}/target/delivery-profile/spool-{name}"
    return sum(1 for f in os.listdir(d) if f.endswith(".json")) if os.path.isdir(d) else 0


def pyspy_top(raw, n=25):
    """Own (leaf) and inclusive sample counts per frame from py-spy's collapsed stacks."""
    own, incl, total = collections.Counter(), collections.Counter(), 0
    for line in open(raw):
        stack, _, count = line.rstrip("\n").rpartition(" ")
        if not count.isdigit():
            continue
        c = int(count)
        total += c
        frames = [f for f in stack.split(";") if not f.startswith("process ") and not f.startswith("thread ")]
        if frames:
            own[frames[-1]] += c
        for f in set(frames):
            incl[f] += c
    return total, own.most_common(n), incl.most_common(n)


def server_split(raw, n):
    """py-spy samples (200/s) inside MLflow's two write handlers, in ms per request, split into SQL round trips
    (execute, commit, rollback, the pool's pre-ping) and Python (MLflow, SQLAlchemy ORM, Flask/WSGI bridge)."""
    out = collections.Counter()
    for line in open(raw):
        stack, _, count = line.rstrip("\n").rpartition(" ")
        if not count.isdigit():
            continue
        handler = "StartTraceV3 (start_trace)" if "SqlAlchemyStore.start_trace " in stack else \
            "OTLP spans (log_spans)" if "SqlAlchemyStore.log_spans " in stack else None
        if not handler:
            continue
        leaf = stack.rsplit(";", 1)[-1]
        sql = any(k in leaf for k in ("do_execute", "do_commit", "do_rollback", "do_ping"))
        out[f"{handler}: {'SQL round trips' if sql else 'Python'}"] += int(count)
    return {k: round(v / 200 / n * 1000, 1) for k, v in sorted(out.items())}


def jfr_split(jfr, n):
    """agentfn's JFR execution samples during the profiled pass: total, and those with tracing/MLflow code on
    the stack (export, serialization, the JDK HTTP client the exporter uses)."""
    if not os.path.exists(JFR_TOOL):
        return None
    text = subprocess.run([JFR_TOOL, "print", "--events", "jdk.ExecutionSample", "--stack-depth", "64", jfr],
                          capture_output=True, text=True).stdout
    events = text.split("jdk.ExecutionSample {")[1:]
    tracing = sum(1 for e in events if "dev.agentfn.tracing" in e or "dev.agentfn.mlflow" in e)
    http = sum(1 for e in events if "jdk.internal.net.http" in e)
    return {"samples": len(events), "with_tracing_or_mlflow_frames": tracing, "jdk_http_client": http,
            "samples_per_invocation": round(len(events) / n, 2)}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--requests", type=int, default=300)
    ap.add_argument("--warmup", type=int, default=500)
    ap.add_argument("--latency-ms", type=int, default=50)
    ap.add_argument("--mlflow-backend", choices=MLFLOW_BACKENDS, default="postgres")
    ap.add_argument("--mlflow-workers", type=int, default=None)
    ap.add_argument("--out", default=f"{ROOT}/target/delivery-profile")
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    procs = []
    try:
        fake_port = free_port()
        procs.append(start_fake(fake_port, "--latency-ms", "0", "--threads", "64"))
        wait_up(f"http://127.0.0.1:{fake_port}/_fake/config")
        mlflow, mlflow_url = start_mlflow("bench-delivery-mlflow", a.mlflow_workers, backend=a.mlflow_backend)
        procs.append(mlflow)
        traced, traced_url = start_agentfn(fake_port, mlflow_url, "traced")
        procs.append(traced)
        untraced, untraced_url = start_agentfn(fake_port, None, "untraced")
        procs.append(untraced)
        for url, tag in ((traced_url, "warm-t"), (untraced_url, "warm-u")):
            invoke(url, a.warmup, tag)
        urllib.request.urlopen(urllib.request.Request(
            f"http://127.0.0.1:{fake_port}/_fake/config", data=json.dumps({"latency_ms": a.latency_ms}).encode(),
            headers={"content-type": "application/json"}), timeout=10).read()
        end = time.time() + 120
        while spooled("traced") and time.time() < end:
            time.sleep(1)
        time.sleep(2)
        procs_of = {"agentfn": [traced.pid], "mlflow": [mlflow.pid], "postgres": [mlflow.pg.pid] if mlflow.pg else []}
        c0 = {k: tree_cpu_s(v) for k, v in procs_of.items()}
        t0 = time.monotonic()
        lat_t, exports = invoke(traced_url, a.requests, "traced")
        wall = time.monotonic() - t0
        c1 = {k: tree_cpu_s(v) for k, v in procs_of.items()}
        u0 = tree_cpu_s([untraced.pid])
        lat_u, _ = invoke(untraced_url, a.requests, "untraced")
        u1 = tree_cpu_s([untraced.pid])
        end = time.time() + 120
        while spooled("traced") and time.time() < end:
            time.sleep(1)
        jfr = f"{a.out}/agentfn-c1.jfr"
        subprocess.run(["jcmd", str(traced.pid), "JFR.start", "name=delivery", "settings=profile"], check=True,
                       capture_output=True)
        venv = common.peers_venv()
        pyspy = f"{venv}/bin/py-spy"
        raw = f"{a.out}/mlflow-c1.pyspy.txt"
        spy = subprocess.Popen([pyspy, "record", "--pid", str(mlflow.pid), "--subprocesses", "--format", "raw",
                                "--rate", "200", "--output", raw, "--nonblocking"],
                               stdout=subprocess.DEVNULL, stderr=open(f"{a.out}/py-spy.log", "w"))
        time.sleep(2)
        p0 = time.monotonic()
        _, exports_profiled = invoke(traced_url, a.requests, "profiled")
        profiled_s = time.monotonic() - p0
        spy.send_signal(signal.SIGINT)
        spy.wait(60)
        subprocess.run(["jcmd", str(traced.pid), "JFR.dump", "name=delivery", f"filename={jfr}"], check=True,
                       capture_output=True)
        per = {k: round((c1[k] - c0[k]) / a.requests * 1000, 2) for k in c0}
        per["agentfn_untraced"] = round((u1 - u0) / a.requests * 1000, 2)
        result = {
            "mlflow_backend": a.mlflow_backend, "mlflow_workers": a.mlflow_workers or common.default_mlflow_workers(a.mlflow_backend),
            "requests": a.requests, "latency_ms": a.latency_ms, "exports": exports,
            "traced_ms": {"p50": round(statistics.median(lat_t), 1), "p99": round(pct(lat_t, 99), 1)},
            "untraced_ms": {"p50": round(statistics.median(lat_u), 1), "p99": round(pct(lat_u, 99), 1)},
            "delivery_ms": {"p50": round(statistics.median(lat_t) - statistics.median(lat_u), 1),
                            "p99": round(pct(lat_t, 99) - pct(lat_u, 99), 1)},
            "cpu_ms_per_invocation": per,
            "cpu_share_of_wall": {k: round((c1[k] - c0[k]) / wall, 3) for k in c0},
            "jfr": jfr, "pyspy_raw": raw, "profiled_pass": {"exports": exports_profiled, "wall_s": round(profiled_s, 1)}}
        if os.path.exists(raw):
            total, own, incl = pyspy_top(raw)
            result["mlflow_pyspy"] = {"samples_per_s": 200, "samples": total,
                                      "per_request_ms": server_split(raw, a.requests),
                                      "own_top": own[:15], "inclusive_top": incl[:30]}
        result["agentfn_jfr"] = jfr_split(jfr, a.requests)
        common.report(result, f"{a.out}/summary.json")
        if os.path.exists(JFR_TOOL):
            for view in ("hot-methods", "allocation-by-site"):
                print(subprocess.run([JFR_TOOL, "view", "--width", "220", view, jfr], capture_output=True,
                                     text=True).stdout[:6000])
    finally:
        stop_all(procs)


if __name__ == "__main__":
    main()
