#!/usr/bin/env python3
"""What agentfn's tracing gateway (issue #19, POST /v1/messages) adds per request, beside the open-source gateway a
user would pick instead, on one machine against one fake Messages API.

Starts the fake Messages API (dev.agentfn.standin.FakeAnthropicServer, fixed model latency before the first byte,
or with --latency-jitter-ms a random part on top, which each request's times then leave out),
one local MLflow 3.17.2 server (a throwaway PostgreSQL 15 cluster with 4 workers by default, like bench/compare.py;
--mlflow-backend sqlite for the tests' set-up) and agentfn with the gateway on (AGENTFN_GATEWAY_ENABLED=true, its
upstream the fake, tracing to that MLflow). The peer is MLflow's own AI Gateway, served by the same MLflow server:
an endpoint with the `anthropic` provider whose secret's api_base is the fake, called through its raw proxy
`/gateway/proxy/<endpoint>/v1/messages` (what Claude Code uses with ANTHROPIC_BASE_URL=<mlflow>/gateway/proxy/
<endpoint>); one endpoint traced (usage_tracking on, the default) and one not, so its tracing cost shows apart.

Sides, each called by the same client (bench/GatewayLoad.java, a JVM on platform threads) with the same body and
headers a Claude Code turn carries (x-api-key, anthropic-version, claude-cli User-Agent, a session id of its own
per request, so every request is a whole user turn):
  direct          the fake itself: the baseline
  agentfn         agentfn's gateway -> the fake; one MLflow trace per turn, confirmed before the turn's last byte
  agentfn-spool   the same with agentfn.gateway.turn-end-wait=spool: the turn's last byte waits for the trace to be
                  in agentfn's spool; its export follows (a second agentfn process)
  agentfn-untraced  agentfn's gateway with tracing off (AGENTFN_TRACING_ENABLED=false): the relay alone, so what
                  tracing adds shows apart from what the JVM and the relay cost (not in the default sides)
  mlflow-gateway  MLflow AI Gateway raw proxy -> the fake, traced (one trace per request, logged asynchronously)
  mlflow-gateway-untraced  the same endpoint with usage tracking off
Workloads: `turn`: the answer ends the turn (end_turn; agentfn writes the trace before the answer's last byte);
`tool`: the answer asks for a tool (tool_use; an intermediate answer, which agentfn must not delay: the turn stays
open). Modes: JSON and SSE (stream: true). Levels: concurrency 1, 16, 256 (closed loop).

Each point starts with one unmeasured round at its concurrency (new connections, the fake's timer path), so
no side's first requests pay for what the sides before it set up. With --latency-jitter-ms the measured clients
also start spread over one mean model latency (--ramp-ms), not in one millisecond. Traced agentfn sides warm up
twice: fast (MLflow falls behind, traces go to the spool) and then paced at 20 turns/s (--warmup-paced), so the
export path is compiled before measuring too. Overhead = side - direct, per percentile, for
time to first byte (TTFB) and to last byte (TTLB), samples pooled over the runs (runs interleave the sides point
by point, or with --blocks block by block, so drift hits all alike; with --steal-limit-ms a block the host
preempted more than that is measured again). Also: CPU per request of each process (agentfn, MLflow with PostgreSQL,
fake), the MLflow server's CPU per traced turn (from the start of a point until MLflow is idle again, so
asynchronous work counts), agentfn's peak RSS with 256 streams held open (model latency --rss-latency-ms), and the
traces in MLflow afterwards (one per answered turn).

    python3 bench/gateway.py                 # full run (13 minutes on 2 busy cores)
    python3 bench/gateway.py --quick         # smoke test: few requests, numbers meaningless
    python3 bench/gateway.py --sides direct,mlflow-gateway   # without agentfn (a build without the gateway)

Writes target/bench-gateway/gateway.{json,md}; --doc refreshes the generated block of docs/benchmarks.md.
"""
import argparse, csv, datetime, json, os, platform, shlex, shutil, signal, statistics, subprocess, sys, time
import urllib.error, urllib.request
import zlib

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import APP, MLFLOW_BACKENDS, ROOT, RssSampler, agentfn_env, default_mlflow_workers, free_port, start_fake, \
    start_mlflow, stop_all, tree_cpu_split, tree_pids, wait_up  # noqa: E402

OUT = f"{ROOT}/target/bench-gateway"
SIDES = ("direct", "agentfn", "agentfn-spool", "agentfn-untraced", "mlflow-gateway", "mlflow-gateway-untraced")
DEFAULT_SIDES = tuple(s for s in SIDES if s != "agentfn-untraced")
# agentfn's sides: each its own process, with these settings beside the common ones
AGENTFN_SIDES = {"agentfn": {}, "agentfn-spool": {"AGENTFN_GATEWAY_TURN_END_WAIT": "spool"},
                 "agentfn-untraced": {"AGENTFN_TRACING_ENABLED": "false"}}
UNTRACED = {"agentfn-untraced", "mlflow-gateway-untraced"}  # no goals and no trace count for these
MODEL = "claude-sonnet-4-5"
API_KEY = "bench-key"
CLAUDE_CODE_VERSION = "2.1.330"
MIN_SAMPLES = {50: 1, 99: 100}  # a percentile is reported only from at least this many samples
GOALS = {"p99_overhead_ms_c16": 5.0, "peer_ratio": 1 / 3, "rss_mb_256_streams": 300}
TOOLS = [{"name": "get_weather", "description": "Current weather for a city",
          "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}]


def body(stream, run_id):
    """A Claude Code-like first request of a turn; {n} becomes the request's sequence number (GatewayLoad)."""
    return json.dumps({"model": MODEL, "max_tokens": 4096, "stream": stream, "tools": TOOLS,
                       "system": [{"type": "text", "text": "You are Claude Code, a benchmark turn."}],
                       "metadata": {"user_id": "bench-user"},
                       "messages": [{"role": "user", "content": [{"type": "text", "text": f"bench {run_id} turn {{n}}"}]}]})


def headers(run_id):
    return [f"x-api-key: {API_KEY}", "anthropic-version: 2023-06-01",
            f"user-agent: claude-cli/{CLAUDE_CODE_VERSION} (external, cli)",
            f"x-claude-code-session-id: {run_id}-0000-4000-8000-{{n12}}"]


def post_json(url, payload, timeout=30):
    req = urllib.request.Request(url, data=json.dumps(payload).encode(), headers={"content-type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return json.loads(r.read() or b"null")
    except urllib.error.HTTPError as e:
        raise SystemExit(f"POST {url}: HTTP {e.code}: {e.read()[:500].decode(errors='replace')}")


def get_json(url, timeout=30):
    with urllib.request.urlopen(url, timeout=timeout) as r:
        return json.loads(r.read())


def pct(values, p):
    if len(values) < MIN_SAMPLES.get(p, 1):
        return None
    s = sorted(values)
    k = (len(s) - 1) * p / 100
    lo, hi = int(k), min(int(k) + 1, len(s) - 1)
    return s[lo] + (s[hi] - s[lo]) * (k - lo)


def fmt(x, digits=1):
    return "–" if x is None else f"{x:.{digits}f}"




class Bench:
    def __init__(self, a):
        self.a = a
        self.levels = [int(x) for x in a.levels.split(",")]
        self.modes = a.modes.split(",")
        self.workloads = a.workloads.split(",")
        self.tool_modes = [m for m in a.tool_modes.split(",") if m in self.modes]
        self.run_id = datetime.datetime.now(datetime.timezone.utc).strftime("%H%M%S%f")[:8]  # 8 hex-safe digits
        self.seq = 0
        self.procs, self.rows, self.answered = [], [], {}
        self.raw_times = set()  # sides whose answers did not name their jitter draw (see jitter_of)
        self.unavailable = {}
        self.settles = []

    # -- processes --

    def setup(self):
        os.makedirs(f"{OUT}/loadgen", exist_ok=True)
        subprocess.run(["javac", "-d", f"{OUT}/loadgen", f"{ROOT}/bench/GatewayLoad.java"], check=True)
        # one client process for the whole run: warm (JIT, pooled connections) for every point and side alike
        self.client = subprocess.Popen(["java", "-Xss512k", "-cp", f"{OUT}/loadgen", "GatewayLoad", "serve"],
                                       stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        self.procs.append(self.client)
        fake_port = free_port()
        self.fake_proc = start_fake(fake_port, "--latency-ms", "0", "--threads", "1200")
        self.procs.append(self.fake_proc)
        self.fake_url = f"http://127.0.0.1:{fake_port}"
        wait_up(f"{self.fake_url}/_fake/config")
        # The AI Gateway refuses a plain-HTTP, loopback api_base unless told otherwise (SSRF policy).
        env = {"MLFLOW_GATEWAY_API_BASE_ALLOW_PRIVATE_IPS": "true", "MLFLOW_GATEWAY_API_BASE_ALLOWED_SCHEMES": "http,https"}
        if self.a.mlflow_backend == "sqlite":
            env["MLFLOW_SQLALCHEMYSTORE_POOLCLASS"] = "NullPool"
        self.mlflow, self.mlflow_url = start_mlflow("bench-gateway-mlflow", self.a.mlflow_workers, env,
                                                    backend=self.a.mlflow_backend)
        self.procs.append(self.mlflow)
        self.experiments = {}
        self.urls = {"direct": f"{self.fake_url}/v1/messages"}
        sides = self.a.sides.split(",")
        if "mlflow-gateway" in sides or "mlflow-gateway-untraced" in sides:
            self.mlflow_gateway()
        self.agentfns, self.agentfn_cmds = {}, {}
        for key in AGENTFN_SIDES:
            if key in sides:
                self.start_agentfn(key)
        self.sides = [s for s in sides if s in self.urls]
        if self.a.pin:
            self.pin()

    def pin(self):
        """--pin (shared): the MLflow server (workers, PostgreSQL and the backends it forks later) on CPU 0,
        everything else of the bench (agentfn, the fake, the client) on CPU 1, so MLflow's work cannot starve the
        relay's threads. --pin alone: agentfn alone on CPU 1 (as a gateway with a vCPU of its own), everything else
        on CPU 0 with MLflow at nice 19, so the fake and the client go first there. Other processes on the machine
        are not pinned."""
        agentfns = [p.pid for p in self.agentfns.values()]
        if self.a.pin == "alone":
            plan = ((self.mlflow.pids() + [self.fake_proc.pid, self.client.pid], "0"), (agentfns, "1"))
        else:
            plan = ((self.mlflow.pids(), "0"), ([self.fake_proc.pid, self.client.pid] + agentfns, "1"))
        for pids, cpu in plan:
            for root in pids:
                for pid in tree_pids(root):
                    subprocess.run(["taskset", "-a", "-p", "-c", cpu, str(pid)], stdout=subprocess.DEVNULL,
                                   stderr=subprocess.DEVNULL)
        if self.a.pin == "alone":
            # SCHED_IDLE (--mlflow-idle): MLflow runs only when the fake and the client have nothing to do, so a
            # traced side's trace writes cannot delay their wake-ups, which the direct call (MLflow idle) never sees
            lower = ["chrt", "-i", "-a", "-p", "0"] if self.a.mlflow_idle else ["renice", "-n", "19", "-p"]
            for root in self.mlflow.pids():
                for pid in tree_pids(root):
                    subprocess.run([*lower, str(pid)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def experiment(self, key):
        name = f"bench-gateway-{self.run_id}-{key}"
        self.experiments[key] = post_json(f"{self.mlflow_url}/api/2.0/mlflow/experiments/create",
                                          {"name": name})["experiment_id"]
        return self.experiments[key]

    def mlflow_gateway(self):
        """An anthropic endpoint pointed at the fake, through MLflow's REST API (what its UI does): a secret holding
        the key and the api_base, a model definition, and two endpoints (traced into an experiment, and not)."""
        api = f"{self.mlflow_url}/api/3.0/mlflow/gateway"
        secret = post_json(f"{api}/secrets/create", {"secret_name": "bench-fake", "provider": "anthropic",
                                                     "secret_value": {"api_key": API_KEY},
                                                     "auth_config": {"api_base": f"{self.fake_url}/v1"}})["secret"]
        model = post_json(f"{api}/model-definitions/create", {"name": "bench-fake-sonnet", "provider": "anthropic",
                                                              "secret_id": secret["secret_id"],
                                                              "model_name": MODEL})["model_definition"]
        for key, traced in (("mlflow-gateway", True), ("mlflow-gateway-untraced", False)):
            name = key.replace("mlflow-gateway", "claude-code")
            payload = {"name": name, "usage_tracking": traced,
                       "model_configs": [{"model_definition_id": model["model_definition_id"],
                                          "linkage_type": "PRIMARY", "weight": 1.0}]}
            if traced:
                payload["experiment_id"] = self.experiment(key)
            post_json(f"{api}/endpoints/create", payload)
            self.urls[key] = f"{self.mlflow_url}/gateway/proxy/{name}/v1/messages"

    def start_agentfn(self, key):
        exp = self.experiment(key)
        env = agentfn_env(int(self.fake_url.rsplit(":", 1)[1]), self.mlflow_url)
        env.pop("MLFLOW_EXPERIMENT_NAME", None)
        spool = f"{OUT}/spool-{key}"
        shutil.rmtree(spool, ignore_errors=True)  # a spool of an earlier run's MLflow is of no use here
        env.update(MLFLOW_EXPERIMENT_ID=exp, AGENTFN_GATEWAY_ENABLED="true",
                   AGENTFN_TRACING_SPOOL_DIRECTORY=spool, AGENTFN_TRACING_SPOOL_DRAIN_INTERVAL="2s",
                   # the gateway's own INFO lines (its idle-turn sweeps: bench/tail_lineup.py), the rest at WARN
                   QUARKUS_LOG_CATEGORY__DEV_AGENTFN_GATEWAY__LEVEL="INFO",
                   # Every `tool` request is a session's first call, answered with a tool_use, and no request ever
                   # continues it: at the default 10 min each such turn would be closed as abandoned (a read and a
                   # write to MLflow) in the middle of later points, thousands of them per side, loading MLflow on
                   # the core it shares with the fake and the load client. A Claude Code session ends its turns;
                   # here no turn of a run is left to be closed during it.
                   AGENTFN_GATEWAY_TURN_IDLE_TIMEOUT="6h",
                   **AGENTFN_SIDES[key])
        port = free_port()
        env["PORT"] = str(port)
        cmd = [self.a.java, *self.a.jvm_args.split(), "-jar", f"{APP}/quarkus-run.jar"]
        self.agentfn_cmds[key] = " ".join(f"{k}={v}" for k, v in AGENTFN_SIDES[key].items()) + \
            (" " if AGENTFN_SIDES[key] else "") + " ".join(shlex.quote(c) for c in cmd)
        log = open(f"{OUT}/{key}.log", "w")  # Quarkus logs to stdout: its warnings say why a request failed
        proc = subprocess.Popen(cmd, env=env, cwd=APP, stdout=log, stderr=subprocess.STDOUT)
        self.agentfns[key] = proc
        self.procs.append(proc)
        wait_up(f"http://127.0.0.1:{port}/q/health/ready")
        url = f"http://127.0.0.1:{port}/v1/messages"
        probe = urllib.request.Request(url, data=b'{}', headers={"content-type": "application/json",
                                                                 "x-api-key": API_KEY})
        try:
            urllib.request.urlopen(probe, timeout=10).read()
        except urllib.error.HTTPError as e:
            if e.code in (404, 405):  # a build without the gateway, or the gateway off
                self.unavailable[key] = f"POST /v1/messages answered {e.code}: no gateway in this build"
                return
        self.urls[key] = url

    # -- load --

    def fake(self, **config):
        post_json(f"{self.fake_url}/_fake/config", config)

    @staticmethod
    def steal():
        """Per CPU, the time the hypervisor ran something else while this VM's CPU had work (ms, /proc/stat)."""
        tick = os.sysconf("SC_CLK_TCK")
        with open("/proc/stat") as f:
            return {p[0]: int(p[8]) * 1000 // tick for p in (line.split() for line in f)
                    if p[0].startswith("cpu") and p[0] != "cpu" and len(p) > 8}

    def cpu(self):
        """CPU seconds used so far: agentfn, the MLflow server (workers; PostgreSQL), the fake."""
        out = {"mlflow": tree_cpu_split(self.mlflow.pids())[0], "fake": tree_cpu_split([self.fake_proc.pid])[0]}
        for key, proc in self.agentfns.items():
            if key in self.urls:
                out[key] = tree_cpu_split([proc.pid])[0]
        return out

    def spooled(self):
        """Traces waiting in agentfn's spools: its files live in a subdirectory per destination (to-<hash>/)."""
        return sum(1 for key in self.agentfns for where, _, files in os.walk(f"{OUT}/spool-{key}") for f in files
                   if f.endswith(".json") and os.path.basename(where) not in ("rejected", "corrupt"))

    def settle(self, max_s=None):
        """Waits until agentfn's spool is empty and MLflow is idle (< 5 % of a core in two 0.5 s windows in a row),
        so asynchronous trace logging of a point is done (and counted) before the next one."""
        max_s = max_s or self.a.settle_max
        t0, quiet = time.monotonic(), 0
        cpu = tree_cpu_split(self.mlflow.pids())[0]
        while time.monotonic() - t0 < max_s and quiet < 2:
            time.sleep(0.5)
            now = tree_cpu_split(self.mlflow.pids())[0]
            quiet = quiet + 1 if now - cpu < 0.025 and not self.spooled() else 0
            cpu = now
        waited = time.monotonic() - t0
        self.settles.append(round(waited, 1))
        return waited

    def load(self, side, mode, c, n, max_s, ramp_ms=0):
        body_file = f"{OUT}/body-{mode}.json"
        with open(body_file, "w") as f:
            f.write(body(mode == "sse", self.run_id))
        out = f"{OUT}/rows.csv"
        first, self.seq = self.seq, self.seq + n
        cmd = ["--url", self.urls[side],
               "--body-file", body_file, "--concurrency", str(c), "--requests", str(n), "--max-seconds", str(max_s),
               "--first", str(first), "--out", out, "--ramp-ms", str(ramp_ms)]
        for h in headers(self.run_id):
            cmd += ["--header", h]
        self.client.stdin.write("\t".join(cmd) + "\n")
        self.client.stdin.flush()
        line = self.client.stdout.readline()
        if not line:
            raise SystemExit("the load generator stopped")
        summary = json.loads(line)
        with open(out) as f:
            rows = [r for r in csv.DictReader(f)]
        ok = [r for r in rows if r["status"] == "200" and r["complete"] == "true"]
        self.answered[side] = self.answered.get(side, 0) + len(ok)
        return rows, ok, summary

    def warm(self):
        """JIT warm-up of the JVMs (fake, agentfn) and first connections, unmeasured. The fake waits 1 ms: a model
        latency of 0 answers on another code path than a timer (see also point's unmeasured round)."""
        self.fake(latency_ms=1, latency_jitter_ms=0)
        for side in self.sides:
            n = self.a.warmup if side == "direct" or side in AGENTFN_SIDES else max(self.a.warmup // 10, 20)
            for w, mode in self.pairs():
                self.scenario(w)
                self.load(side, mode, 8, n, 120)
        self.settle()
        # At 1 ms MLflow falls behind at once, so agentfn's exports hit their in-flight bound and its traces go to the
        # spool unexported: the export path (encoding, MLflow's answers, the spool's confirmations) would first be
        # compiled during the measured points. So each traced agentfn side also warms up at a pace MLflow keeps up
        # with: 8 clients at a 400 ms model latency, 20 turns/s.
        paced = [s for s in self.sides if s in AGENTFN_SIDES and s not in UNTRACED]
        if self.a.warmup_paced and paced:
            self.fake(latency_ms=400, latency_jitter_ms=0)
            for side in paced:
                for w, mode in self.pairs():
                    self.scenario(w)
                    self.load(side, mode, 8, self.a.warmup_paced, 300)
                    self.settle()

    def pairs(self):
        """(workload, mode) measured: every mode for `turn`, --tool-modes for `tool` (Claude Code streams)."""
        return [(w, m) for w in self.workloads for m in (self.tool_modes if w == "tool" else self.modes)]

    def jitter_of(self, row, side):
        """The random part of this request's model latency, which its times leave out: with --latency-jitter-ms the
        sides' requests no longer end together, and each side's percentiles are then those of the time its requests
        did not spend waiting for the model's draw (a side's p99 would otherwise be its longest draws, not its tail).
        A gateway that does not relay the fake's x-fake-jitter-ms header (MLflow's drops it) keeps its raw times,
        and the report says so."""
        if not self.a.latency_jitter_ms:
            return 0
        j = int(row.get("jitter_ms") or -1)
        if j < 0:
            self.raw_times.add(side)
            return 0
        return j

    def scenario(self, workload):
        self.fake(scenario="tool-loop" if workload == "tool" else "echo", tool_rounds=1)

    def point(self, side, workload, mode, c, run, block):
        """One block of a point (the whole point without --blocks); with --steal-limit-ms a block whose load drew
        more host steal than that on any CPU is measured again, up to --steal-repeats times, and the repeated one
        is kept in the raw rows marked `discarded` and left out of every percentile."""
        n = max(c * self.a.requests_factor, self.a.samples)
        n = min(n, self.a.max_requests) if self.a.max_requests else n
        n = -(-n // self.a.blocks)
        self.scenario(workload)
        # one unmeasured round at this point's concurrency and latency first: the connections a new level needs are
        # opened, and the fake's timer path compiled, before the first measured request of any side
        if block == 1:
            self.fake(latency_ms=self.a.latency_ms, latency_jitter_ms=0)
            self.load(side, mode, c, c, self.a.max_seconds)
            self.settle()
        for attempt in range(self.a.steal_repeats + 1):
            row = self.measure(side, workload, mode, c, run, block, n)
            stolen = max(row["steal_ms"].values(), default=0)
            over = self.a.steal_limit_ms is not None and stolen > self.a.steal_limit_ms
            if not over or attempt == self.a.steal_repeats:
                row["steal_over_limit"] = over
                return
            row["discarded"] = f"steal {stolen} ms > {self.a.steal_limit_ms} ms"
            print(f"  {side:24} {workload:4} {mode:4} c={c:<3} run {run} block {block}: host steal {stolen} ms on one "
                  f"CPU, over --steal-limit-ms: measured again", flush=True)

    def measure(self, side, workload, mode, c, run, block, n):
        # every side of a block draws the same model latencies (the same seed), whatever order its requests arrive
        # in; a block measured again draws the same ones again
        key = f"{workload}/{mode}/{c}/{run}" + (f"/{block}" if self.a.blocks > 1 else "")
        seed = zlib.crc32(key.encode())
        self.fake(latency_ms=self.a.latency_ms, latency_jitter_ms=self.a.latency_jitter_ms, jitter_seed=seed)
        cpu0, steal0 = self.cpu(), self.steal()
        t0 = time.time()
        rows, ok, summary = self.load(side, mode, c, n, self.a.max_seconds, self.a.ramp_ms)
        t1 = time.time()
        cpu1, steal1 = self.cpu(), self.steal()
        settle = self.settle()
        cpu2 = self.cpu()
        row = {"side": side, "workload": workload, "mode": mode, "concurrency": c, "run": run, "block": block,
               "sent": len(rows),
               "ok": len(ok), "statuses": sorted({r["status"] for r in rows if r["status"] != "200"}),
               "incomplete": sum(1 for r in rows if r["status"] == "200" and r["complete"] != "true"),
               "wall_s": summary["wall_s"], "settle_s": round(settle, 1),
               # the measured window in wall-clock seconds, to line samples up with a JVM's -Xlog (decorator `time`)
               "window_unix_s": [round(t0, 3), round(t1, 3)],
               "start_ms": [int(r["start_ms"]) for r in ok],
               # each request's last byte in wall-clock ms (its start + its raw time, the model's draw included)
               "end_unix_ms": [int(r["start_unix_ms"]) + round(float(r["ttlb_ms"])) for r in ok],
               "ttfb_ms": [round(float(r["ttfb_ms"]) - self.jitter_of(r, side), 3) for r in ok],
               "ttlb_ms": [round(float(r["ttlb_ms"]) - self.jitter_of(r, side), 3) for r in ok],
               # during the load only, except MLflow: until it is idle again (asynchronous trace logging)
               "cpu_ms_per_request": {k: round((cpu1[k] - cpu0[k]) * 1000 / max(len(rows), 1), 2) for k in cpu0},
               # a virtual machine's CPUs may be descheduled by the host: time stolen during the load, per CPU (ms)
               "steal_ms": {k: steal1[k] - steal0.get(k, 0) for k in steal1}}
        row["cpu_ms_per_request"]["mlflow"] = round((cpu2["mlflow"] - cpu0["mlflow"]) * 1000 / max(len(rows), 1), 2)
        self.rows.append(row)
        print(f"  {side:24} {workload:4} {mode:4} c={c:<3} run {run}" + (f" block {block}" if self.a.blocks > 1 else "")
              + f": ok {len(ok)}/{len(rows)} TTFB p50 {fmt(pct(row['ttfb_ms'], 50))} TTLB p50 "
              f"{fmt(pct(row['ttlb_ms'], 50))} ms ({summary['wall_s']:.1f} s, settle {settle:.1f} s, steal "
              f"{'/'.join(str(v) for v in row['steal_ms'].values())} ms)", flush=True)
        return row

    def rss(self):
        """agentfn's peak RSS while 256 SSE streams are held open (the fake waits --rss-latency-ms before its first
        byte), and the MLflow server's (gateway and tracking in one, PostgreSQL excluded) under the same load."""
        out = {}
        self.scenario("turn")
        self.fake(latency_ms=self.a.rss_latency_ms, latency_jitter_ms=0)
        for side, pid in (*self.agentfns.items(), ("mlflow-gateway", self.mlflow.proc)):
            if side not in self.urls:
                continue
            with RssSampler(pid.pid) as s:
                rows, ok, _ = self.load(side, "sse", 256, 256, self.a.max_seconds)
            out[side] = {"peak_mb": round(s.peak, 1), "ok": len(ok), "sent": len(rows)}
            self.settle()
            print(f"  RSS {side}: peak {s.peak:.0f} MB with 256 streams open ({len(ok)}/{len(rows)} answered)",
                  flush=True)
        return out

    def traces(self):
        """Traces in each traced side's experiment against the turns it answered (warm-up included)."""
        out = {}
        for side, exp in self.experiments.items():
            if side not in self.urls or side in UNTRACED:
                continue
            count, token = 0, None
            while True:
                page = post_json(f"{self.mlflow_url}/api/3.0/mlflow/traces/search", {
                    "locations": [{"type": "MLFLOW_EXPERIMENT", "mlflow_experiment": {"experiment_id": exp}}],
                    "max_results": 500, **({"page_token": token} if token else {})}, timeout=120)
                count += len(page.get("traces", []))
                token = page.get("next_page_token")
                if not token:
                    break
            out[side] = {"answered": self.answered.get(side, 0), "traces": count}
        return out

    def run(self):
        self.setup()
        print(f"sides: {', '.join(self.sides)}" + "".join(f"; {k} not available: {v}" for k, v in self.unavailable.items()),
              flush=True)
        self.warm()
        for run in range(1, self.a.runs + 1):
            for c in self.levels:
                for w, mode in self.pairs():
                    for block in range(1, self.a.blocks + 1):
                        for side in self.sides:
                            self.point(side, w, mode, c, run, block)
        rss = self.rss() if 256 in self.levels or self.a.quick else {}
        time.sleep(2)
        self.settle()
        return rss, self.traces()


def summarize(bench, rss, traces):
    pooled = {}
    for r in (r for r in bench.rows if "discarded" not in r):
        p = pooled.setdefault((r["side"], r["workload"], r["mode"], r["concurrency"]),
                              {"ttfb": [], "ttlb": [], "sent": 0, "ok": 0, "cpu": []})
        p["ttfb"] += r["ttfb_ms"]
        p["ttlb"] += r["ttlb_ms"]
        p["sent"] += r["sent"]
        p["ok"] += r["ok"]
        p["cpu"].append(r["cpu_ms_per_request"])
    points = []
    for (side, w, mode, c), p in pooled.items():
        d = pooled.get(("direct", w, mode, c))
        pt = {"side": side, "workload": w, "mode": mode, "concurrency": c, "sent": p["sent"], "ok": p["ok"]}
        for m in ("ttfb", "ttlb"):
            for q in (50, 99):
                v = pct(p[m], q)
                pt[f"{m}_p{q}"] = v
                base = pct(d[m], q) if d else None
                # a side that kept its jitter draws in its times is not comparable with a direct call that did not
                comparable = side != "direct" and side not in bench.raw_times
                pt[f"{m}_p{q}_overhead"] = None if v is None or base is None or not comparable else v - base
        pt["cpu_ms_per_request"] = {k: statistics.median(x[k] for x in p["cpu"]) for k in p["cpu"][0]}
        points.append(pt)
    by = {(x["side"], x["workload"], x["mode"], x["concurrency"]): x for x in points}
    goals = []
    for key in (k for k in AGENTFN_SIDES if k in bench.urls and k not in UNTRACED):
        who = "" if key == "agentfn" else f"{key}: "
        for w, mode in bench.pairs():
            a = by.get((key, w, mode, 16))
            peer = by.get(("mlflow-gateway", w, mode, 16))
            if not a:
                continue
            for m in ("ttfb", "ttlb"):
                v = a[f"{m}_p99_overhead"]
                goals.append({"goal": f"{who}p99 {m.upper()} overhead at c=16, {w}, {mode}", "value": v,
                              "limit": f"≤ {GOALS['p99_overhead_ms_c16']} ms",
                              "met": None if v is None else v <= GOALS["p99_overhead_ms_c16"]})
                pv = peer and peer[f"{m}_p99_overhead"]
                ratio = v / pv if v is not None and pv else None
                goals.append({"goal": f"{who}p99 {m.upper()} overhead at c=16 / MLflow AI Gateway's, {w}, {mode}",
                              "value": ratio, "limit": "≤ 0.33",
                              "met": None if ratio is None else (v <= 0 or (pv > 0 and ratio <= GOALS["peer_ratio"]))})
        if key in rss:
            v = rss[key]["peak_mb"]
            goals.append({"goal": f"{key} RSS with 256 SSE streams open", "value": v,
                          "limit": f"≤ {GOALS['rss_mb_256_streams']} MB", "met": v <= GOALS["rss_mb_256_streams"]})
    # MLflow CPU per traced turn: the traced sides' MLflow CPU per request minus the direct call's (MLflow idle
    # then: its background work), and for the MLflow gateway minus its untraced twin (proxying without tracing).
    cost = []
    for w, mode in bench.pairs():
        for c in bench.levels:
            base = by.get(("direct", w, mode, c))
            row = {"workload": w, "mode": mode, "concurrency": c}
            for key in AGENTFN_SIDES:
                if by.get((key, w, mode, c)) and base:
                    row[key] = by[(key, w, mode, c)]["cpu_ms_per_request"]["mlflow"] - base["cpu_ms_per_request"]["mlflow"]
                    row[f"{key}_own"] = by[(key, w, mode, c)]["cpu_ms_per_request"].get(key)
            t, u = by.get(("mlflow-gateway", w, mode, c)), by.get(("mlflow-gateway-untraced", w, mode, c))
            if t:
                row["mlflow_gateway_total"] = t["cpu_ms_per_request"]["mlflow"]
            if t and u:
                row["mlflow_gateway_tracing"] = t["cpu_ms_per_request"]["mlflow"] - u["cpu_ms_per_request"]["mlflow"]
            cost.append(row)
    return {"points": points, "goals": goals, "rss": rss, "traces": traces, "mlflow_cpu": cost,
            "unavailable": bench.unavailable}


LABELS = {"direct": "direct (the fake)", "agentfn": "agentfn gateway",
          "agentfn-spool": "agentfn gateway, turn-end-wait=spool", "agentfn-untraced": "agentfn gateway, tracing off",
          "mlflow-gateway": "MLflow AI Gateway, traced",
          "mlflow-gateway-untraced": "MLflow AI Gateway, untraced"}


def steal_note(bench):
    """What --steal-limit-ms repeated, per side, and what it had to keep over the limit."""
    if bench.a.steal_limit_ms is None:
        return ""
    unit = "point" if bench.a.blocks == 1 else "block"
    repeated = {}
    for r in bench.rows:
        if "discarded" in r:
            repeated[r["side"]] = repeated.get(r["side"], 0) + 1
    kept = sum(1 for r in bench.rows if r.get("steal_over_limit"))
    per = "; ".join(f"{LABELS[k]} {v}" for k, v in repeated.items()) or "none"
    return (f" A {unit} whose load drew more than {bench.a.steal_limit_ms} ms of host steal on any CPU was measured "
            f"again (at most {bench.a.steal_repeats} times) and left out: repeats per side: {per}"
            + (f"; {kept} {unit}(s) kept over the limit after the last repeat." if kept else "."))


def markdown(s, meta, bench):
    a = bench.a
    jitter = (f" plus a uniform 0–{a.latency_jitter_ms} ms (the same draws on every side of a point; each request's "
              "draw is taken off its times)") if a.latency_jitter_ms else ""
    jitter += (f"; each point's clients started spread over {a.ramp_ms} ms (--ramp-ms), not in lockstep"
               if a.ramp_ms else "")
    raw = (" Sides whose answers did not name their draw (the gateway dropped the fake's x-fake-jitter-ms header) "
           f"keep it in their times and have no overhead here: {', '.join(sorted(bench.raw_times))}.") \
        if bench.raw_times else ""
    out = [f"Run of {meta['date']} ({'--quick: smoke test, numbers meaningless' if a.quick else 'full run'}; "
           f"{a.note}). Fake model latency {a.latency_ms} ms before the first byte"
           f"{jitter}; MLflow 3.17.2 on "
           f"{'PostgreSQL 15' if a.mlflow_backend == 'postgres' else 'SQLite'}, {a.mlflow_workers} worker(s), one "
           f"server for agentfn's traces and MLflow's gateway; {a.runs} run(s), sides interleaved "
           f"{'point by point' if a.blocks == 1 else f'block by block ({a.blocks} blocks per point)'}; "
           f"percentiles over the pooled samples of all runs (p99 from ≥ 100); overhead = side − direct at the same "
           f"percentile, ms.{raw}{steal_note(bench)}", "", "**Goals** (issue #19):", "", "| Goal | Value | Limit | Met |", "|---|---:|---:|---|"]
    for g in s["goals"]:
        met = "not measured" if g["met"] is None else "yes" if g["met"] else "**NO**"
        out.append(f"| {g['goal']} | {fmt(g['value'], 2)} | {g['limit']} | {met} |")
    for k, why in s["unavailable"].items():
        out.append(f"| {LABELS[k]} | **not available**: {why} | | |")
    for w in bench.workloads:
        what = "the answer ends the turn (agentfn delivers the trace before its last byte)" if w == "turn" else \
            "the answer asks for a tool (intermediate: the turn stays open, nothing may wait for tracing)"
        out += ["", f"**Workload `{w}`**: {what}.", "",
                "| Side | Mode | c | Answered/sent | TTFB p50 | TTFB p99 | TTLB p50 | TTLB p99 | Overhead TTFB p50 / p99 | "
                "Overhead TTLB p50 / p99 | CPU ms/request: gateway process · MLflow |",
                "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
        for c in bench.levels:
            for mode in bench.modes:
                for x in s["points"]:
                    if x["workload"] != w or x["mode"] != mode or x["concurrency"] != c:
                        continue
                    cpu = x["cpu_ms_per_request"]
                    own = cpu.get(x["side"]) if x["side"] in AGENTFN_SIDES else cpu.get("mlflow") \
                        if x["side"].startswith("mlflow") else cpu.get("fake")
                    out.append(f"| {LABELS[x['side']]} | {mode} | {c} | {x['ok']}/{x['sent']} | {fmt(x['ttfb_p50'])} | "
                               f"{fmt(x['ttfb_p99'])} | {fmt(x['ttlb_p50'])} | {fmt(x['ttlb_p99'])} | "
                               f"{fmt(x['ttfb_p50_overhead'])} / {fmt(x['ttfb_p99_overhead'])} | "
                               f"{fmt(x['ttlb_p50_overhead'])} / {fmt(x['ttlb_p99_overhead'])} | "
                               f"{fmt(own, 2)} · {fmt(cpu.get('mlflow'), 2)} |")
    out += ["", "**MLflow server CPU per traced turn** (ms; from the start of a point until MLflow is idle again; "
            "agentfn: minus the same point's direct calls; MLflow AI Gateway: its whole server per request, and "
            "traced minus untraced, which is its tracing alone):", "",
            "| Workload | Mode | c | agentfn: MLflow per trace | agentfn: its own CPU per request | "
            "agentfn-spool: MLflow per trace | agentfn-spool: its own CPU per request | "
            "MLflow AI Gateway: server per request | MLflow AI Gateway: tracing per request |",
            "|---|---|---:|---:|---:|---:|---:|---:|---:|"]
    for r in s["mlflow_cpu"]:
        out.append(f"| {r['workload']} | {r['mode']} | {r['concurrency']} | {fmt(r.get('agentfn'), 2)} | "
                   f"{fmt(r.get('agentfn_own'), 2)} | {fmt(r.get('agentfn-spool'), 2)} | "
                   f"{fmt(r.get('agentfn-spool_own'), 2)} | {fmt(r.get('mlflow_gateway_total'), 2)} | "
                   f"{fmt(r.get('mlflow_gateway_tracing'), 2)} |")
    out += ["", "**Peak RSS with 256 SSE streams open** (model latency %d ms, 256 requests at concurrency 256): " % a.rss_latency_ms
            + "; ".join(f"{LABELS[k]} {v['peak_mb']:.0f} MB ({v['ok']}/{v['sent']} answered)" for k, v in s["rss"].items())
            + " (the MLflow server: gateway and tracking in one process tree, its 4 workers, PostgreSQL not counted).",
            "", "**Traces in MLflow afterwards** (warm-up included): "
            + "; ".join(f"{LABELS[k]}: {v['traces']} traces for {v['answered']} answered turns"
                        for k, v in s["traces"].items()) + ".",
            "", f"Machine: {meta['machine']}; load average before / after: {meta['loadavg_before']} / "
            f"{meta['loadavg_after']}. Duration {meta['duration_s']:.0f} s.", "", "Command:", "", "```",
            meta["command"], *(f"{k}: {v}" for k, v in meta.get("agentfn_commands", {}).items()), "```"]
    return "\n".join(out) + "\n"


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="smoke test: few requests, one run")
    ap.add_argument("--latency-ms", type=int, default=50, help="fake model latency before the first byte")
    ap.add_argument("--latency-jitter-ms", type=int, default=0,
                    help="add a uniform 0..N ms to each request's model latency, so a closed loop's requests do not "
                         "start and end in lockstep; each request's draw (the fake's x-fake-jitter-ms header) is "
                         "taken off its times (0: every request waits exactly --latency-ms)")
    ap.add_argument("--ramp-ms", type=int, default=None,
                    help="spread the clients' first requests of a measured point over this many ms (client i of c "
                         "starts at i/c of it), so they do not arrive in the same millisecond; default: one mean "
                         "model latency (latency + jitter/2) with --latency-jitter-ms, else 0 (lockstep)")
    ap.add_argument("--levels", default="1,16,256")
    ap.add_argument("--modes", default="json,sse")
    ap.add_argument("--workloads", default="turn,tool")
    ap.add_argument("--tool-modes", default="sse", help="modes of the `tool` workload (Claude Code streams every call)")
    ap.add_argument("--sides", default=",".join(DEFAULT_SIDES), help="of " + ", ".join(SIDES))
    ap.add_argument("--runs", type=int, default=None, help="runs, sides interleaved point by point (default 1)")
    ap.add_argument("--blocks", type=int, default=1,
                    help="split each point of a run into this many blocks of its requests, the sides interleaved "
                         "block by block (direct 1, agentfn 1, ..., direct 2, ...), so a few seconds of a noisy host "
                         "fall on every side alike rather than on one side's whole point (default 1)")
    ap.add_argument("--steal-limit-ms", type=int, default=None,
                    help="measure a block again when the host stole more than this many ms of any one CPU during "
                         "its load (/proc/stat, 10 ms ticks); the block measured again is kept in the raw rows, "
                         "marked discarded, and counted in the report (default: off)")
    ap.add_argument("--steal-repeats", type=int, default=3,
                    help="with --steal-limit-ms, at most this many repeats per block; the last is kept whatever its "
                         "steal (marked steal_over_limit)")
    ap.add_argument("--samples", type=int, default=None, help="least requests per point and run (default 100; quick 10)")
    ap.add_argument("--requests-factor", type=int, default=None,
                    help="requests per point and run = max(samples, factor x concurrency) (default 1; quick 1)")
    ap.add_argument("--max-requests", type=int, default=None, help="at most this many requests per point and run")
    ap.add_argument("--max-seconds", type=int, default=60, help="time limit of one point")
    ap.add_argument("--settle-max", type=int, default=900, help="longest wait after a point for agentfn's spool to "
                    "empty and MLflow to go idle, so the next side is not measured against a busy MLflow")
    ap.add_argument("--warmup", type=int, default=None, help="requests per side, workload and mode before measuring "
                    "(JVM sides; MLflow's gateway a tenth) (default 1000; quick 50)")
    ap.add_argument("--warmup-paced", type=int, default=None, help="more warm-up requests per traced agentfn side, "
                    "workload and mode, at 20/s (8 clients, 400 ms model latency), so MLflow keeps up and agentfn's "
                    "export path runs too (default 400; quick 0)")
    ap.add_argument("--rss-latency-ms", type=int, default=3000, help="model latency while 256 streams are held open")
    ap.add_argument("--mlflow-backend", choices=MLFLOW_BACKENDS, default="postgres")
    ap.add_argument("--mlflow-workers", type=int, default=None)
    ap.add_argument("--pin", nargs="?", const="shared", choices=("shared", "alone"),
                    help="shared (the default of a bare --pin): MLflow on CPU 0, agentfn, the fake and the client on "
                    "CPU 1; alone: agentfn alone on CPU 1, the rest on CPU 0 with MLflow at nice 19")
    ap.add_argument("--mlflow-idle", action="store_true",
                    help="with --pin alone, MLflow and PostgreSQL at SCHED_IDLE instead of nice 19: their work for "
                         "the traced sides never delays the fake's and the client's wake-ups on the CPU they share")
    ap.add_argument("--java", default="java")
    ap.add_argument("--jvm-args", default="", help="extra JVM options for agentfn")
    ap.add_argument("--note", default="shared 2-core machine: other builds ran at the same time, numbers are noisy")
    ap.add_argument("--doc", action="store_true", help="refresh the generated block of docs/benchmarks.md")
    ap.add_argument("--doc-block", default="gateway", help="which generated block --doc refreshes: gateway (the main "
                    "run) or gateway-slow-model (the same goals with a model latency MLflow can keep up with)")
    a = ap.parse_args()
    if a.mlflow_idle and a.pin != "alone":
        ap.error("--mlflow-idle needs --pin alone (it changes how that placement lowers MLflow's priority)")
    if a.blocks < 1:
        ap.error("--blocks must be 1 or more")
    q = a.quick
    a.runs = a.runs or 1
    a.samples = a.samples or (10 if q else 100)
    a.requests_factor = a.requests_factor or 1
    a.warmup = a.warmup if a.warmup is not None else (50 if q else 1000)
    a.warmup_paced = a.warmup_paced if a.warmup_paced is not None else (0 if q else 400)
    if a.ramp_ms is None:
        a.ramp_ms = a.latency_ms + a.latency_jitter_ms // 2 if a.latency_jitter_ms else 0
    a.mlflow_workers = a.mlflow_workers or default_mlflow_workers(a.mlflow_backend)
    command = "python3 bench/gateway.py " + " ".join(shlex.quote(x) for x in sys.argv[1:])
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # so the finally block stops every process
    if not os.path.exists(f"{APP}/quarkus-run.jar"):
        raise SystemExit("no target/quarkus-app: ./mvnw -B -q package -DskipTests")
    os.makedirs(OUT, exist_ok=True)
    started, load_before = time.time(), " ".join(open("/proc/loadavg").read().split()[:3])
    bench = Bench(a)
    try:
        rss, traces = bench.run()
    finally:
        stop_all(bench.procs)
    summary = summarize(bench, rss, traces)
    meta = {"date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"), "command": command,
            "machine": f"{os.cpu_count()} CPUs, {platform.platform()}", "loadavg_before": load_before,
            "loadavg_after": " ".join(open("/proc/loadavg").read().split()[:3]), "duration_s": time.time() - started,
            "settle_s": bench.settles,
            # to tell the sides' JVM logs apart (-Xlog file names with %p)
            "agentfn_pids": {key: proc.pid for key, proc in bench.agentfns.items()}}
    for key, cmd in bench.agentfn_cmds.items():
        meta.setdefault("agentfn_commands", {})[key] = \
            "AGENTFN_GATEWAY_ENABLED=true ANTHROPIC_BASE_URL=<fake> MLFLOW_TRACKING_URI=<mlflow> " + cmd
    md = markdown(summary, meta, bench)
    with open(f"{OUT}/gateway.json", "w") as f:
        json.dump({"meta": meta, "summary": summary, "raw": bench.rows}, f, indent=1)
    with open(f"{OUT}/gateway.md", "w") as f:
        f.write(md)
    if a.doc:
        doc = f"{ROOT}/docs/benchmarks.md"
        text = open(doc).read()
        begin, end = f"<!-- {a.doc_block}:begin (generated by bench/gateway.py --doc) -->", f"<!-- {a.doc_block}:end -->"
        if begin in text and end in text:
            text = text[:text.index(begin) + len(begin)] + "\n" + md + text[text.index(end):]
            with open(doc, "w") as f:
                f.write(text)
        else:
            print(f"docs/benchmarks.md has no {begin} ... {end} block: not refreshed", file=sys.stderr)
    print(md)


if __name__ == "__main__":
    main()
