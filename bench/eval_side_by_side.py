#!/usr/bin/env python3
"""Issue #18: MLflow's own evaluation example, run twice against the same fakes and MLflow server, and the two
MLflow runs compared key by key.

  python3 bench/eval_side_by_side.py [--out target/eval-side-by-side.json]   (after ./mvnw package -DskipTests)

The example: rows {"inputs": {"query": …}}, a judge make_judge(name="relevance", instructions="Evaluate if the
response in {{ outputs }} is relevant to the question in {{ inputs }}. Return either 'pass' or 'fail'.",
model="openai:/gpt-4o") and mlflow.genai.evaluate(data, predict_fn, scorers).

- Python side (the peers' venv, bench/common.peers_venv): exactly that, predict_fn calling the fake Messages API with
  the anthropic SDK, the judge reaching the fake OpenAI endpoint through OPENAI_BASE_URL (MLflow's gateway adapter).
- agentfn side: the packaged jar's `evaluate` command with the same rows and judge definition copied as they are.

Fakes: agentfn's fake Messages API (echo scenario: the answer repeats the question) and a fake OpenAI
chat-completions endpoint started here, which answers "pass" when the question mentions MLflow and "fail" otherwise,
with usage 42 prompt / 7 completion tokens, and records every request. Prints the comparison as JSON: for each
aspect (run tags, params, metrics, dataset inputs, linked traces row by row — state, trace metadata and tags key by
key, previews, root span —, assessments, judge requests) what is the same and what differs.
"""
import argparse, http.server, json, os, subprocess, sys, tempfile, threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import APP, ROOT, free_port, peers_venv, start_fake, start_mlflow, stop_all, wait_up  # noqa: E402

AGENT_MODEL = "claude-haiku-4-5"
ROWS = [{"inputs": {"query": "What is machine learning?"}}, {"inputs": {"query": "What is MLflow?"}}]
INSTRUCTIONS = ("Evaluate if the response in {{ outputs }} is relevant to the question in {{ inputs }}. "
                "Return either 'pass' or 'fail'.")
JUDGE = {"type": "judge", "name": "relevance", "instructions": INSTRUCTIONS, "model": "openai:/gpt-4o"}

PEER = """
import json, os, sys
import anthropic, mlflow
from mlflow.genai.judges import make_judge

mlflow.set_experiment(sys.argv[1])
client = anthropic.Anthropic(base_url=os.environ["ANTHROPIC_BASE_URL"], max_retries=0)

def predict_fn(query):
    r = client.messages.create(model=sys.argv[2], max_tokens=1024, messages=[{"role": "user", "content": query}])
    return r.content[0].text

relevance = make_judge(name="relevance", instructions=sys.argv[3], model="openai:/gpt-4o")
result = mlflow.genai.evaluate(data=json.loads(sys.argv[4]), predict_fn=predict_fn, scorers=[relevance])
print(json.dumps({"run_id": result.run_id}))
"""

READ = """
import json, sys, mlflow
run = mlflow.get_run(sys.argv[1])
traces = mlflow.search_traces(locations=[run.info.experiment_id], run_id=sys.argv[1], return_type="list")
rows = []
linked = []
for t in traces:
    root = [s for s in t.data.spans if s.parent_id is None][0]
    linked.append({"query": json.dumps(root.inputs), "state": str(t.info.state), "metadata": t.info.trace_metadata,
                   "tags": t.info.tags, "request_preview": t.info.request_preview,
                   "response_preview": t.info.response_preview,
                   "root": {"name": root.name, "span_type": root.span_type},
                   "span_types": sorted({s.span_type for s in t.data.spans})})
    for a in t.info.assessments or []:
        if a.name != "relevance":
            continue
        rows.append({"query": json.dumps(t.data.spans[0].inputs), "value": a.value, "rationale": a.rationale,
                     "error": None if a.error is None else a.error.error_message,
                     "source": [a.source.source_type, a.source.source_id], "metadata": a.metadata or {},
                     "on_root_span": a.span_id == [s.span_id for s in t.data.spans if s.parent_id is None][0]})
print(json.dumps({"status": run.info.status, "tags": run.data.tags, "params": run.data.params,
                  "metrics": run.data.metrics, "traces": len(traces), "linked": linked, "assessments": rows,
                  "inputs": [{"name": d.dataset.name, "source_type": d.dataset.source_type,
                              "profile": d.dataset.profile} for d in run.inputs.dataset_inputs]}, default=str))
"""


class FakeOpenAi(http.server.ThreadingHTTPServer):
    """POST /v1/chat/completions: "pass" when the user message mentions MLflow, else "fail"; records requests."""

    def __init__(self):
        self.requests = []
        super().__init__(("127.0.0.1", 0), Handler)


class Handler(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["content-length"])))
        self.server.requests.append(body)
        user = next(m["content"] for m in body["messages"] if m["role"] == "user")
        verdict = "pass" if "MLflow" in user else "fail"
        content = json.dumps({"result": verdict, "rationale": f"fake judgement: {verdict}"})
        answer = json.dumps({"id": f"chatcmpl-{len(self.server.requests)}", "object": "chat.completion",
                             "created": 0, "model": body.get("model"),
                             "choices": [{"index": 0, "finish_reason": "stop",
                                          "message": {"role": "assistant", "content": content}}],
                             "usage": {"prompt_tokens": 42, "completion_tokens": 7, "total_tokens": 49}}).encode()
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, *args):
        pass


def read_run(venv, mlflow_url, run_id):
    out = subprocess.run([f"{venv}/bin/python", "-c", READ, run_id], capture_output=True, text=True,
                         env=dict(os.environ, MLFLOW_TRACKING_URI=mlflow_url))
    if out.returncode != 0:
        raise SystemExit(f"reading run {run_id} failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def compare_maps(a, b, volatile=()):
    """Keys only one side has, and keys both have with different values (volatile keys: compared by presence)."""
    out = {"only_mlflow": sorted(set(a) - set(b)), "only_agentfn": sorted(set(b) - set(a)), "different": {}}
    for k in sorted(set(a) & set(b)):
        if k not in volatile and a[k] != b[k]:
            out["different"][k] = {"mlflow": a[k], "agentfn": b[k]}
    out["same"] = sorted(k for k in set(a) & set(b) if k not in out["different"])
    return out


# Trace keys whose values differ by nature (ids, times, sizes, the run each side made): compared by presence.
TRACE_VOLATILE = ("mlflow.sourceRun", "mlflow.trace.sizeBytes", "mlflow.trace.sizeStats", "mlflow.trace_schema.version",
                  "mlflow.artifactLocation", "mlflow.traceName")


def compare_traces(peer, mine):
    """The linked traces row by row (matched by their question): metadata and tags key by key, and the rest."""
    def question(t):
        return next((q for q in (r["inputs"]["query"] for r in ROWS) if q in t["query"]), None)
    mine_by_q = {question(t): t for t in mine}
    out = []
    for a in peer:
        b = mine_by_q.get(question(a))
        if b is None:
            out.append({"question": question(a), "agentfn": None})
            continue
        out.append({"question": question(a),
                    "state": {"mlflow": a["state"], "agentfn": b["state"]},
                    "metadata": compare_maps(a["metadata"], b["metadata"], volatile=TRACE_VOLATILE),
                    "tags": compare_maps(a["tags"], b["tags"], volatile=TRACE_VOLATILE),
                    "request_preview": {"mlflow": a["request_preview"], "agentfn": b["request_preview"]},
                    "response_preview": {"mlflow": a["response_preview"], "agentfn": b["response_preview"]},
                    "root": {"mlflow": a["root"], "agentfn": b["root"]},
                    "span_types": {"mlflow": a["span_types"], "agentfn": b["span_types"]}})
    return out


def by_verdict(assessments):
    return {a["value"]: a for a in assessments}


def compare(peer, mine, peer_requests, my_requests):
    volatile = ("mlflow.assessment.sourceRunId", "mlflow.assessment.scorerDigest")
    result = {
        "status": {"mlflow": peer["status"], "agentfn": mine["status"]},
        "run_tags": compare_maps(peer["tags"], mine["tags"], volatile=("mlflow.runName",)),
        "params": compare_maps(peer["params"], mine["params"]),
        "metrics": compare_maps(peer["metrics"], mine["metrics"]),
        "dataset_inputs": {"mlflow": peer["inputs"], "agentfn": mine["inputs"]},
        "linked_traces": {"mlflow": peer["traces"], "agentfn": mine["traces"],
                          "by_row": compare_traces(peer["linked"], mine["linked"])},
        "assessment_values": {"mlflow": sorted(str(a["value"]) for a in peer["assessments"]),
                              "agentfn": sorted(str(a["value"]) for a in mine["assessments"])},
        "assessments": {},
    }
    p, m = by_verdict(peer["assessments"]), by_verdict(mine["assessments"])
    for verdict in sorted(set(p) & set(m)):
        a, b = p[verdict], m[verdict]
        result["assessments"][verdict] = {
            "source": {"mlflow": a["source"], "agentfn": b["source"]},
            "rationale_same": a["rationale"] == b["rationale"],
            "error": {"mlflow": a["error"], "agentfn": b["error"]},
            "on_root_span": {"mlflow": a["on_root_span"], "agentfn": b["on_root_span"]},
            "metadata": compare_maps(a["metadata"], b["metadata"], volatile=volatile),
        }
    # The judge requests, row by row (matched by their user message, which holds the row's values).
    mine_by_user = {next(x["content"] for x in r["messages"] if x["role"] == "user"): r for r in my_requests}
    requests = []
    for r in peer_requests:
        user = next(x["content"] for x in r["messages"] if x["role"] == "user")
        other = mine_by_user.get(user)
        requests.append({"user_message_same": other is not None,
                         "fields": compare_maps(r, other or {}, volatile=()) if other else None,
                         "mlflow_user_message": user})
    result["judge_requests"] = {"mlflow": len(peer_requests), "agentfn": len(my_requests), "by_row": requests}
    return result


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--app", default=APP, help="the quarkus-app directory of the build to run")
    ap.add_argument("--java", default="java")
    ap.add_argument("--out", default=None)
    a = ap.parse_args()
    procs = []
    openai = FakeOpenAi()
    threading.Thread(target=openai.serve_forever, daemon=True).start()
    openai_base = f"http://127.0.0.1:{openai.server_address[1]}/v1"
    try:
        fake_port = free_port()
        procs.append(start_fake(fake_port))
        fake = f"http://127.0.0.1:{fake_port}"
        wait_up(f"{fake}/api/hello")
        mlflow, mlflow_url = start_mlflow("bench-eval-side-by-side-mlflow", 1, backend="sqlite")
        procs.append(mlflow)
        venv = peers_venv()
        common_env = dict(os.environ, ANTHROPIC_BASE_URL=fake, ANTHROPIC_API_KEY="bench-key",
                          OPENAI_BASE_URL=openai_base, OPENAI_API_KEY="sk-bench", MLFLOW_TRACKING_URI=mlflow_url,
                          MLFLOW_MODEL_CATALOG_URI="", MLFLOW_DISABLE_TELEMETRY="true", DO_NOT_TRACK="true")

        # The seed as MLflow users run it.
        with tempfile.NamedTemporaryFile("w", suffix=".py", prefix="seed_evaluate_", dir=f"{ROOT}/target",
                                         delete=False) as f:
            f.write(PEER)
        out = subprocess.run([f"{venv}/bin/python", f.name, "side-by-side-mlflow", AGENT_MODEL, INSTRUCTIONS,
                              json.dumps(ROWS)], env=common_env, capture_output=True, text=True)
        os.unlink(f.name)
        if out.returncode != 0:
            raise SystemExit(f"mlflow.genai.evaluate failed:\n{out.stderr[-4000:]}")
        peer_run = json.loads(out.stdout.strip().splitlines()[-1])["run_id"]
        peer_requests, openai.requests = openai.requests, []

        # The same rows and judge through agentfn's evaluate command.
        work = tempfile.mkdtemp(prefix="eval-side-by-side-", dir=f"{ROOT}/target")
        with open(f"{work}/request.json", "w") as f:
            json.dump({"name": "side-by-side", "dataset": {"rows": ROWS}, "scorers": [JUDGE]}, f)
        env = dict(common_env, ANTHROPIC_MODEL=AGENT_MODEL, MLFLOW_EXPERIMENT_NAME="side-by-side-agentfn",
                   AGENTFN_TRACING_SPOOL_DIRECTORY=f"{work}/spool", QUARKUS_LOG_LEVEL="WARN")
        cmd = [a.java, "-jar", f"{a.app}/quarkus-run.jar", "evaluate", "--request", f"{work}/request.json"]
        run = subprocess.run(cmd, env=env, cwd=work, capture_output=True, text=True)
        if run.returncode != 0:
            raise SystemExit(f"agentfn evaluate exited {run.returncode}:\n{run.stdout[-3000:]}\n{run.stderr[-3000:]}")
        my_run = run.stdout.split("/runs/")[1].split()[0]
        my_requests = openai.requests

        result = compare(read_run(venv, mlflow_url, peer_run), read_run(venv, mlflow_url, my_run),
                         peer_requests, my_requests)
        result["runs"] = {"mlflow": peer_run, "agentfn": my_run}
        print(json.dumps(result, indent=2, default=str))
        if a.out:
            with open(a.out, "w") as f:
                json.dump(result, f, indent=2, default=str)
    finally:
        openai.shutdown()
        stop_all(procs)


if __name__ == "__main__":
    main()
