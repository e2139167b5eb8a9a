#!/usr/bin/env python3
"""agentfn beside the Python MLflow stack a team would deploy instead (issue 7), in one run on one machine.

Starts the fake Messages API (fixed model latency), one local MLflow 3.17.2 server (on a throwaway PostgreSQL
15 cluster with 4 workers by default, --mlflow-backend sqlite for the tests' set-up), the HTTP tool both
sides call, agentfn (JVM: JDK 17 + AppCDS, Temurin 25 + AOT cache) and the Python peers from bench/peers/
(installed into a cached venv by bench/peers/setup.sh), then runs the scenarios of issue 7 and writes
docs/benchmarks/compare.{md,json} and PNG charts, and refreshes the generated block of docs/benchmarks.md.
Load comes from bench/LoadGen.java (a second process, loopback, bounded in count and time). Every side runs
as two processes kept up for the whole run, one traced and one untraced (the last cold start is the traced
one); sides take turns (the others idle), runs interleaved side by side so drift on a shared machine hits
every side alike; p50 = median of the runs, p95/p99 over the pooled samples (>= 100 for p99).

    python3 bench/compare.py            # full run: 3 runs, all five sides (aim: about 15 minutes on 2 cores)
    python3 bench/compare.py --quick    # smoke test: seconds per scenario, numbers meaningless

Scenarios: 1 overhead (response time - scripted model time) p50/p95/p99 at concurrency 1/16/256, plain
answer and 3-turn tool loop; 2 trace delivery before return (overhead traced - overhead untraced, the same
service started without tracing); 3 cold start (process start to first answered invocation); 4 peak RSS
(whole process tree) under scenario 1 at concurrency 256; 5 throughput ceiling with zero model latency
(traced and untraced); 6 traces in MLflow per side afterwards: every answered invocation has exactly one
trace (each prompt carries a unique token, found again in the trace's request preview). Each side's run
starts from a drained state (agentfn's spool empty, MLflow idle) and measures concurrency 1 before the
256 burst and the throughput ceiling, whose backlog is drained before the next measurement.
"""
import argparse, copy, csv, datetime, json, math, os, platform, re, shlex, shutil, signal, statistics, subprocess, sys, time
import urllib.error, urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import APP, MLFLOW_BACKENDS, ROOT, default_mlflow_workers, first_answer, free_port, peers_venv, \
    start_fake, tree_cpu_s, tree_cpu_split, RssSampler, \
    start_mlflow, stop_all, wait_up  # noqa: E402

JDK25 = "/usr/lib/jvm/temurin-25-jdk-amd64/bin/java"
CC_SIDES = ("agentfn-cc", "peer-agent-sdk")  # the Claude Code pair: one CLI process per invocation
PEER_WORKERS = 2  # uvicorn workers: one per core, what a team would run on this 2-core machine
GOALS = {"overhead_p99_c256": 0.2, "delivery": 0.7, "cold_start": 0.5}
# this build against --app (another build, e.g. the one before group commit; issue 20), each a ratio this/--app
# or --app/this that must stay at or under the limit
GOALS_APP = {"mlflow_cpu_top": 1 / 3, "throughput": 1 / 3, "delivery_c16": 0.5, "delivery_c1": 1.1}
MIN_SAMPLES = {"p50": 1, "p95": 20, "p99": 100}  # a percentile is reported only from at least this many samples


def ensure_venv():
    """Re-runs this script inside the peers' venv (matplotlib, MLflow client, the peers)."""
    venv = peers_venv()
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


# ---- processes ---------------------------------------------------------------------------------

class Side:
    """One system under test: how to start it and what to send it."""

    def __init__(self, key, label, kind, cmd, env, body, cwd=ROOT, workloads=("plain", "tool"), levels=None,
                 pair=None, prepare=None):
        self.key, self.label, self.kind, self.cmd, self.env, self.cwd = key, label, kind, cmd, env, cwd
        self.body, self.workloads, self.levels, self.pair, self.prepare = body, workloads, levels, pair, prepare
        self.proc, self.port, self.unavailable, self.cold_ms, self.rss_peak_mb = None, None, None, [], None
        self.ok_tokens = []  # unique request tokens answered 200 while traced (scenario 6)
        self.err_tokens = []  # tokens answered with an error while traced: a trace of the failure is allowed
        self.traced, self.twin = True, None

    def untraced_twin(self):
        """The same service started without tracing (scenario 2), kept up beside the traced one."""
        t = copy.copy(self)
        t.proc, t.port, t.traced, t.ok_tokens, t.err_tokens, t.twin = None, None, False, [], [], None
        self.twin = t
        return t

    def url(self):
        return f"http://127.0.0.1:{self.port}/v1/invocations"

    def start(self):
        self.port = free_port()
        env = dict(self.env(self.traced), PORT=str(self.port))
        cmd = [c.replace("{port}", str(self.port)) for c in self.cmd]
        t0 = time.monotonic()
        self.proc = subprocess.Popen(cmd, cwd=self.cwd, env=env, stdout=subprocess.DEVNULL,
                                     stderr=open(f"{ROOT}/target/bench-compare/{self.key}{'' if self.traced else '-untraced'}.log", "a"),
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
        # Untraced processes warm up fast (JIT); traced ones are capped so the warm-up burst is not a backlog.
        self.warmup = {"untraced": 100, "traced": 50, "peer": 10, "cc": 2} if q else \
            {"untraced": 1000, "traced": 300, "peer": 40, "cc": 4}
        self.max_s = 15 if q else 60
        # Samples per point, pooled over the runs: p99 needs 100 (MIN_SAMPLES). Each run of a level sends
        # max(concurrency, ceil(samples / runs)) requests; the Claude Code pair too (its peer needs ~2 s per
        # invocation, so its points at concurrency 1 get twice the time limit).
        self.samples = a.samples or (5 if q else 100)
        self.cc_samples = a.cc_samples or (2 if q else 100)
        self.tput_n, self.tput_s, self.tput_c = (200, 4, 16) if q else (2000, 5, 32)
        self.results = {"overhead": [], "throughput": [], "cold_start": {}, "rss": {}, "delivery": [],
                        "traces": {}, "unavailable": {}, "settle": []}
        self.procs = []
        self.timing, self.t0 = {}, time.monotonic()

    def requests(self, side, c):
        target = self.cc_samples if side.key in CC_SIDES and c == 1 else self.samples
        return max(c, math.ceil(target / self.runs))

    def timed(self, name, fn, *args):
        """Runs fn(*args), adds its wall time to the scenario's budget line, returns its result."""
        t = time.monotonic()
        try:
            return fn(*args)
        finally:
            self.timing[name] = self.timing.get(name, 0.0) + time.monotonic() - t

    def fake(self, **config):
        return post_json(f"{self.fake_url}/_fake/config", config)

    def fake_calls(self):
        return json.loads(urllib.request.urlopen(f"{self.fake_url}/_fake/config", timeout=10).read())["received_requests"]

    def experiment(self, name):
        return post_json(f"{self.mlflow_url}/api/2.0/mlflow/experiments/create", {"name": name})["experiment_id"]

    def setup(self):
        os.makedirs(f"{ROOT}/target/bench-compare", exist_ok=True)
        for d in os.listdir(f"{ROOT}/target/bench-compare"):
            if d.startswith("spool-"):  # a spool left by an earlier run would deliver into this run's experiments
                shutil.rmtree(f"{ROOT}/target/bench-compare/{d}")
        self.load = Load(self.a.out_dir)
        fake_port = free_port()
        # fake_calls() reads the fake's count of received requests, so it need keep none of them (start_fake: 100)
        self.procs.append(start_fake(fake_port, "--latency-ms", "0", "--threads", "1200"))
        self.fake_url = f"http://127.0.0.1:{fake_port}"
        wait_up(f"{self.fake_url}/_fake/config")
        pool = {"MLFLOW_SQLALCHEMYSTORE_POOLCLASS": self.a.mlflow_pool} if self.a.mlflow_pool else {}
        self.mlflow, self.mlflow_url = start_mlflow("bench-compare-mlflow", self.a.mlflow_workers, pool,
                                                    backend=self.a.mlflow_backend)
        self.procs.append(self.mlflow)
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
        cli = self.cli_path = self.claude_cli()

        def agentfn_env(key, cli=None):
            exp = self.experiment(f"bench-{self.load.run_id}-{key}")

            def env(traced):
                # An environment variable, not -D: a build without the engine rejects unknown agentfn.* properties.
                # agentfn.claude-code.max-processes (default 4, then 503) raised to the pair's top level:
                # the peer has no such limit, and both sides must run as many CLI processes at once.
                cc = {"AGENTFN_CLAUDE_CODE_CLI_PATH": cli,
                      "AGENTFN_CLAUDE_CODE_MAX_PROCESSES": str(self.a.cc_max_concurrency)} if cli else {}
                # The invocation deadline (default 25 s, then 504) up to the load generator's own 120 s: the
                # peers have none, and 16 CLI processes at once on 2 busy cores can take longer than 25 s.
                e = dict(base, **cc, QUARKUS_LOG_LEVEL="WARN", AGENTFN_INVOCATION_DEADLINE="120s",
                         AGENTFN_TRACING_SPOOL_DIRECTORY=self.spool(key, traced),
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
        def jfr(key):  # one recording per process, named by its port (JDK 17 does not expand %p here)
            return [f"-XX:StartFlightRecording=filename={ROOT}/target/bench-compare/{key}-{{port}}.jfr,"
                    "settings=profile,dumponexit=true"] if self.a.jfr else []
        sides.append(Side("agentfn-jdk17", "agentfn, JDK 17" + (" + AppCDS" if cds else ""), "agentfn",
                          ["java", *cds, *jfr("agentfn-jdk17"), *props, *jar], agentfn_env("agentfn-jdk17"), agentfn_body(None),
                          cwd=APP, pair="peer-messages"))
        if os.path.exists(JDK25) and not self.a.no_jdk25:
            aot = f"{ROOT}/target/bench-compare/app.aot"
            sides.append(Side("agentfn-jdk25", "agentfn, Temurin 25 + AOT cache", "agentfn",
                              [JDK25, f"-XX:AOTCache={aot}", *props, *jar], agentfn_env("agentfn-jdk25"),
                              agentfn_body(None), cwd=APP, pair="peer-messages",
                              prepare=lambda s: self.train_aot(s, aot)))
        if self.a.app:
            app = os.path.abspath(self.a.app)
            app_cds = ["-XX:SharedArchiveFile=app-cds.jsa", "-Xshare:auto"] if os.path.exists(f"{app}/app-cds.jsa") else []
            sides.append(Side("agentfn-app", f"agentfn --app {self.a.app_label or app}, JDK 17", "agentfn",
                              ["java", *app_cds, *jfr("agentfn-app"), *props, "-jar", f"{app}/quarkus-run.jar"],
                              agentfn_env("agentfn-app"), agentfn_body(None), cwd=app, pair="peer-messages"))
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
                              ["java", *cds, *jfr("agentfn-cc"), *props, *jar], agentfn_env("agentfn-cc", cli),
                              agentfn_body("claude-code"), cwd=APP, workloads=("plain",), levels=cc_levels,
                              pair="peer-agent-sdk"))
            sides.append(Side("peer-agent-sdk", f"Python: FastAPI + Claude Agent SDK + autolog ({PEER_WORKERS} uvicorn workers)",
                              "peer", [*peer_cmd, "agent_sdk_service:app"], peer_env("peer-agent-sdk"), peer_body,
                              cwd=f"{ROOT}/target/bench-compare",
                              workloads=("plain",), levels=cc_levels))
        only = set(self.a.sides.split(",")) if self.a.sides else None
        return [s for s in sides if not only or s.key in only]

    @staticmethod
    def spool(key, traced=True):
        return f"{ROOT}/target/bench-compare/spool-{key}{'' if traced else '-untraced'}"

    def spooled(self, sides):
        """Traces waiting in each traced agentfn's spool (one <time>-<trace id>+<write>.json file each; agentfn has
        no backlog metric, the directory is the truth)."""
        return {s.key: sum(1 for f in os.listdir(self.spool(s.key)) if f.endswith(".json"))
                if os.path.isdir(self.spool(s.key)) else 0 for s in sides if s.kind == "agentfn"}

    def mlflow_cpu_s(self):
        """CPU seconds used so far by the MLflow server's processes (master, workers; the PostgreSQL cluster)."""
        return tree_cpu_s(self.mlflow.pids())

    def settle(self, why, max_s=180):
        """Waits for a drained state: every traced agentfn's spool empty (the spooled traces of an earlier
        burst redelivered) and MLflow idle (its processes used < 5 % of a core in each of two 0.5 s
        windows), so the next measurement sees no backlog. Returns the seconds waited."""
        t0, end, quiet, left = time.monotonic(), time.monotonic() + max_s, 0, {}
        cpu = self.mlflow_cpu_s()
        while time.monotonic() < end:
            left = self.spooled(self.live)
            time.sleep(0.5)
            now = self.mlflow_cpu_s()
            quiet = quiet + 1 if not any(left.values()) and now - cpu < 0.025 else 0
            cpu = now
            if quiet >= 2:
                break
        waited = time.monotonic() - t0
        self.results["settle"].append({"before": why, "waited_s": round(waited, 1), "drained": quiet >= 2,
                                       "spooled_left": left})
        if waited > 1.5 or quiet < 2:
            print(f"  settle before {why}: {waited:.1f} s" + ("" if quiet >= 2 else f" (NOT drained: spooled {left})"),
                  flush=True)
        return waited

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
        """Scenario 3: each start answers one plain invocation (no model latency, traced). The first answer
        also tells whether the side can run at all (agentfn without an engine answers 400/503): then it is
        marked not available. The last start stays up: it is the traced process of every later scenario."""
        self.fake(latency_ms=0, scenario="echo")
        for i in range(self.cold_runs):
            t0 = side.start()
            tok = self.load.token(side, f"cold{i}")
            try:
                first_answer(side.url(), side.body("plain", tok).encode(), deadline_s=180, http_errors_final=True)
            except urllib.error.HTTPError as e:
                side.stop()
                return f"HTTP {e.code}: {e.read()[:300].decode(errors='replace')}"
            except SystemExit:
                side.stop()
                log = f"{ROOT}/target/bench-compare/{side.key}.log"
                return "did not answer its first invocation: " + (open(log).read()[-300:] if os.path.exists(log) else "")
            side.cold_ms.append((time.monotonic() - t0) * 1000)
            side.ok_tokens.append(tok)
            if i < self.cold_runs - 1:
                side.stop()
        print(f"  cold start {side.key}: {[round(x) for x in side.cold_ms]} ms", flush=True)
        return None

    def cpu_s(self, side):
        """CPU seconds used so far, by whom: the side's service itself, the Claude Code CLI processes it started
        (reaped ones included), the MLflow server (with PostgreSQL) and the fake."""
        own, cli = tree_cpu_split([side.proc.pid], self.cli_path if side.key in CC_SIDES else None)
        return {"service": own, "cli": cli, "mlflow": tree_cpu_split(self.mlflow.pids())[0],
                "fake": tree_cpu_split([self.procs[0].pid])[0]}

    def measure(self, side, workload, c, n, max_s, record):
        scripted_turns = 3 if workload == "tool" else 1
        before = self.fake_calls()
        cpu0 = self.cpu_s(side)
        rows, summary = self.load.run(side, workload, c, n, max_s)
        cpu1 = self.cpu_s(side)
        calls = self.fake_calls() - before
        ok = [r for r in rows if r[2] == 200]
        if side.traced:
            side.ok_tokens.extend(self.load.token(side, r[0]) for r in ok)
            side.err_tokens.extend(self.load.token(side, r[0]) for r in rows if r[2] != 200)
        model_ms = scripted_turns * self.fake_latency
        over = [r[1] - model_ms for r in ok]
        row = {"side": side.key, "workload": workload, "concurrency": c, "traced": side.traced, "requests": n,
               "sent": len(rows), "ok": len(ok), "non_200": len(rows) - len(ok),
               "statuses": sorted({r[2] for r in rows if r[2] != 200}), "wall_s": summary["wall_s"],
               "export": {e: sum(1 for r in ok if r[3] == e) for e in sorted({r[3] for r in ok if r[3]})},
               "model_calls_per_invocation": round(calls / len(rows), 2) if rows else None,
               "scripted_model_ms": model_ms,
               "p50": pct(over, 50), "p95": pct(over, 95), "p99": pct(over, 99),
               # where the machine's CPU went during the point (2 cores: a saturated point shows here)
               "cpu_ms_per_invocation": {k: round((cpu1[k] - cpu0[k]) * 1000 / len(rows), 1) for k in cpu0}
               if rows else None,
               "overhead_ms": [round(x, 2) for x in over]}  # pooled over the runs for p95/p99
        if record is not None:
            record.append(row)
        return row

    def warm(self, side):
        kind = "cc" if side.key in CC_SIDES else "peer" if side.kind == "peer" else \
            "traced" if side.traced else "untraced"
        n = self.warmup[kind]
        self.fake(latency_ms=0)
        for w in side.workloads:
            self.fake(scenario="tool-loop" if w == "tool" else "echo", tool_rounds=2)
            self.measure(side, w, min(8, n), n, min(self.max_s, 20), None)

    def throughput(self, side, run):
        self.fake(latency_ms=0, scenario="echo")
        c = min(self.tput_c, self.a.cc_max_concurrency) if side.key in CC_SIDES else self.tput_c
        row = self.measure(side, "plain", c, self.tput_n, self.tput_s, None)
        self.results["throughput"].append({"side": side.key, "traced": side.traced, "run": run, "ok": row["ok"],
                                           "non_200": row["non_200"], "concurrency": c,
                                           "per_s": row["ok"] / max(row["wall_s"], 0.001)})

    def level(self, side, w, c, run, rss=False):
        """One point of scenario 1 (and 2 when untraced; 4 when rss)."""
        self.fake(latency_ms=self.fake_latency, scenario="tool-loop" if w == "tool" else "echo", tool_rounds=2)
        n = self.requests(side, c)
        max_s = self.max_s * 2 if side.key in CC_SIDES and c == 1 else self.max_s
        if rss:
            with RssSampler(side.proc.pid) as sampler:
                row = self.measure(side, w, c, n, max_s, self.results["overhead"])
            side.rss_peak_mb = max(side.rss_peak_mb or 0, sampler.peak)
        else:
            row = self.measure(side, w, c, n, max_s, self.results["overhead"])
        row["run"] = run
        print(f"  {side.key:15} {'traced' if side.traced else 'untraced':8} {w:5} c={c:<3} run {run}: "
              f"ok {row['ok']}/{row['sent']} p50 {fmt(row['p50'])} p99 {fmt(row['p99'])} ms "
              f"(model calls/inv {row['model_calls_per_invocation']}, {row['wall_s']:.1f} s)", flush=True)

    def one_run(self, side, run):
        """Every scenario of one run for one side, in the order that keeps each fair: a drained state first;
        concurrency 1 (trace delivery: traced and untraced back to back, so drift hits both) before any
        burst; then 16; the 256 bursts (plain, tool loop; with RSS) and the zero-latency throughput last, each after a settle,
        so their backlog never reaches a delivery measurement."""
        levels = side.levels or self.levels
        top = max(levels)
        untraced_levels = [c for c in levels if c < top]
        self.timed("settle (drain spools, MLflow idle)", self.settle, f"{side.key} run {run}")
        for c in [c for c in levels if c < top]:
            name = "1+2 delivery at c=1 (traced + untraced)" if c == 1 else f"1+2 overhead at c={c} (traced + untraced)"
            for w in side.workloads:
                self.timed(name, self.level, side, w, c, run)
                if side.twin and c in untraced_levels:
                    self.timed(name, self.level, side.twin, w, c, run)
        for w in side.workloads:
            # each burst from a drained state: a side that answers before MLflow is done (agentfn spools)
            # would otherwise meet its own backlog in the next burst, a side that waits would not
            self.timed("settle (drain spools, MLflow idle)", self.settle, f"{side.key} c={top} {w} run {run}")
            self.timed(f"1+4 overhead and RSS at c={top} (traced)", self.level, side, w, top, run, True)
        self.timed("settle (drain spools, MLflow idle)", self.settle, f"{side.key} throughput run {run}")
        self.timed("5 throughput (traced + untraced)", self.throughput, side, run)
        if side.twin:
            self.timed("5 throughput (traced + untraced)", self.throughput, side.twin, run)

    def evaluation(self, run):
        """Scenario 7: bench/evaluation.py --peer (its own fake, MLflow and agentfn, started after every side here
        has stopped): one dataset through agentfn's POST /v1/evaluations and through mlflow.genai.evaluate."""
        out = f"{ROOT}/target/bench-compare/evaluation-run{run}.json"
        rows = 20 if self.a.quick else 200
        r = subprocess.run([sys.executable, f"{ROOT}/bench/evaluation.py", "--peer", "--rows", str(rows),
                            "--mlflow-backend", self.a.mlflow_backend, "--out", out], capture_output=True, text=True)
        if r.returncode != 0:
            raise SystemExit(f"scenario 7 failed:\n{r.stdout[-2000:]}\n{r.stderr[-3000:]}")
        with open(out) as f:
            res = json.load(f)
        res["run"] = run
        self.results.setdefault("evaluation", []).append(res)
        print(f"  evaluation run {run}: agentfn {res['wall_s']} s, mlflow.genai.evaluate {res['peer']['wall_s']} s "
              f"(ratio {res['agentfn_to_peer']})", flush=True)

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
        expected, failed = set(side.ok_tokens), set(side.err_tokens)
        return {"answered": len(expected), "traces": sum(found.values()) + untokened,
                "missing": len(expected - set(found)), "duplicated": sum(1 for v in found.values() if v > 1),
                "failed_traced": len(set(found) & failed),  # error answers whose failure was traced (allowed)
                "extra": len(set(found) - expected - failed) + untokened}

    def lap(self, what):
        print(f"== [{time.monotonic() - self.t0:6.0f} s] {what}", flush=True)

    def run(self):
        self.setup()
        self.timing["setup (fake, MLflow, tool server)"] = time.monotonic() - self.t0
        self.fake_latency = self.latency
        self.live = live = []
        try:
            for side in self.sides:
                if side.prepare:
                    self.lap(f"preparing {side.key}")
                    self.timed("AOT cache training (Temurin 25)", side.prepare, side)
                self.lap(f"scenario 3 (cold start): {side.label}")
                why = self.timed("3 cold start", self.cold_start, side)
                if why:
                    side.unavailable = why
                    self.results["unavailable"][side.key] = why
                    print(f"  !! {side.label}: NOT AVAILABLE ({why}): every scenario skipped", flush=True)
                    continue
                live.append(side)  # the last cold start stays up as the traced process
            self.lap("untraced twins up; warm-up of every process")
            for side in live:
                twin = side.untraced_twin()
                self.timed("start untraced twins", lambda: (twin.start(), first_answer(
                    twin.url(), twin.body("plain", "untraced").encode(), deadline_s=180)))
                for inst in (side, twin):
                    self.timed("warm-up", self.warm, inst)
            for run in range(self.runs):
                for side in live:
                    self.lap(f"run {run + 1}/{self.runs}: {side.label}")
                    self.one_run(side, run)
            self.lap("final drain")
            self.timed("settle (drain spools, MLflow idle)", self.settle, "counting", 300)
            self.results["spool_left"] = self.spooled(live)
            for side in live:
                side.stop()
                side.twin.stop()
            self.lap("scenario 6 (traces in MLflow)")
            for side in live:
                self.results["traces"][side.key] = self.timed("6 traces counted in MLflow", self.traces, side)
                print(f"  {side.key}: {self.results['traces'][side.key]}", flush=True)
        finally:
            for side in self.sides:
                side.stop()
                if side.twin:
                    side.twin.stop()
            stop_all(self.procs)
        for side in self.sides:
            self.results["cold_start"][side.key] = side.cold_ms
            self.results["rss"][side.key] = side.rss_peak_mb
        if not self.a.no_evaluation:
            self.lap("scenario 7 (batch evaluation beside mlflow.genai.evaluate)")
            for run in range(self.runs):
                self.timed("7 batch evaluation", self.evaluation, run)
        self.timing["total"] = time.monotonic() - self.t0
        print("== time budget (wall seconds per scenario):", flush=True)
        for k, v in self.timing.items():
            print(f"  {v:7.1f}  {k}", flush=True)
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
                        pooled = [v for x in rs for v in x.get("overhead_ms", [])]
                        overhead.append({"side": s.key, "workload": w, "concurrency": c, "traced": traced,
                                         "runs": len(rs), "ok": sum(x["ok"] for x in rs), "sent": sum(x["sent"] for x in rs),
                                         "model_calls_per_invocation": med([x["model_calls_per_invocation"] for x in rs]),
                                         "export": sum_counts(x.get("export", {}) for x in rs),
                                         # p50: median of the runs' medians; p95/p99: over the pooled samples of
                                         # every run, and only from enough of them (MIN_SAMPLES)
                                         "p50": med([x["p50"] for x in rs]),
                                         "cpu_ms_per_invocation": {k: med([x["cpu_ms_per_invocation"][k] for x in rs
                                                                           if x.get("cpu_ms_per_invocation")])
                                                                   for k in ("service", "cli", "mlflow", "fake")},
                                         **{p: pct(pooled, int(p[1:])) if len(pooled) >= MIN_SAMPLES[p] else None
                                            for p in ("p95", "p99")}})

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
                pairs = [ratio(x["p50"], y["p50"]) for x, y in zip(sorted(a_runs, key=lambda x: x["run"]),
                                                                   sorted(p_runs, key=lambda x: x["run"]))]
                row["p50_ratio"] = med(pairs)  # run by run, then the median
                row["p99_ratio"] = ratio(ov(s.key, w, c, True, "p99"), ov(peer.key, w, c, True, "p99"))  # pooled
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
    goals += app_goals(bench, overhead, delivery, tput, labels, by_key)
    for s in live:
        if s.kind == "agentfn":
            t = r["traces"][s.key]
            goals.append({"goal": f"{labels[s.key]}: traces lost or duplicated", "value": t["missing"] + t["duplicated"],
                          "limit": 0, "met": t["missing"] == 0 and t["duplicated"] == 0})
    evals = r.get("evaluation", [])
    evaluation = {"runs": len(evals), "rows": evals[0]["rows"], "concurrency": evals[0]["concurrency"],
                  "agentfn_wall_s": med([x["wall_s"] for x in evals]),
                  "peer_wall_s": med([x["peer"]["wall_s"] for x in evals]),
                  "ratio": med([x["agentfn_to_peer"] for x in evals]),
                  # every run: as many traces as rows in both MLflow runs, each with its three assessments, no error
                  "complete": all(side["traces"] == x["rows"] and all(v == x["rows"] for v in side["assessments"].values())
                                  and len(side["assessments"]) == 3 and not side["assessment_errors"]
                                  for x in evals for side in (x["agentfn_in_mlflow"], x["peer"]["in_mlflow"]))} \
        if evals else None
    return {"overhead": overhead, "ratios": ratios, "delivery": delivery, "cold_start": cold, "throughput": tput,
            "evaluation": evaluation,
            "rss_peak_mb": {k: v for k, v in r["rss"].items() if v}, "traces": r["traces"], "goals": goals,
            "spool_left_before_count": r.get("spool_left", {}),
            "unavailable": r["unavailable"], "labels": labels}


def app_goals(bench, overhead, delivery, tput, labels, by_key):
    """This build (agentfn-jdk17) against --app (agentfn-app), issue 20: MLflow CPU per trace at the top
    concurrency, traced throughput, trace delivery p50 at concurrency 16 and 1 (plain answer)."""
    this, other = "agentfn-jdk17", "agentfn-app"
    if this not in by_key or other not in by_key:
        return []
    top = max(bench.levels)

    def cpu(side):
        return next((x["cpu_ms_per_invocation"]["mlflow"] for x in overhead if x["side"] == side and x["traced"]
                     and x["workload"] == "plain" and x["concurrency"] == top), None)

    def dl(side, c):
        return next((x["p50"] for x in delivery if x["side"] == side and x["workload"] == "plain"
                     and x["concurrency"] == c), None)

    vs = f"{labels[this]} vs {labels[other]}"
    rows = [goal(f"{vs}: MLflow CPU per trace at concurrency {top}, plain (this/--app)", ratio(cpu(this), cpu(other)),
                 GOALS_APP["mlflow_cpu_top"]),
            goal(f"{vs}: traced throughput (--app/this, so <= 1/3 means >= 3x)",
                 ratio(tput.get(other, {}).get("traced"), tput.get(this, {}).get("traced")), GOALS_APP["throughput"])]
    if 16 in bench.levels:
        rows.append(goal(f"{vs}: trace delivery p50 at concurrency 16, plain (this/--app)", ratio(dl(this, 16), dl(other, 16)),
                         GOALS_APP["delivery_c16"]))
    rows.append(goal(f"{vs}: trace delivery p50 at concurrency 1, plain (this/--app)", ratio(dl(this, 1), dl(other, 1)),
                     GOALS_APP["delivery_c1"]))
    return rows


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
    """A goal row; value None = not measured (a side missing, or too few samples for the percentile)."""
    return {"goal": name, "value": value, "limit": limit, "met": None if value is None else value <= limit}


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
           f"{meta['note']}). MLflow 3.17.2 on {'PostgreSQL 15' if bench.a.mlflow_backend == 'postgres' else 'SQLite'}, "
           f"{bench.a.mlflow_workers} worker(s), one server for every side. Fake model latency {bench.latency} ms per "
           f"model call; {bench.runs} run(s) per point; p50 = median of the runs' p50 (ratios agentfn/peer run by "
           f"run, then the median); p95/p99 over the samples of all runs pooled ({bench.samples} per point, Claude "
           f"Code pair at concurrency 1: {bench.cc_samples}), '–' where fewer than 20 (p95) or 100 (p99).", ""]
    for name in ("overhead", "delivery", "cold_start", "rss", "throughput"):
        if name in files:
            out.append(f"![{name}](benchmarks/{files[name]})")
    out += ["", "**Goals** (issue 7, ratios agentfn/peer in this run):", "", "| Goal | Value | Limit | Met |", "|---|---:|---:|---|"]
    for g in summary["goals"]:
        met = "not measured (too few samples)" if g["met"] is None else "yes" if g["met"] else "**NO**"
        out.append(f"| {g['goal']} | {fmt(g['value'], 2)} | {g['limit']} | {met} |")
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
    out += ["", "**Where the CPU goes** (CPU ms per invocation during each traced point at the sides' top "
            "concurrency, median of the runs, from /proc: the service's own processes, the Claude Code CLI processes "
            "it started, the MLflow server with PostgreSQL, the fake; 2 cores give at most 2000 CPU ms per second):",
            "", "| Side | Workload | Concurrency | Service | CLI | MLflow | Fake | Total |", "|---|---|---:|---:|---:|---:|---:|---:|"]
    tops = {}
    for x in summary["overhead"]:
        tops[x["side"]] = max(tops.get(x["side"], 0), x["concurrency"])
    for x in summary["overhead"]:
        cpu = x.get("cpu_ms_per_invocation") or {}
        if x["traced"] and x["concurrency"] == tops[x["side"]] and cpu.get("service") is not None:
            cli = cpu["cli"] if x["side"] in CC_SIDES else None
            out.append(f"| {L[x['side']]} | {x['workload']} | {x['concurrency']} | {fmt(cpu['service'])} | {fmt(cli)} | "
                       f"{fmt(cpu['mlflow'])} | {fmt(cpu['fake'])} | {fmt(sum(v for v in cpu.values() if v is not None))} |")
    out += ["", "**Ratios agentfn/peer** (overhead, traced; < 1 means agentfn adds less):", "",
            "| agentfn | Peer | Workload | Concurrency | p50 ratio | p99 ratio |", "|---|---|---|---:|---:|---:|"]
    for x in summary["ratios"]:
        out.append(f"| {L[x['agentfn']]} | {L[x['peer']]} | {x['workload']} | {x['concurrency']} | "
                   f"{fmt(x['p50_ratio'], 2)} | {fmt(x['p99_ratio'], 2)} |")
    out += ["", "**Scenario 2: trace delivery before return** (overhead traced − overhead untraced, same service "
            "started without tracing and kept up beside it, ms; p99 from pooled samples):", "", "| Side | Workload | Concurrency | p50 | p99 |", "|---|---|---:|---:|---:|"]
    for x in summary["delivery"]:
        out.append(f"| {L[x['side']]} | {x['workload']} | {x['concurrency']} | {fmt(x['p50'])} | {fmt(x['p99'])} |")
    out += ["", "**Scenarios 3–6:**", "", "| Side | Cold start median (all), ms | Peak RSS at top concurrency (%d; CC pair lower), MB | "
            "Throughput traced / untraced, inv/s | Spooled traces left before counting | Traces: answered / in MLflow / missing / duplicated / extra (+ traced failures) |" % max(bench.levels),
            "|---|---|---:|---:|---:|---|"]
    for k in L:
        if k in summary["unavailable"]:
            out.append(f"| {L[k]} | not available | | | | |")
            continue
        c, t, tp = summary["cold_start"].get(k), summary["traces"].get(k), summary["throughput"].get(k, {})
        out.append(f"| {L[k]} | {fmt(c and c['median_ms'], 0)} ({', '.join(map(str, c['all_ms'])) if c else ''}) | "
                   f"{fmt(summary['rss_peak_mb'].get(k), 0)} | {fmt(tp.get('traced'), 0)} / {fmt(tp.get('untraced'), 0)} | "
                   f"{summary['spool_left_before_count'].get(k, '–')} | "
                   + (f"{t['answered']} / {t['traces']} / {t['missing']} / {t['duplicated']} / {t['extra']}"
                      + (f" (+ {t['failed_traced']})" if t.get("failed_traced") else "") + " |" if t else " |"))
    ev = summary.get("evaluation")
    if ev:
        out += ["", f"**Scenario 7: batch evaluation** ({ev['rows']} rows, agent model 1 s, two judges 0.5 s each, "
                f"{ev['concurrency']} rows at once; agentfn's `POST /v1/evaluations` beside `mlflow.genai.evaluate` "
                "with `make_judge` judges, `bench/evaluation.py --peer`; wall time, median of the runs):", "",
                "| agentfn | mlflow.genai.evaluate | agentfn / peer | Both MLflow runs complete (traces, 3 assessments each, no error) |",
                "|---:|---:|---:|---|",
                f"| {fmt(ev['agentfn_wall_s'], 2)} s | {fmt(ev['peer_wall_s'], 2)} s | {fmt(ev['ratio'], 2)} | "
                f"{'yes' if ev['complete'] else '**NO**'} ({ev['runs']} runs) |"]
    out += ["", "Versions: " + ", ".join(f"{k} {v}" for k, v in meta["versions"].items()) + ".",
            f"Machine: {meta['machine']['cpus']} × {meta['machine']['cpu']}, {meta['machine']['memory_gb']} GB, "
            f"{meta['machine']['os']}, kernel {meta['machine']['kernel']}; load average before/after "
            f"{' '.join(meta['machine']['loadavg'])} / {' '.join(meta['loadavg_after'])}. Duration {meta['duration_s']:.0f} s.",
            "", "Time budget (wall seconds per scenario, all sides and runs): "
            + ", ".join(f"{k} {v:.0f}" for k, v in meta["timing_s"].items()) + ".",
            "", "Commands:", "", "```", meta["command"]] + [f"{k}: {v}" for k, v in meta["side_commands"].items()] + ["```"]
    return "\n".join(out) + "\n"


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="smoke test: few requests, one run")
    ap.add_argument("--latency-ms", type=int, default=50,
                    help="fake model latency per model call (default 50: overhead = response - scripted model time "
                         "does not depend on it, the run's duration does)")
    ap.add_argument("--levels", default="1,16,256")
    ap.add_argument("--runs", type=int, default=None, help="runs per point (default 3; quick 1)")
    ap.add_argument("--cold-runs", type=int, default=None, help="cold starts per side (default 3; quick 1)")
    ap.add_argument("--samples", type=int, default=None,
                    help="samples per point pooled over the runs (default 100, what p99 needs; quick 5)")
    ap.add_argument("--cc-samples", type=int, default=None,
                    help="the same for the Claude Code pair at concurrency 1 (default 100; quick 2)")
    ap.add_argument("--sides", default=None, help="comma-separated subset: agentfn-jdk17,agentfn-jdk25,peer-messages,agentfn-cc,peer-agent-sdk,agentfn-app")
    ap.add_argument("--app", default=None, help="target/quarkus-app directory of another agentfn build (e.g. main before a "
                    "change), run as side agentfn-app beside this build's agentfn-jdk17, with goals this/--app")
    ap.add_argument("--app-label", default=None, help="how the tables name the --app build (default: its directory)")
    ap.add_argument("--no-jdk25", action="store_true")
    ap.add_argument("--no-claude-code", action="store_true", help="skip the Claude Code pair")
    ap.add_argument("--no-evaluation", action="store_true",
                    help="skip scenario 7 (batch evaluation beside mlflow.genai.evaluate, ~70 s per run)")
    ap.add_argument("--cc-max-concurrency", type=int, default=16,
                    help="highest level for the Claude Code pair: each invocation is a CLI process (~100+ MB)")
    ap.add_argument("--mlflow-backend", choices=MLFLOW_BACKENDS, default="postgres",
                    help="store of the one MLflow server every side traces to: a throwaway PostgreSQL 15 cluster "
                         "(default, what a production tracking server runs on) or SQLite (the tests' set-up)")
    ap.add_argument("--mlflow-workers", type=int, default=None, help="MLflow server workers (default 4 on "
                    "PostgreSQL, 1 on SQLite)")
    ap.add_argument("--mlflow-pool", default=None,
                    help="MLFLOW_SQLALCHEMYSTORE_POOLCLASS of the MLflow server; '' = MLflow's default QueuePool "
                         "(the default on PostgreSQL); NullPool by default on SQLite, whose QueuePool stopped "
                         "answering under 256 concurrent trace writes (see docs/benchmarks.md)")
    ap.add_argument("--peer-delivery", choices=("sync", "flush"), default="sync",
                    help="how the Messages peer delivers its trace before answering (bench/peers/messages_service.py)")
    ap.add_argument("--jfr", action="store_true",
                    help="JFR profiles of agentfn on JDK 17 (Messages and Claude Code engines) into target/bench-compare/")
    ap.add_argument("--note", default="shared machine: other work ran at the same time, numbers are noisy")
    ap.add_argument("--out-dir", default=f"{ROOT}/docs/benchmarks")
    ap.add_argument("--no-doc", action="store_true", help="do not refresh the generated block of docs/benchmarks.md")
    a = ap.parse_args()
    a.mlflow_workers = a.mlflow_workers or default_mlflow_workers(a.mlflow_backend)
    if a.mlflow_pool is None:
        a.mlflow_pool = "NullPool" if a.mlflow_backend == "sqlite" else ""
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
            "timing_s": {k: round(v, 1) for k, v in bench.timing.items()},
            "command": command, "versions": versions(bench), "machine": meta_machine,
            "loadavg_after": open("/proc/loadavg").read().split()[:3], "duration_s": time.time() - started,
            "side_commands": {s.key: s.command_line() for s in sides},
            "settings": {"latency_ms": bench.latency, "levels": bench.levels, "runs": bench.runs,
                         "cold_runs": bench.cold_runs, "warmup": bench.warmup, "max_seconds_per_level": bench.max_s,
                         "samples_per_point": bench.samples, "cc_samples_per_point": bench.cc_samples,
                         "mlflow_backend": a.mlflow_backend,
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
    failed = [g for g in summary["goals"] if g["met"] is False]
    unmeasured = [g for g in summary["goals"] if g["met"] is None]
    print(f"{len(summary['goals']) - len(failed) - len(unmeasured)} goals met, {len(failed)} not met, "
          f"{len(unmeasured)} not measured; "
          f"not available: {', '.join(summary['unavailable']) or 'none'}")


if __name__ == "__main__":
    main()
