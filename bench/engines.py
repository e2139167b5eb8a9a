#!/usr/bin/env python3
"""The two engines side by side against the fake Messages API: time to first token, total time, overhead per
invocation (response time - scripted model latency), RSS of the Claude Code CLI process, request size and cost.

Starts the fake (fixed latency before the first byte of each model answer) and agentfn (JVM, target/quarkus-app,
tracing off so only the engine is measured), then sends the same prompt N times per engine, one at a time, as SSE
(time to first token = first text_delta event). A sampler reads VmHWM of the CLI processes from /proc while they run.
Bounded: N sequential requests per engine, loopback only. Needs `./mvnw package -DskipTests` and the CLI
(.ci/setup-claude-code.sh installs it). The machine may be shared: repeat and compare medians.

Usage: bench/engines.py [--requests 10] [--latency-ms 500] [--out target/bench-engines.json]
"""
import argparse, json, os, statistics, subprocess, threading, time, urllib.request

import common
from common import APP, ROOT, free_port, start_fake, stop_all, wait_up

PROMPT = "Say hello to the benchmark"


def invoke_sse(port, engine):
    body = json.dumps({"prompt": PROMPT, "engine": engine}).encode()
    req = urllib.request.Request(f"http://127.0.0.1:{port}/v1/invocations", data=body, method="POST",
                                 headers={"content-type": "application/json", "accept": "text/event-stream"})
    start = time.perf_counter()
    first = None
    done = None
    with urllib.request.urlopen(req, timeout=120) as r:
        event = None
        for raw in r:
            line = raw.decode().strip()
            if line.startswith("event:"):
                event = line[6:].strip()
                if event == "text_delta" and first is None:
                    first = time.perf_counter()
            elif line.startswith("data:") and event in ("done", "error"):
                done = json.loads(line[5:])
                break
    total = time.perf_counter() - start
    if done is None or "output" not in done:
        raise SystemExit(f"{engine}: no answer: {done}")
    return {"ttft_ms": (first - start) * 1000 if first else None, "total_ms": total * 1000, "answer": done}


class RssSampler(threading.Thread):
    """Peak RSS (VmHWM) of every process whose executable is the CLI, sampled every 20 ms."""

    def __init__(self, cli):
        super().__init__(daemon=True)
        self.cli = os.path.realpath(cli)
        self.peaks = {}
        self.stop = False

    def run(self):
        while not self.stop:
            for pid in os.listdir("/proc"):
                if not pid.isdigit():
                    continue
                try:
                    if os.readlink(f"/proc/{pid}/exe") != self.cli:
                        continue
                    with open(f"/proc/{pid}/status") as f:
                        for line in f:
                            if line.startswith("VmHWM"):
                                kb = int(line.split()[1])
                                self.peaks[pid] = max(self.peaks.get(pid, 0), kb)
                except OSError:
                    pass
            time.sleep(0.02)


def vmhwm_mb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM"):
                return int(line.split()[1]) / 1024


def summary(runs, latency_ms):
    def med(key):
        vals = [r[key] for r in runs if r[key] is not None]
        return round(statistics.median(vals), 1) if vals else None
    a = runs[-1]["answer"]
    return {"ttft_ms_median": med("ttft_ms"), "total_ms_median": med("total_ms"),
            "overhead_ms_median": round(statistics.median(r["total_ms"] - latency_ms * r["answer"]["turns"] for r in runs), 1),
            "ttft_ms_all": [round(r["ttft_ms"] or 0) for r in runs], "total_ms_all": [round(r["total_ms"]) for r in runs],
            "input_tokens": a["usage"]["input_tokens"], "output_tokens": a["usage"]["output_tokens"],
            "cost_usd": a["cost_usd"], "turns": a["turns"]}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--requests", type=int, default=10)
    ap.add_argument("--latency-ms", type=int, default=500)
    ap.add_argument("--java", default="java")
    ap.add_argument("--out", default=f"{ROOT}/target/bench-engines.json")
    a = ap.parse_args()
    cli = subprocess.run(["bash", f"{ROOT}/.ci/setup-claude-code.sh"], capture_output=True, text=True,
                         check=True).stdout.strip().splitlines()[-1]
    procs = []
    try:
        fake_port = free_port()
        procs.append(start_fake(fake_port, "--latency-ms", str(a.latency_ms)))
        port = free_port()
        env = dict(os.environ, ANTHROPIC_BASE_URL=f"http://127.0.0.1:{fake_port}", ANTHROPIC_API_KEY="bench-key",
                   AGENTFN_CLAUDE_CODE_CLI_PATH=cli, AGENTFN_INVOCATION_DEADLINE="120s",
                   AGENTFN_CLAUDE_CODE_WORK_ROOT=f"{ROOT}/target/bench-claude-code",
                   AGENTFN_TRACING_SPOOL_DIRECTORY=f"{ROOT}/target/bench-spool", QUARKUS_LOG_LEVEL="WARN",
                   QUARKUS_HTTP_PORT=str(port))
        env.pop("MLFLOW_TRACKING_URI", None)
        app = subprocess.Popen([a.java, "-jar", f"{APP}/quarkus-run.jar"], env=env, stdout=subprocess.DEVNULL)
        procs.append(app)
        wait_up(f"http://127.0.0.1:{port}/q/health")
        wait_up(f"http://127.0.0.1:{fake_port}/_fake/config")
        sampler = RssSampler(cli)
        sampler.start()
        results = {}
        for engine in ("messages", "claude-code"):
            first = invoke_sse(port, engine)  # warm-up: JIT of the JVM paths, page cache of the 381 MB binary
            sampler.peaks.clear()
            runs = [invoke_sse(port, engine) for _ in range(a.requests)]
            results[engine] = summary(runs, a.latency_ms)
            results[engine]["first_invocation_ttft_ms"] = round(first["ttft_ms"] or 0)
            if engine == "claude-code":
                peaks = sorted(sampler.peaks.values())
                results[engine]["cli_rss_mb_median"] = round(statistics.median(peaks) / 1024, 1) if peaks else None
                results[engine]["cli_rss_mb_max"] = round(peaks[-1] / 1024, 1) if peaks else None
                results[engine]["cli_processes_sampled"] = len(peaks)
        sampler.stop = True
        results["agentfn_jvm_rss_peak_mb"] = round(vmhwm_mb(app.pid), 1)
        results["config"] = {"requests": a.requests, "latency_ms": a.latency_ms, "nproc": os.cpu_count(),
                             "loadavg_at_end": os.getloadavg()}
        common.report(results, a.out)
    finally:
        stop_all(procs)


if __name__ == "__main__":
    main()
