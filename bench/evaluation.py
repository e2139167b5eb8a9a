#!/usr/bin/env python3
"""Batch evaluation throughput (issue #6): N rows, agent latency A, judge latency J, concurrency C.

Starts the fake Messages API (agent model answers after A, the judge model after J), a local MLflow
server and the built jar (./mvnw package first), then times one POST /v1/evaluations with "wait":true:
every row runs the agent once and two judges once each, with assessments, links and metrics written to
MLflow. The ideal is (N*A + N*2*J) / C, the issue's yardstick. Numbers depend on the machine; on a shared
one they are noisy. MLflow runs on a throwaway PostgreSQL cluster with 4 workers by default (common.Postgres),
as a production tracking server would; --mlflow-backend sqlite is the tests' set-up (one writer).

With --peer the same job then runs the way MLflow documents it (bench/peers/evaluate_peer.py:
mlflow.genai.evaluate, a predict_fn on the anthropic SDK with autolog, two make_judge judges and a code scorer,
MLFLOW_GENAI_EVAL_MAX_WORKERS = the concurrency) against the same fake and MLflow server, and both runs are read
back from MLflow: traces logged in the run and assessments on them, by name.

  python3 bench/evaluation.py [--rows 200] [--agent-ms 1000] [--judge-ms 500] [--concurrency 16] [--peer]
                              [--mlflow-backend postgres|sqlite] [--mlflow-workers N] [--app DIR] [--out f.json]
"""
import argparse, json, os, subprocess, sys, time, urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import APP, MLFLOW_BACKENDS, ROOT, default_mlflow_workers, free_port, peers_venv, start_fake, \
    start_mlflow, stop_all, wait_up  # noqa: E402

AGENT_MODEL = "claude-sonnet-4-5"
JUDGE_MODEL = "claude-haiku-4-5"
VERDICT = json.dumps({"result": "yes", "rationale": "benchmark"})


def post(url, body, timeout=3600):
    req = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST",
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=timeout) as r:
        return json.loads(r.read() or b"null")


def pg_transactions(mlflow):
    """(commits, rollbacks) of the tracking server's PostgreSQL database so far, or None on SQLite. A
    rollback is mostly MLflow's SQL store losing a race to create the same trace row (OTLP vs StartTraceV3)."""
    if not mlflow.pg:
        return None
    out = mlflow.pg.psql("-t", "-A", "-F", " ", "-c",
                         "SELECT xact_commit, xact_rollback FROM pg_stat_database WHERE datname = 'mlflow'",
                         capture_output=True, text=True, check=True).stdout.split()
    return int(out[0]), int(out[1])


def run_contents(mlflow_url, run_id):
    """What MLflow holds for an evaluation run, read with MLflow's own client (the peers' venv): traces linked to
    the run and, on them, assessments by name."""
    venv = peers_venv()
    code = """
import json, sys, mlflow
from collections import Counter
mlflow.set_tracking_uri(sys.argv[1])
run = mlflow.get_run(sys.argv[2])
traces = mlflow.search_traces(locations=[run.info.experiment_id], run_id=sys.argv[2], return_type="list",
                              max_results=100000)
assessments = [a for t in traces for a in (t.info.assessments or [])]
names = Counter(a.name for a in assessments)
errors = Counter(f"{a.name}: {str(getattr(a.error, 'error_message', a.error))[:200]}" for a in assessments
                 if getattr(a, "error", None) is not None)
values = Counter(f"{a.name}={getattr(a, 'value', None)}" for a in assessments)
print(json.dumps({"traces": len(traces), "assessments": dict(names), "assessment_errors": dict(errors),
                  "values": dict(values), "status": run.info.status}))
"""
    out = subprocess.run([f"{venv}/bin/python", "-c", code, mlflow_url, run_id], capture_output=True, text=True)
    if out.returncode != 0:
        raise SystemExit(f"reading run {run_id} from MLflow failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def run_peer(a, fake, mlflow_url):
    """The Python peer on the same job; returns its JSON line (wall_s, run_id, metrics)."""
    venv = peers_venv()
    env = dict(os.environ, ANTHROPIC_BASE_URL=fake, ANTHROPIC_API_KEY="bench-key", MLFLOW_TRACKING_URI=mlflow_url,
               MLFLOW_GENAI_EVAL_MAX_WORKERS=str(a.concurrency))
    cmd = [f"{venv}/bin/python", f"{ROOT}/bench/peers/evaluate_peer.py", "--rows", str(a.rows), "--agent-model",
           AGENT_MODEL, "--judge-model", JUDGE_MODEL, "--experiment", "bench-evaluation-peer"]
    out = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if out.returncode != 0:
        raise SystemExit(f"the Python peer failed:\n{out.stderr[-4000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1]), " ".join(cmd)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=int, default=200)
    ap.add_argument("--agent-ms", type=int, default=1000)
    ap.add_argument("--judge-ms", type=int, default=500)
    ap.add_argument("--concurrency", type=int, default=16)
    ap.add_argument("--java", default="java")
    ap.add_argument("--mlflow-backend", choices=MLFLOW_BACKENDS, default="postgres",
                    help="MLflow's store: a throwaway PostgreSQL 15 cluster (default) or SQLite")
    ap.add_argument("--mlflow-workers", type=int, default=None,
                    help="MLflow server workers (default 4 on PostgreSQL, 1 on SQLite)")
    ap.add_argument("--trace-judges", default="true", help="agentfn.evaluation.trace-judges")
    ap.add_argument("--app", default=APP, help="a quarkus-app directory (another build, to compare)")
    ap.add_argument("--peer", action="store_true", help="also run the Python peer (mlflow.genai.evaluate) on the same job")
    ap.add_argument("--out", default=None)
    a = ap.parse_args()
    a.mlflow_workers = a.mlflow_workers or default_mlflow_workers(a.mlflow_backend)
    procs = []
    try:
        fake_port = free_port()
        procs.append(start_fake(fake_port, "--threads", str(4 * a.concurrency + 16)))
        fake = f"http://127.0.0.1:{fake_port}"
        wait_up(f"{fake}/api/hello")
        post(f"{fake}/_fake/config", {"latency_ms": a.agent_ms, "model_latency_ms": {JUDGE_MODEL: a.judge_ms}})
        mlflow, mlflow_url = start_mlflow("bench-evaluation-mlflow", a.mlflow_workers,
                                          backend=a.mlflow_backend)
        procs.append(mlflow)
        port = free_port()
        env = dict(os.environ, ANTHROPIC_BASE_URL=fake, ANTHROPIC_API_KEY="bench-key", ANTHROPIC_MODEL=AGENT_MODEL,
                   MLFLOW_TRACKING_URI=mlflow_url, MLFLOW_EXPERIMENT_NAME="bench-evaluation", PORT=str(port),
                   AGENTFN_EVALUATION_AGENT_CONCURRENCY=str(a.concurrency),
                   AGENTFN_EVALUATION_JUDGE_CONCURRENCY=str(a.concurrency),
                   AGENTFN_EVALUATION_MAX_ROWS=str(max(a.rows, 10000)), AGENTFN_EVALUATION_TRACE_JUDGES=a.trace_judges,
                   AGENTFN_TRACING_SPOOL_DIRECTORY=f"{ROOT}/target/bench-evaluation-spool", QUARKUS_LOG_LEVEL="WARN")
        procs.append(subprocess.Popen([a.java, "-jar", f"{a.app}/quarkus-run.jar"], env=env, stdout=subprocess.DEVNULL))
        app = f"http://127.0.0.1:{port}"
        wait_up(f"{app}/q/health/ready")
        judge = lambda name: {"type": "judge", "name": name, "model": f"anthropic:/{JUDGE_MODEL}",
                              "instructions": f"Is {{{{ outputs }}}} {name} for {{{{ inputs }}}}?"}
        body = {"name": "bench", "wait": True, "scorers": [judge("relevance"), judge("correctness"), "no_error"],
                "dataset": {"rows": [{"inputs": {"prompt": f"Question {i}"}} for i in range(a.rows)]}}
        # Warm-up on a few rows with no latency (JIT, connection pools, the MLflow experiment).
        post(f"{fake}/_fake/config", {"latency_ms": 0, "model_latency_ms": {JUDGE_MODEL: 0}})
        post(f"{fake}/_fake/turns", [{"type": "text", "text": VERDICT}] * 3 * 20)
        post(f"{app}/v1/evaluations", dict(body, name="warmup", dataset={"rows": body["dataset"]["rows"][:20]}))
        post(f"{fake}/_fake/config", {"latency_ms": a.agent_ms, "model_latency_ms": {JUDGE_MODEL: a.judge_ms}})
        # Every call gets a verdict-shaped answer (a fine agent answer too), so no judge retries a malformed one.
        post(f"{fake}/_fake/turns", [{"type": "text", "text": VERDICT}] * 3 * a.rows)
        before = pg_transactions(mlflow)
        started = time.monotonic()
        result = post(f"{app}/v1/evaluations", body)
        wall = time.monotonic() - started
        time.sleep(0.5)  # PostgreSQL's statistics collector reports with a short delay
        after = pg_transactions(mlflow)
        ideal = (a.rows * a.agent_ms + a.rows * 2 * a.judge_ms) / 1000 / a.concurrency
        out = {"mlflow_backend": a.mlflow_backend, "mlflow_workers": a.mlflow_workers, "trace_judges": a.trace_judges, "rows": a.rows, "agent_ms": a.agent_ms, "judge_ms": a.judge_ms, "concurrency": a.concurrency,
               "status": result["status"], "rows_done": result["rows_done"], "rows_failed": result["rows_failed"],
               "wall_s": round(wall, 2), "ideal_s": round(ideal, 2), "ratio": round(wall / ideal, 3),
               "relevance_mean": result.get("metrics", {}).get("relevance/mean"),
               "pg_commits": after and after[0] - before[0], "pg_rollbacks": after and after[1] - before[1]}
        out["run_id"] = result.get("run_id")
        if a.peer:
            out["agentfn_in_mlflow"] = run_contents(mlflow_url, result["run_id"]) if result.get("run_id") else None
            # The peer times mlflow.genai.evaluate alone (its imports and experiment set-up are outside). It
            # calls predict_fn once more than there are rows (MLflow checks that it produces a trace first).
            post(f"{fake}/_fake/turns", [{"type": "text", "text": VERDICT}] * (3 * a.rows + 10))
            peer, cmd = run_peer(a, fake, mlflow_url)
            out["peer"] = {"wall_s": peer["wall_s"], "ratio_to_ideal": round(peer["wall_s"] / ideal, 3),
                           "run_id": peer["run_id"], "metrics": peer["metrics"], "command": cmd,
                           "in_mlflow": run_contents(mlflow_url, peer["run_id"])}
            out["agentfn_to_peer"] = round(wall / peer["wall_s"], 3)
        print(json.dumps(out, indent=2))
        if a.out:
            with open(a.out, "w") as f:
                json.dump(out, f, indent=2)
        if result["status"] != "FINISHED":
            raise SystemExit(f"evaluation ended {result['status']}: {result.get('failure')}")
    finally:
        stop_all(procs)


if __name__ == "__main__":
    main()
