#!/usr/bin/env python3
"""agentfn beside the Python MLflow stack a team would deploy instead (issue 7), in one run on one machine.

Starts the fake Messages API (fixed model latency), one local MLflow 3.17.2 server, the HTTP tool both
sides call, agentfn (JVM: JDK 17 + AppCDS, Temurin 25 + AOT cache) and the Python peers from
bench/peers/ (installed into a cached venv by bench/peers/setup.sh), then runs the scenarios of issue 7
and writes docs/benchmarks/compare.{md,json} and PNG charts, and refreshes the generated block of
docs/benchmarks.md. Load comes from bench/LoadGen.java (a second process, loopback, bounded in count
and time). Sides run one at a time (the others idle), runs interleaved side by side so drift on a
shared machine hits every side alike; medians over runs; ratios agentfn/peer computed run by run.

    python3 bench/compare.py            # full run (about 15 minutes on 2 cores)
    python3 bench/compare.py --quick    # smoke test: seconds per scenario, numbers meaningless

Scenarios: 1 overhead (response time - scripted model time) p50/p95/p99 at concurrency 1/16/256, plain
answer and 3-turn tool loop; 2 trace delivery before return (overhead traced - overhead untraced, same
service restarted without tracing); 3 cold start (process start to first answered invocation); 4 peak
RSS (whole process tree) under scenario 1 at concurrency 256; 5 throughput ceiling with zero model
latency (traced and untraced); 6 traces in MLflow per side afterwards: every answered invocation has
exactly one trace (each prompt carries a unique token, found again in the trace's request preview).
"""
import argparse, csv, datetime, json, os, platform, re, shlex, shutil, signal, statistics, subprocess, sys, threading, time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import APP, ROOT, first_answer, free_port, start_fake, start_mlflow, stop_all, wait_up  # noqa: E402

JDK25 = "/usr/lib/jvm/temurin-25-jdk-amd64/bin/java"
PEER_WORKERS = 2  # uvicorn workers: one per core, what a team would run on this 2-core machine
GOALS = {"overhead_p99_c256": 0.2, "delivery": 0.7, "cold_start": 0.5}


def ensure_venv():
    """Re-runs this script inside the peers' venv (matplotlib, MLflow client, the peers)."""
    venv = subprocess.run(["bash", f"{ROOT}/bench/peers/setup.sh"], capture_output=True, text=True,
                          check=True).stdout.strip().splitlines()[-1]
    if os.path.realpath(sys.prefix) != os.path.realpath(venv):
        os.execv(f"{venv}/bin/python", [f"{venv}/bin/python", os.path.abspath(__file__), *sys.argv[1:]])
    return venv


def post_json(url, payload):
    req = urllib.request.Request(url, data=json.dumps(payload).encode(), headers={"content-type": "application/json"})
    with urllib.request.urlopen(req, timeout=30) as r:
        return json.loads(r.read() or b"null")


def sh(cmd):
    try:
        return subprocess.run(cmd, capture_output=True, text=True, timeout=30).stdout.strip() or \
            subprocess.run(cmd, capture_output=True, text=True, timeout=30).stderr.strip()
    except Exception as e:
        return f"n/a ({e})"


# ---- processes --------------------------------------------------------------------------------

def tree_pids(root):
    children = {}
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                with open(f"/proc/{d}/stat") as f:
                    ppid = int(f.read().rsplit(")", 1)[1].split()[1])
                children.setdefault(ppid, []).append(int(d))
            except (OSError, IndexError, ValueError):
                pass
    out, todo = [], [root]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(children.get(p, []))
    return out


def tree_rss_mb(root):
    total = 0
    for pid in tree_pids(root):
        try:
            with open(f"/proc/{pid}/status") as f:
                total += next(int(l.split()[1]) for l in f if l.startswith("VmRSS"))
        except (OSError, StopIteration):
            pass
    return total / 1024


class RssSampler:
    """Peak of the summed RSS of a process tree, sampled every 50 ms while active."""

    def __init__(self, pid):
        self.pid, self.peak, self._stop = pid, 0.0, threading.Event()
        self._t = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        while not self._stop.is_set():
            self.peak = max(self.peak, tree_rss_mb(self.pid))
            self._stop.wait(0.05)

    def __enter__(self):
        self._t.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._t.join()


class Side:
    """One system under test: how to start it and what to send it."""

    def __init__(self, key, label, kind, cmd, env, body, cwd=ROOT, workloads=("plain", "tool"), levels=None,
                 pair=None, prepare=None):
        self.key, self.label, self.kind, self.cmd, self.env, self.cwd = key, label, kind, cmd, env, cwd
        self.body, self.workloads, self.levels, self.pair, self.prepare = body, workloads, levels, pair, prepare
        self.proc, self.port, self.unavailable, self.cold_ms, self.rss_peak_mb = None, None, None, [], None
        self.ok_tokens = []  # unique request tokens answered 200 while traced (scenario 6)

    def url(self):
        return f"http://127.0.0.1:{self.port}/v1/invocations"

    def start(self, traced=True):
        self.port = free_port()
        env = dict(self.env(traced), PORT=str(self.port))
        cmd = [c.replace("{port}", str(self.port)) for c in self.cmd]
        t0 = time.monotonic()
        self.proc = subprocess.Popen(cmd, cwd=self.cwd, env=env, stdout=subprocess.DEVNULL,
                                     stderr=open(f"{ROOT}/target/bench-compare/{self.key}.log", "a"),
                                     start_new_session=True)
        return t0

    def stop(self, wait_s=10):
        if self.proc:
            try:
                os.killpg(self.proc.pid, signal.SIGTERM)
                self.proc.wait(wait_s)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(10)
            except ProcessLookupError:
                pass
            self.proc = None

    def command_line(self):
        return " ".join(shlex.quote(c) for c in self.cmd)


# ---- load -------------------------------------------------------------------------------------

class Load:
    def __init__(self, out_dir):
        self.dir = f"{ROOT}/target/bench-compare"
        self.classes = f"{self.dir}/loadgen"
        os.makedirs(self.classes, exist_ok=True)
        subprocess.run(["javac", "-d", self.classes, f"{ROOT}/bench/LoadGen.java"], check=True)
        self.seq = 0
        self.run_id = datetime.datetime.now(datetime.timezone.utc).strftime("%Y%m%dT%H%M%S")

    def tool_server(self):
        port = free_port()
        p = subprocess.Popen(["java", "-cp", self.classes, "LoadGen", "tool-server", "--port", str(port)],
                             stdout=subprocess.DEVNULL)
        return p, f"http://127.0.0.1:{port}/weather"

    def token(self, side, n):
        return f"req-{self.run_id}-{side.key}-{n}"

    def run(self, side, workload, c, n, max_s):
        """n requests at concurrency c (bounded by max_s); returns rows (n, latency_ms, status)."""
        body_file = f"{self.dir}/body-{side.key}-{workload}.json"
        with open(body_file, "w") as f:
            f.write(side.body(workload, self.token(side, "{n}")))
        out = f"{self.dir}/lat-{side.key}.csv"
        first, self.seq = self.seq, self.seq + n
        summary = subprocess.run(["java", "-Xss512k", "-cp", self.classes, "LoadGen", "load", "--url", side.url(),
                                  "--body-file", body_file, "--concurrency", str(c), "--requests", str(n),
                                  "--max-seconds", str(max_s), "--first", str(first), "--out", out],
                                 check=True, capture_output=True, text=True).stdout
        with open(out) as f:
            rows = [(int(r["n"]), float(r["latency_ms"]), int(r["status"]), r["export"]) for r in csv.DictReader(f)]
        return rows, json.loads(summary.strip().splitlines()[-1])


def pct(values, p):
    if not values:
        return None
    s = sorted(values)
    k = (len(s) - 1) * p / 100
    lo, hi = int(k), min(int(k) + 1, len(s) - 1)
    return s[lo] + (s[hi] - s[lo]) * (k - lo)


def med(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


# ---- the run ----------------------------------------------------------------------------------

class Bench:
    def __init__(self, a):
        self.a = a
        q = a.quick
        self.latency = a.latency_ms
        self.levels = [int(x) for x in a.levels.split(",")]
        self.runs = a.runs or (1 if q else 3)
        self.cold_runs = a.cold_runs or (1 if q else 3)
        self.warmup = 100 if q else 1500
        self.max_s = 15 if q else 60
        self.requests = (lambda c: max(c, 5)) if q else (lambda c: max(2 * c, 30))
        self.tput_n, self.tput_s, self.tput_c = (200, 5, 16) if q else (3000, 15, 32)
        self.results = {"overhead": [], "throughput": [], "cold_start": {}, "rss": {}, "delivery": [],
                        "traces": {}, "unavailable": {}}
        self.procs = []

    def fake(self, **config):
        return post_json(f"{self.fake_url}/_fake/config", config)

    def fake_calls(self):
        return json.loads(urllib.request.urlopen(f"{self.fake_url}/_fake/config", timeout=10).read())["recorded_requests"]

    def experiment(self, name):
        return post_json(f"{self.mlflow_url}/api/2.0/mlflow/experiments/create", {"name": name})["experiment_id"]

    def setup(self):
        os.makedirs(f"{ROOT}/target/bench-compare", exist_ok=True)
        for d in os.listdir(f"{ROOT}/target/bench-compare"):
            if d.startswith("spool-"):  # a spool left by an earlier run would deliver into this run's experiments
                shutil.rmtree(f"{ROOT}/target/bench-compare/{d}")
        self.load = Load(self.a.out_dir)
        fake_port = free_port()
        self.procs.append(start_fake(fake_port, "--latency-ms", "0", "--threads", "1200"))
        self.fake_url = f"http://127.0.0.1:{fake_port}"
        wait_up(f"{self.fake_url}/_fake/config")
        pool = {"MLFLOW_SQLALCHEMYSTORE_POOLCLASS": self.a.mlflow_pool} if self.a.mlflow_pool else {}
        mlflow, self.mlflow_url = start_mlflow("bench-compare-mlflow", self.a.mlflow_workers, pool)
        self.procs.append(mlflow)
        tool, self.tool_url = self.load.tool_server()
        self.procs.append(tool)
        self.sides = self.make_sides()

    # -- sides --

    def make_sides(self):
        venv = sys.prefix
        base = dict(os.environ, ANTHROPIC_BASE_URL=self.fake_url, ANTHROPIC_API_KEY="bench-key")
        for k in ("MLFLOW_TRACKING_URI", "MLFLOW_EXPERIMENT_ID", "MLFLOW_EXPERIMENT_NAME", "ANTHROPIC_AUTH_TOKEN"):
            base.pop(k, None)
        sides = []
        cli = self.claude_cli()

        def agentfn_env(key, cli=None):
            exp = self.experiment(f"bench-{self.load.run_id}-{key}")

            def env(traced):
                # An environment variable, not -D: a build without the engine rejects unknown agentfn.* properties.
                e = dict(base, **({"AGENTFN_CLAUDE_CODE_CLI_PATH": cli} if cli else {}), QUARKUS_LOG_LEVEL="WARN",
                         AGENTFN_TRACING_SPOOL_DIRECTORY=self.spool(key),
                         # redeliver spooled traces within seconds, so scenario 6 can count them at the end
                         AGENTFN_TRACING_SPOOL_DRAIN_INTERVAL="2s", AGENTFN_TRACING_SPOOL_DRAIN_BATCH="500")
                if traced:
                    e.update(MLFLOW_TRACKING_URI=self.mlflow_url, MLFLOW_EXPERIMENT_ID=exp)
                return e
            return env

        def agentfn_body(engine):
            def body(workload, token):
                b = {"prompt": f"bench {token}", "tools": ["weather"] if workload == "tool" else []}
                if engine:
                    b = {"prompt": f"bench {token}", "engine": engine}
                return json.dumps(b)
            return body

        props = [f"-Dagentfn.tools.http.weather.url={self.tool_url}",
                 "-Dagentfn.tools.http.weather.description=Current weather for a city",
                 '-Dagentfn.tools.http.weather.input-schema={"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}',
                 "-Dagentfn.tools.allowed-hosts=127.0.0.1"]
        jar = ["-jar", f"{APP}/quarkus-run.jar"]
        cds = ["-XX:SharedArchiveFile=app-cds.jsa", "-Xshare:auto"] if os.path.exists(f"{APP}/app-cds.jsa") else []
        jfr = [f"-XX:StartFlightRecording=filename={ROOT}/target/bench-compare/agentfn-jdk17.jfr,settings=profile,dumponexit=true"] \
            if self.a.jfr else []
        sides.append(Side("agentfn-jdk17", "agentfn, JDK 17" + (" + AppCDS" if cds else ""), "agentfn",
                          ["java", *cds, *jfr, *props, *jar], agentfn_env("agentfn-jdk17"), agentfn_body(None),
                          cwd=APP, pair="peer-messages"))
        if os.path.exists(JDK25) and not self.a.no_jdk25:
            aot = f"{ROOT}/target/bench-compare/app.aot"
            sides.append(Side("agentfn-jdk25", "agentfn, Temurin 25 + AOT cache", "agentfn",
                              [JDK25, f"-XX:AOTCache={aot}", *props, *jar], agentfn_env("agentfn-jdk25"),
                              agentfn_body(None), cwd=APP, pair="peer-messages",
                              prepare=lambda s: self.train_aot(s, aot)))
        peer_cmd = [f"{venv}/bin/uvicorn", "--host", "127.0.0.1", "--port", "{port}", "--workers", str(PEER_WORKERS),
                    "--app-dir", f"{ROOT}/bench/peers", "--log-level", "warning", "--no-access-log"]

        def peer_env(key):
            exp_name = f"bench-{self.load.run_id}-{key}"
            self.experiment(exp_name)

            def env(traced):
                e = dict(base, MLFLOW_TRACKING_URI=self.mlflow_url, MLFLOW_EXPERIMENT_NAME=exp_name,
                         BENCH_TOOL_URL=self.tool_url, PEER_TRACING="on" if traced else "off",
                         CLAUDE_CLI_PATH=cli or "", PEER_DELIVERY=self.a.peer_delivery)
                return e
            return env

        def peer_body(workload, token):
            return json.dumps({"prompt": f"bench {token}", **({"tools": ["weather"]} if workload == "tool" else {})})

        sides.append(Side("peer-messages", f"Python: FastAPI + anthropic SDK + autolog ({PEER_WORKERS} uvicorn workers)",
                          "peer", [*peer_cmd, "messages_service:app"], peer_env("peer-messages"), peer_body,
                          cwd=f"{ROOT}/target/bench-compare"))  # MLflow's Claude tracing log lands in cwd/.claude
        if not self.a.no_claude_code:
            cc_levels = [c for c in self.levels if c <= self.a.cc_max_concurrency]
            sides.append(Side("agentfn-cc", "agentfn claude-code engine, JDK 17", "agentfn",
                              ["java", *cds, *props, *jar], agentfn_env("agentfn-cc", cli),
                              agentfn_body("claude-code"), cwd=APP, workloads=("plain",), levels=cc_levels,
                              pair="peer-agent-sdk"))
            sides.append(Side("peer-agent-sdk", f"Python: FastAPI + Claude Agent SDK + autolog ({PEER_WORKERS} uvicorn workers)",
                              "peer", [*peer_cmd, "agent_sdk_service:app"], peer_env("peer-agent-sdk"), peer_body,
                              cwd=f"{ROOT}/target/bench-compare",
                              workloads=("plain",), levels=cc_levels))
        only = set(self.a.sides.split(",")) if self.a.sides else None
        return [s for s in sides if not only or s.key in only]

    @staticmethod
    def spool(key):
        return f"{ROOT}/target/bench-compare/spool-{key}"

    def drain_spools(self, sides, max_s=300):
        """Waits until every traced agentfn's spool is empty (traces MLflow did not confirm within 2 s)."""
        end = time.time() + max_s
        left = {}
        while time.time() < end:
            left = {s.key: len(os.listdir(self.spool(s.key))) if os.path.isdir(self.spool(s.key)) else 0
                    for s in sides if s.kind == "agentfn"}
            if not any(left.values()):
                break
            time.sleep(2)
        self.results["spool_left"] = left
        print(f"  spooled traces still waiting: {left}", flush=True)

    def claude_cli(self):
        setup = f"{ROOT}/.ci/setup-claude-code.sh"
        if os.path.exists(setup):
            r = subprocess.run(["bash", setup], capture_output=True, text=True)
            if r.returncode == 0:
                return r.stdout.strip().splitlines()[-1]
        path = os.path.expanduser("~/.cache/agentfn/claude-code-2.1.330/claude")
        return path if os.access(path, os.X_OK) else None  # None: the Agent SDK uses its bundled CLI

    def train_aot(self, side, aot):
        """JDK 25 AOT cache from a training run of a few invocations (JEP 483/515), as bench/cold_start.py does."""
        if os.path.exists(aot):
            os.remove(aot)
        saved, side.cmd = side.cmd, [c if not c.startswith("-XX:AOTCache=") else f"-XX:AOTCacheOutput={aot}"
                                     for c in side.cmd]
        side.start()
        for i in range(50):
            tok = self.load.token(side, f"aot{i}")
            first_answer(side.url(), side.body("plain", tok).encode())
            side.ok_tokens.append(tok)
        side.stop(wait_s=180)  # the JVM writes the cache while it exits
        side.cmd = saved
        if not os.path.exists(aot):
            raise SystemExit("the JDK wrote no AOT cache")

    # -- scenarios --

    def cold_start(self, side):
        """Scenario 3: each start answers one plain invocation (no model latency, traced)."""
        self.fake(latency_ms=0, scenario="echo")
        for i in range(self.cold_runs):
            t0 = side.start()
            body = side.body("plain", self.load.token(side, f"cold{i}")).encode()
            try:
                answer = first_answer(side.url(), body, deadline_s=180)
            except SystemExit:
                answer = None
            if answer is None:
                side.stop()
                raise SystemExit(f"{side.label} did not answer its first invocation")
            side.cold_ms.append((time.monotonic() - t0) * 1000)
            side.ok_tokens.append(self.load.token(side, f"cold{i}"))
            if i < self.cold_runs - 1:
                side.stop()  # the last one stays up for the probe
        print(f"  cold start {side.key}: {[round(x) for x in side.cold_ms]} ms", flush=True)

    def probe(self, side):
        """agentfn answers 400 for an engine it does not have (before the claude-code engine is merged)."""
        req = urllib.request.Request(side.url(), data=side.body("plain", "probe").encode(),
                                     headers={"content-type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=120) as r:
                return None if r.status == 200 else f"HTTP {r.status}"
        except urllib.error.HTTPError as e:
            return f"HTTP {e.code}: {e.read()[:300].decode(errors='replace')}"
        except Exception as e:
            return str(e)

    def measure(self, side, workload, c, n, max_s, traced, record):
        scripted_turns = 3 if workload == "tool" else 1
        before = self.fake_calls()
        rows, summary = self.load.run(side, workload, c, n, max_s)
        calls = self.fake_calls() - before
        ok = [r for r in rows if r[2] == 200]
        if traced:
            side.ok_tokens.extend(self.load.token(side, r[0]) for r in ok)
        model_ms = scripted_turns * self.fake_latency
        over = [r[1] - model_ms for r in ok]
        row = {"side": side.key, "workload": workload, "concurrency": c, "traced": traced, "requests": n,
               "sent": len(rows), "ok": len(ok), "non_200": len(rows) - len(ok),
               "statuses": sorted({r[2] for r in rows if r[2] != 200}), "wall_s": summary["wall_s"],
               "export": {e: sum(1 for r in ok if r[3] == e) for e in sorted({r[3] for r in ok if r[3]})},
               "model_calls_per_invocation": round(calls / len(rows), 2) if rows else None,
               "scripted_model_ms": model_ms,
               "p50": pct(over, 50), "p95": pct(over, 95), "p99": pct(over, 99)}
        if record is not None:
            record.append(row)
        return row

    def warm(self, side, traced):
        self.fake(latency_ms=0)
        for w in side.workloads:
            self.fake(scenario="tool-loop" if w == "tool" else "echo", tool_rounds=2)
            self.measure(side, w, 16, self.warmup // len(side.workloads), min(self.max_s, 30), traced, None)

    def throughput(self, side, traced, run):
        self.fake(latency_ms=0, scenario="echo")
        row = self.measure(side, "plain", self.tput_c, self.tput_n, self.tput_s, traced, None)
        self.results["throughput"].append({"side": side.key, "traced": traced, "run": run, "ok": row["ok"],
                                           "non_200": row["non_200"], "concurrency": self.tput_c,
                                           "per_s": row["ok"] / max(row["wall_s"], 0.001)})

    def overhead(self, side, traced, run, levels, record):
        self.fake(latency_ms=self.fake_latency)
        for w in side.workloads:
            self.fake(scenario="tool-loop" if w == "tool" else "echo", tool_rounds=2)
            for c in levels:
                sampler = RssSampler(side.proc.pid) if (traced and c == max(levels)) else None
                if sampler:
                    with sampler:
                        row = self.measure(side, w, c, self.requests(c), self.max_s, traced, record)
                    side.rss_peak_mb = max(side.rss_peak_mb or 0, sampler.peak)
                else:
                    row = self.measure(side, w, c, self.requests(c), self.max_s, traced, record)
                row["run"] = run
                print(f"  {side.key:15} {'traced' if traced else 'untraced':8} {w:5} c={c:<3} run {run}: "
                      f"ok {row['ok']}/{row['sent']} p50 {fmt(row['p50'])} p99 {fmt(row['p99'])} ms "
                      f"(model calls/inv {row['model_calls_per_invocation']})", flush=True)

    def traces(self, side):
        """Scenario 6: every answered traced invocation has exactly one trace in the side's experiment."""
        from mlflow import MlflowClient
        client = MlflowClient(self.mlflow_url)
        exp = client.get_experiment_by_name(f"bench-{self.load.run_id}-{side.key}").experiment_id
        found, token, pages, untokened = {}, None, 0, 0
        pattern = re.compile(r"req-" + self.load.run_id + "-" + re.escape(side.key) + r"-(\w+)")
        while True:
            page = client.search_traces(locations=[exp], max_results=500, page_token=token, include_spans=False)
            for t in page:
                m = pattern.search(t.info.request_preview or "")
                if m:
                    found[m.group(0)] = found.get(m.group(0), 0) + 1
                else:
                    untokened += 1
            pages += 1
            token = page.token
            if not token:
                break
        expected = set(side.ok_tokens)
        return {"answered": len(expected), "traces": sum(found.values()) + untokened,
                "missing": len(expected - set(found)), "duplicated": sum(1 for v in found.values() if v > 1),
                "extra": len(set(found) - expected) + untokened}

    def run(self):
        self.setup()
        self.fake_latency = self.latency
        live = []
        try:
            for side in self.sides:
                if side.prepare:
                    print(f"== preparing {side.key}", flush=True)
                    side.prepare(side)
                if side.kind == "agentfn" and '"engine"' in side.body("plain", "x"):
                    side.start()
                    try:
                        wait_up(f"http://127.0.0.1:{side.port}/q/health/ready", 180)
                        why = self.probe(side)
                    except SystemExit:
                        why = "did not start: " + open(f"{ROOT}/target/bench-compare/{side.key}.log").read()[-300:]
                    side.stop()
                    if why:
                        side.unavailable = why
                        self.results["unavailable"][side.key] = why
                        print(f"  !! {side.label}: NOT AVAILABLE ({why}): every scenario skipped", flush=True)
                        continue
                print(f"== scenario 3 (cold start): {side.label}", flush=True)
                self.cold_start(side)
                live.append(side)
                side.stop()
            for side in live:  # all up at once, idle while another side is measured
                side.start()
                tok = self.load.token(side, "restart")
                first_answer(side.url(), side.body("plain", tok).encode(), deadline_s=180)
                side.ok_tokens.append(tok)
                self.warm(side, True)
            print("== scenarios 1, 4 and 5 (traced), runs interleaved side by side", flush=True)
            for run in range(self.runs):
                for side in live:
                    self.throughput(side, True, run)
                    self.overhead(side, True, run, side.levels or self.levels, self.results["overhead"])
            self.drain_spools(live)
            for side in live:
                side.stop()
            print("== scenario 2 (same services without tracing) and 5 untraced", flush=True)
            untraced_levels = [c for c in self.levels if c < max(self.levels)]
            for side in live:
                side.start(traced=False)
                first_answer(side.url(), side.body("plain", "untraced").encode(), deadline_s=180)
                self.warm(side, False)
            for run in range(self.runs):
                for side in live:
                    self.throughput(side, False, run)
                    self.overhead(side, False, run, [c for c in (side.levels or untraced_levels)
                                                     if c in untraced_levels], self.results["overhead"])
            for side in live:
                side.stop()
            print("== scenario 6 (traces in MLflow)", flush=True)
            for side in live:
                self.results["traces"][side.key] = self.traces(side)
                print(f"  {side.key}: {self.results['traces'][side.key]}", flush=True)
        finally:
            for side in self.sides:
                side.stop()
            stop_all(self.procs)
        for side in self.sides:
            self.results["cold_start"][side.key] = side.cold_ms
            self.results["rss"][side.key] = side.rss_peak_mb
        return self.sides


def fmt(x, digits=1):
    return "–" if x is None else f"{x:.{digits}f}"


# ---- report -----------------------------------------------------------------------------------

def versions(bench):
    from importlib.metadata import version
    def java_version(j):
        return sh([j, "-version"]).splitlines()[0] if os.path.exists(j) or j == "java" else "n/a"
    cli = bench.claude_cli()
    return {
        "agentfn": re.search(r"<version>([^<]+)</version>", open(f"{ROOT}/pom.xml").read().split("</parent>")[-1]).group(1),
        "git_commit": sh(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"]),
        "jdk17": java_version("java"), "jdk25": java_version(JDK25),
        "python": platform.python_version(),
        **{p: version(p) for p in ("mlflow", "anthropic", "claude-agent-sdk", "fastapi", "uvicorn", "uvloop", "httptools")},
        "claude_code_cli": sh([cli, "--version"]) if cli else "bundled with claude-agent-sdk",
    }


def machine():
    cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
    mem = next(int(l.split()[1]) for l in open("/proc/meminfo") if l.startswith("MemTotal")) / 1024 / 1024
    return {"cpus": os.cpu_count(), "cpu": cpu, "memory_gb": round(mem, 1), "kernel": platform.release(),
            "os": sh(["sh", "-c", ". /etc/os-release; echo $PRETTY_NAME"]), "loadavg": open("/proc/loadavg").read().split()[:3]}


def summarize(bench, sides):
    r = bench.results
    labels = {s.key: s.label for s in sides}
    live = [s for s in sides if not s.unavailable and (s.key in r["traces"])]

    def runs_of(side, w, c, traced):
        return [x for x in r["overhead"] if x["side"] == side and x["workload"] == w and x["concurrency"] == c
                and x["traced"] == traced]

    overhead = []
    for s in live:
        for w in s.workloads:
            for traced in (True, False):
                for c in (s.levels or bench.levels):
                    rs = runs_of(s.key, w, c, traced)
                    if rs:
                        overhead.append({"side": s.key, "workload": w, "concurrency": c, "traced": traced,
                                         "runs": len(rs), "ok": sum(x["ok"] for x in rs), "sent": sum(x["sent"] for x in rs),
                                         "model_calls_per_invocation": med([x["model_calls_per_invocation"] for x in rs]),
                                         "export": sum_counts(x.get("export", {}) for x in rs),
                                         **{p: med([x[p] for x in rs]) for p in ("p50", "p95", "p99")}})

    def ov(side, w, c, traced, p):
        return next((x[p] for x in overhead if x["side"] == side and x["workload"] == w and x["concurrency"] == c
                     and x["traced"] == traced), None)

    ratios, delivery = [], []
    for s in live:
        for w in s.workloads:
            for c in (s.levels or bench.levels):
                rs = runs_of(s.key, w, c, False)
                if rs:
                    delivery.append({"side": s.key, "workload": w, "concurrency": c,
                                     "p50": diff(ov(s.key, w, c, True, "p50"), ov(s.key, w, c, False, "p50")),
                                     "p99": diff(ov(s.key, w, c, True, "p99"), ov(s.key, w, c, False, "p99"))})
    by_key = {s.key: s for s in live}
    for s in live:
        peer = by_key.get(s.pair)
        if not peer:
            continue
        for w in s.workloads:
            for c in (s.levels or bench.levels):
                a_runs, p_runs = runs_of(s.key, w, c, True), runs_of(peer.key, w, c, True)
                row = {"agentfn": s.key, "peer": peer.key, "workload": w, "concurrency": c}
                for p in ("p50", "p99"):
                    pairs = [ratio(x[p], y[p]) for x, y in zip(sorted(a_runs, key=lambda x: x["run"]),
                                                               sorted(p_runs, key=lambda x: x["run"]))]
                    row[f"{p}_ratio"] = med(pairs)
                ratios.append(row)
    cold = {k: {"median_ms": med(v), "all_ms": [round(x) for x in v]} for k, v in r["cold_start"].items() if v}
    tput = {}
    for s in live:
        for traced in (True, False):
            xs = [x["per_s"] for x in r["throughput"] if x["side"] == s.key and x["traced"] == traced]
            tput.setdefault(s.key, {})["traced" if traced else "untraced"] = med(xs)
    goals = []
    for s in live:
        peer = by_key.get(s.pair)
        if not peer:
            continue
        top = max(s.levels or bench.levels)
        for w in s.workloads:
            row = next((x for x in ratios if x["agentfn"] == s.key and x["workload"] == w and x["concurrency"] == top), None)
            if row:
                goals.append(goal(f"{labels[s.key]} vs {peer.key}: overhead p99 at concurrency {top}, {w}",
                                  row["p99_ratio"], GOALS["overhead_p99_c256"]))
            for p in ("p50", "p99"):
                d = [x for x in delivery if x["workload"] == w and x["concurrency"] == 1]
                a = next((x[p] for x in d if x["side"] == s.key), None)
                b = next((x[p] for x in d if x["side"] == peer.key), None)
                goals.append(goal(f"{labels[s.key]} vs {peer.key}: trace delivery {p} at concurrency 1, {w}",
                                  ratio(a, b), GOALS["delivery"]))
        goals.append(goal(f"{labels[s.key]} vs {peer.key}: cold start", ratio(cold.get(s.key, {}).get("median_ms"),
                          cold.get(peer.key, {}).get("median_ms")), GOALS["cold_start"]))
    for s in live:
        if s.kind == "agentfn":
            t = r["traces"][s.key]
            goals.append({"goal": f"{labels[s.key]}: traces lost or duplicated", "value": t["missing"] + t["duplicated"],
                          "limit": 0, "met": t["missing"] == 0 and t["duplicated"] == 0})
    return {"overhead": overhead, "ratios": ratios, "delivery": delivery, "cold_start": cold, "throughput": tput,
            "rss_peak_mb": {k: v for k, v in r["rss"].items() if v}, "traces": r["traces"], "goals": goals,
            "spool_left_before_count": r.get("spool_left", {}),
            "unavailable": r["unavailable"], "labels": labels}


def sum_counts(dicts):
    out = {}
    for d in dicts:
        for k, v in d.items():
            out[k] = out.get(k, 0) + v
    return out


def diff(a, b):
    return None if a is None or b is None else a - b


def ratio(a, b):
    return None if a is None or b is None or b <= 0 else a / b


def goal(name, value, limit):
    return {"goal": name, "value": value, "limit": limit, "met": value is not None and value <= limit}


def charts(summary, out_dir, bench):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    labels, files = summary["labels"], {}
    sides = list(dict.fromkeys(x["side"] for x in summary["overhead"]))

    # overhead percentiles by concurrency, plain and tool loop
    fig, axes = plt.subplots(2, 2, figsize=(12, 8))
    for i, w in enumerate(("plain", "tool")):
        for j, p in enumerate(("p50", "p99")):
            ax = axes[i][j]
            cs = bench.levels
            width = 0.8 / max(len(sides), 1)
            for k, s in enumerate(sides):
                ys = [next((x[p] for x in summary["overhead"] if x["side"] == s and x["workload"] == w
                            and x["concurrency"] == c and x["traced"]), None) for c in cs]
                xs = [n + k * width for n in range(len(cs))]
                ax.bar(xs, [max(y, 0.1) if y is not None else 0 for y in ys], width, label=labels[s])
            ax.set_xticks([n + width * (len(sides) - 1) / 2 for n in range(len(cs))], [f"c={c}" for c in cs])
            ax.set_yscale("log")
            ax.set_title(f"overhead {p} (ms, log), {'plain answer' if w == 'plain' else '3-turn tool loop'}")
    axes[0][0].legend(fontsize=7)
    fig.tight_layout()
    files["overhead"] = save(fig, out_dir, "overhead.png")

    def bars(name, title, values, ylabel):
        fig, ax = plt.subplots(figsize=(9, 4))
        keys = [k for k in values if values[k] is not None]
        ax.barh([labels[k] for k in keys], [values[k] for k in keys],
                color=["tab:blue" if k.startswith("agentfn") else "tab:orange" for k in keys])
        for y, k in enumerate(keys):
            ax.text(values[k], y, f" {values[k]:.0f}", va="center", fontsize=8)
        ax.set_xlabel(ylabel)
        ax.set_title(title)
        fig.tight_layout()
        files[name] = save(fig, out_dir, f"{name}.png")

    d = {f"{x['side']}|{x['workload']}|{p}": x[p] for x in summary["delivery"] if x["concurrency"] == 1
         for p in ("p50", "p99")}
    fig, ax = plt.subplots(figsize=(10, 4.5))
    names = list(d)
    ax.barh([f"{labels[n.split('|')[0]]}, {n.split('|')[1]}, {n.split('|')[2]}" for n in names],
            [d[n] or 0 for n in names], color=["tab:blue" if n.startswith("agentfn") else "tab:orange" for n in names])
    ax.set_xlabel("ms (traced − untraced overhead, concurrency 1)")
    ax.set_title("Trace delivery before return")
    fig.tight_layout()
    files["delivery"] = save(fig, out_dir, "delivery.png")
    bars("cold_start", "Cold start: process start to first answered invocation (median)",
         {k: v["median_ms"] for k, v in summary["cold_start"].items()}, "ms")
    bars("rss", "Peak RSS of the process tree at the highest concurrency (256; Claude Code pair: %d)"
         % bench.a.cc_max_concurrency,
         summary["rss_peak_mb"], "MB")
    bars("throughput", "Throughput with zero model latency, traced (answered invocations/s)",
         {k: v.get("traced") for k, v in summary["throughput"].items()}, "invocations/s")
    plt.close("all")
    return files


def save(fig, out_dir, name):
    fig.savefig(f"{out_dir}/{name}", dpi=90)
    return name


def markdown(summary, meta, files, bench):
    L = summary["labels"]
    out = [f"Run of {meta['date']} ({'--quick: smoke test, numbers meaningless' if bench.a.quick else 'full run'}; "
           f"{meta['note']}). Fake model latency {bench.latency} ms per model call; {bench.runs} run(s) per point, "
           "medians; ratios agentfn/peer computed run by run, then the median.", ""]
    for name in ("overhead", "delivery", "cold_start", "rss", "throughput"):
        if name in files:
            out.append(f"![{name}](benchmarks/{files[name]})")
    out += ["", "**Goals** (issue 7, ratios agentfn/peer in this run):", "", "| Goal | Value | Limit | Met |", "|---|---:|---:|---|"]
    for g in summary["goals"]:
        out.append(f"| {g['goal']} | {fmt(g['value'], 2)} | {g['limit']} | {'yes' if g['met'] else '**NO**'} |")
    for k, why in summary["unavailable"].items():
        out.append(f"| {L[k]} | **not available**: {why} | | skipped |")
    out += ["", "**Scenario 1: overhead per invocation** (response time − scripted model time, ms; traced):", "",
            "| Side | Workload | Concurrency | Answered/sent | agentfn export | Model calls/inv | p50 | p95 | p99 |",
            "|---|---|---:|---:|---|---:|---:|---:|---:|"]
    for x in summary["overhead"]:
        if x["traced"]:
            exp = ", ".join(f"{k} {v}" for k, v in x["export"].items()) or "–"
            out.append(f"| {L[x['side']]} | {x['workload']} | {x['concurrency']} | {x['ok']}/{x['sent']} | {exp} | "
                       f"{fmt(x['model_calls_per_invocation'], 2)} | {fmt(x['p50'])} | {fmt(x['p95'])} | {fmt(x['p99'])} |")
    for k, why in summary["unavailable"].items():
        out.append(f"| {L[k]} | – | – | **not available** | | | | | |")
    out += ["", "**Ratios agentfn/peer** (overhead, traced; < 1 means agentfn adds less):", "",
            "| agentfn | Peer | Workload | Concurrency | p50 ratio | p99 ratio |", "|---|---|---|---:|---:|---:|"]
    for x in summary["ratios"]:
        out.append(f"| {L[x['agentfn']]} | {L[x['peer']]} | {x['workload']} | {x['concurrency']} | "
                   f"{fmt(x['p50_ratio'], 2)} | {fmt(x['p99_ratio'], 2)} |")
    out += ["", "**Scenario 2: trace delivery before return** (overhead traced − overhead untraced, same service "
            "restarted without tracing, ms):", "", "| Side | Workload | Concurrency | p50 | p99 |", "|---|---|---:|---:|---:|"]
    for x in summary["delivery"]:
        out.append(f"| {L[x['side']]} | {x['workload']} | {x['concurrency']} | {fmt(x['p50'])} | {fmt(x['p99'])} |")
    out += ["", "**Scenarios 3–6:**", "", "| Side | Cold start median (all), ms | Peak RSS at top concurrency (%d; CC pair lower), MB | "
            "Throughput traced / untraced, inv/s | Spooled traces left before counting | Traces: answered / in MLflow / missing / duplicated / extra |" % max(bench.levels),
            "|---|---|---:|---:|---:|---|"]
    for k in L:
        if k in summary["unavailable"]:
            out.append(f"| {L[k]} | not available | | | | |")
            continue
        c, t, tp = summary["cold_start"].get(k), summary["traces"].get(k), summary["throughput"].get(k, {})
        out.append(f"| {L[k]} | {fmt(c and c['median_ms'], 0)} ({', '.join(map(str, c['all_ms'])) if c else ''}) | "
                   f"{fmt(summary['rss_peak_mb'].get(k), 0)} | {fmt(tp.get('traced'), 0)} / {fmt(tp.get('untraced'), 0)} | "
                   f"{summary['spool_left_before_count'].get(k, '–')} | "
                   + (f"{t['answered']} / {t['traces']} / {t['missing']} / {t['duplicated']} / {t['extra']} |" if t else " |"))
    out += ["", "Versions: " + ", ".join(f"{k} {v}" for k, v in meta["versions"].items()) + ".",
            f"Machine: {meta['machine']['cpus']} × {meta['machine']['cpu']}, {meta['machine']['memory_gb']} GB, "
            f"{meta['machine']['os']}, kernel {meta['machine']['kernel']}; load average before/after "
            f"{' '.join(meta['machine']['loadavg'])} / {' '.join(meta['loadavg_after'])}. Duration {meta['duration_s']:.0f} s.",
            "", "Commands:", "", "```", meta["command"]] + [f"{k}: {v}" for k, v in meta["side_commands"].items()] + ["```"]
    return "\n".join(out) + "\n"


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="smoke test: few requests, one run")
    ap.add_argument("--latency-ms", type=int, default=None, help="fake model latency per model call (default 200; quick 50)")
    ap.add_argument("--levels", default="1,16,256")
    ap.add_argument("--runs", type=int, default=None, help="runs per point (default 3; quick 1)")
    ap.add_argument("--cold-runs", type=int, default=None, help="cold starts per side (default 3; quick 1)")
    ap.add_argument("--sides", default=None, help="comma-separated subset: agentfn-jdk17,agentfn-jdk25,peer-messages,agentfn-cc,peer-agent-sdk")
    ap.add_argument("--no-jdk25", action="store_true")
    ap.add_argument("--no-claude-code", action="store_true", help="skip the Claude Code pair")
    ap.add_argument("--cc-max-concurrency", type=int, default=16,
                    help="highest level for the Claude Code pair: each invocation is a CLI process (~100+ MB)")
    ap.add_argument("--mlflow-workers", type=int, default=1)
    ap.add_argument("--mlflow-pool", default="NullPool",
                    help="MLFLOW_SQLALCHEMYSTORE_POOLCLASS of the MLflow server; '' = MLflow's default QueuePool, "
                         "which stopped answering under 256 concurrent trace writes (see docs/benchmarks.md)")
    ap.add_argument("--peer-delivery", choices=("sync", "flush"), default="sync",
                    help="how the Messages peer delivers its trace before answering (bench/peers/messages_service.py)")
    ap.add_argument("--jfr", action="store_true", help="JFR profile of agentfn (JDK 17) into target/bench-compare/")
    ap.add_argument("--note", default="shared machine: other work ran at the same time, numbers are noisy")
    ap.add_argument("--out-dir", default=f"{ROOT}/docs/benchmarks")
    ap.add_argument("--no-doc", action="store_true", help="do not refresh the generated block of docs/benchmarks.md")
    a = ap.parse_args()
    if a.latency_ms is None:
        a.latency_ms = 50 if a.quick else 200
    command = "python3 bench/compare.py " + " ".join(shlex.quote(x) for x in sys.argv[1:])
    ensure_venv()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # so the finally blocks stop every process
    if not os.path.exists(f"{APP}/quarkus-run.jar"):
        subprocess.run([f"{ROOT}/mvnw", "-q", "-B", "package", "-DskipTests",
                        "-Dquarkus.package.jar.appcds.enabled=true"], cwd=ROOT, check=True)
    os.makedirs(a.out_dir, exist_ok=True)
    started, meta_machine = time.time(), machine()
    bench = Bench(a)
    sides = bench.run()
    summary = summarize(bench, sides)
    meta = {"date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"), "note": a.note,
            "command": command, "versions": versions(bench), "machine": meta_machine,
            "loadavg_after": open("/proc/loadavg").read().split()[:3], "duration_s": time.time() - started,
            "side_commands": {s.key: s.command_line() for s in sides},
            "settings": {"latency_ms": bench.latency, "levels": bench.levels, "runs": bench.runs,
                         "cold_runs": bench.cold_runs, "warmup": bench.warmup, "max_seconds_per_level": bench.max_s,
                         "throughput": {"requests": bench.tput_n, "seconds": bench.tput_s, "concurrency": bench.tput_c},
                         "peer_workers": PEER_WORKERS, "peer_delivery": a.peer_delivery, "mlflow_workers": a.mlflow_workers, "mlflow_pool": a.mlflow_pool, "quick": a.quick}}
    files = charts(summary, a.out_dir, bench)
    md = markdown(summary, meta, files, bench)
    with open(f"{a.out_dir}/compare.json", "w") as f:
        json.dump({"meta": meta, "summary": summary, "raw": bench.results}, f, indent=1, default=str)
    with open(f"{a.out_dir}/compare.md", "w") as f:
        f.write(md)
    if not a.no_doc:
        doc = f"{ROOT}/docs/benchmarks.md"
        text = open(doc).read()
        begin, end = "<!-- compare:begin (generated by bench/compare.py) -->", "<!-- compare:end -->"
        if begin in text and end in text:
            text = text[:text.index(begin) + len(begin)] + "\n" + md + text[text.index(end):]
            with open(doc, "w") as f:
                f.write(text)
    print(md)
    failed = [g for g in summary["goals"] if not g["met"]]
    print(f"{len(summary['goals']) - len(failed)} goals met, {len(failed)} not met; "
          f"not available: {', '.join(summary['unavailable']) or 'none'}")


if __name__ == "__main__":
    main()
