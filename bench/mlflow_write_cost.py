#!/usr/bin/env python3
"""What each way of writing a trace costs the MLflow server itself (issue #20): CPU per trace of the tracking server
(uvicorn workers and PostgreSQL) for StartTraceV3 and OTLP span requests, alone and together, one trace per OTLP
request or many. It measures the floor the group-commit goals meet: while a trace needs one StartTraceV3 of its own,
no batching of its spans brings MLflow's CPU per trace below what StartTraceV3 alone costs.

The traces are shaped as agentfn's `messages` engine writes them (AGENT root with inputs, outputs, session and user;
two LLM spans with token usage and cost; one TOOL span) and are sent by this script, not by agentfn, so only the
server's work is compared: the same traces, the same server, one mode after the other, each from a quiet server
until it is quiet again.

    python3 bench/mlflow_write_cost.py                    # 600 traces per mode, 16 in flight, PostgreSQL, 4 workers
    python3 bench/mlflow_write_cost.py --traces 100       # quicker
Runs with the MLflow virtualenv's Python (it has opentelemetry-proto); re-executes itself there if needed.
"""
import argparse, concurrent.futures, json, os, secrets, sys, time, urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import MLFLOW_BACKENDS, mlflow_venv, start_mlflow, tree_cpu_s  # noqa: E402

try:
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
    from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
    from opentelemetry.proto.trace.v1.trace_pb2 import Span, Status
except ImportError:
    venv = mlflow_venv()
    if os.path.realpath(sys.prefix) == os.path.realpath(venv):
        raise
    os.execv(f"{venv}/bin/python", [f"{venv}/bin/python"] + sys.argv)

MODES = {
    # name: (StartTraceV3 per trace, traces per OTLP request; 0 = no OTLP)
    "start+otlp x1 (one trace per request: agentfn before group commit)": (True, 1),
    "start+otlp x10 (group commit, 10 traces per request)": (True, 10),
    "start+otlp x50 (group commit, 50 traces per request)": (True, 50),
    "start only": (True, 0),
    "otlp x1 only": (False, 1),
    "otlp x10 only": (False, 10),
    "otlp x50 only": (False, 50),
}


def post(url, body, headers):
    req = urllib.request.Request(url, data=body, headers=headers, method="POST")
    with urllib.request.urlopen(req, timeout=120) as r:
        r.read()
        return r.status


def kv(key, value):
    # attribute values as MLflow's own exporters send them: JSON text in a string AnyValue
    return KeyValue(key=key, value=AnyValue(string_value=json.dumps(value)))


def trace(i):
    tid, root = secrets.token_bytes(16), secrets.token_bytes(8)
    t0 = time.time_ns() - 5_000_000_000
    usage = {"input_tokens": 120, "output_tokens": 30, "total_tokens": 150}
    cost = {"input_cost": 0.00036, "output_cost": 0.00045, "total_cost": 0.00081}

    def span(sid, parent, name, start, end, attrs):
        return Span(trace_id=tid, span_id=sid, parent_span_id=parent or b"", name=name, start_time_unix_nano=start,
                    end_time_unix_nano=end, attributes=[kv(k, v) for k, v in attrs.items()],
                    status=Status(code=Status.STATUS_CODE_OK))

    spans = [
        span(root, None, "agent_invocation", t0, t0 + 4_000_000_000, {
            "mlflow.spanType": "AGENT", "mlflow.spanInputs": {"prompt": f"What is the weather in city {i}?"},
            "mlflow.spanOutputs": {"response": "Sunny, 21 degrees."}, "session.id": f"s-{i % 50}", "user.id": "bench",
            "mlflow.traceRequestId": "tr-" + tid.hex()}),
        span(secrets.token_bytes(8), root, "llm", t0 + 10_000_000, t0 + 1_500_000_000, {
            "mlflow.spanType": "CHAT_MODEL", "mlflow.spanInputs": {"messages": [{"role": "user", "content": "weather?"}]},
            "mlflow.spanOutputs": {"role": "assistant", "content": [{"type": "tool_use", "name": "get_weather"}]},
            "mlflow.chat.tokenUsage": usage, "mlflow.llm.cost": cost, "mlflow.llm.model": "claude-sonnet-4-5"}),
        span(secrets.token_bytes(8), root, "get_weather", t0 + 1_500_000_000, t0 + 2_000_000_000, {
            "mlflow.spanType": "TOOL", "mlflow.spanInputs": {"city": f"city {i}"}, "mlflow.spanOutputs": {"result": "sunny"}}),
        span(secrets.token_bytes(8), root, "llm", t0 + 2_000_000_000, t0 + 3_900_000_000, {
            "mlflow.spanType": "CHAT_MODEL", "mlflow.spanInputs": {"messages": [{"role": "user", "content": "weather?"}]},
            "mlflow.spanOutputs": {"role": "assistant", "content": [{"type": "text", "text": "Sunny"}]},
            "mlflow.chat.tokenUsage": usage, "mlflow.llm.cost": cost, "mlflow.llm.model": "claude-sonnet-4-5"}),
    ]
    ms = t0 // 1_000_000
    info = {"trace_id": "tr-" + tid.hex(), "trace_location": {"type": "MLFLOW_EXPERIMENT",
                                                               "mlflow_experiment": {"experiment_id": None}},
            "request_time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ms / 1000)) + f".{ms % 1000:03d}Z",
            "execution_duration": "4s", "state": "OK",
            "request_preview": f'{{"prompt": "What is the weather in city {i}?"}}',
            "response_preview": '{"response": "Sunny, 21 degrees."}',
            "trace_metadata": {"mlflow.trace_schema.version": "3", "mlflow.trace.session": f"s-{i % 50}",
                               "mlflow.trace.user": "bench", "agentfn.engine": "messages", "agentfn.model": "claude-sonnet-4-5",
                               "mlflow.trace.tokenUsage": json.dumps({k: 2 * v for k, v in usage.items()}),
                               "mlflow.trace.cost": json.dumps({k: 2 * v for k, v in cost.items()})},
            "tags": {"mlflow.traceName": "agent_invocation"}}
    return info, spans


def otlp_body(span_lists):
    req = ExportTraceServiceRequest()
    scope = req.resource_spans.add().scope_spans.add()
    for spans in span_lists:
        scope.spans.extend(spans)
    return req.SerializeToString()


def run_mode(url, experiment, n, concurrency, start, per_request):
    traces = [trace(i) for i in range(n)]
    for info, _ in traces:
        info["trace_location"]["mlflow_experiment"]["experiment_id"] = experiment
    otlp_headers = {"Content-Type": "application/x-protobuf", "x-mlflow-experiment-id": experiment}
    jobs = []
    if start:
        jobs += [lambda info=info: post(f"{url}/api/3.0/mlflow/traces", json.dumps({"trace": {"trace_info": info}}).encode(),
                                        {"Content-Type": "application/json"}) for info, _ in traces]
    if per_request:
        for k in range(0, n, per_request):
            body = otlp_body([spans for _, spans in traces[k:k + per_request]])
            jobs.append(lambda body=body: post(f"{url}/v1/traces", body, otlp_headers))
    with concurrent.futures.ThreadPoolExecutor(concurrency) as pool:
        t = time.monotonic()
        statuses = list(pool.map(lambda job: job(), jobs))
        wall = time.monotonic() - t
    bad = [s for s in statuses if s != 200]
    if bad:
        raise SystemExit(f"{len(bad)} requests failed: {bad[:5]}")
    return wall


def quiet(pids, settle_s=1.0, limit_s=60):
    """Waits until the server's CPU stops moving (asynchronous work done); returns its CPU seconds then."""
    last, deadline = tree_cpu_s(pids), time.monotonic() + limit_s
    while time.monotonic() < deadline:
        time.sleep(settle_s)
        now = tree_cpu_s(pids)
        if now - last < 0.02:
            return now
        last = now
    return last


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--traces", type=int, default=600)
    ap.add_argument("--concurrency", type=int, default=16)
    ap.add_argument("--runs", type=int, default=2, help="each mode this many times, modes interleaved")
    ap.add_argument("--mlflow-backend", choices=MLFLOW_BACKENDS, default="postgres")
    ap.add_argument("--mlflow-workers", type=int, default=None)
    a = ap.parse_args()
    server, url = start_mlflow("bench-mlflow-write-cost", workers=a.mlflow_workers, backend=a.mlflow_backend)
    try:
        body = json.dumps({"name": f"write-cost-{secrets.token_hex(4)}"}).encode()
        with urllib.request.urlopen(urllib.request.Request(f"{url}/api/2.0/mlflow/experiments/create", data=body,
                                                           headers={"Content-Type": "application/json"})) as r:
            experiment = json.load(r)["experiment_id"]
        run_mode(url, experiment, 100, a.concurrency, True, 1)  # warm the workers and the connection pools
        results = {m: [] for m in MODES}
        for _ in range(a.runs):
            for mode, (start, per_request) in MODES.items():
                before = quiet(server.pids())
                wall = run_mode(url, experiment, a.traces, a.concurrency, start, per_request)
                cpu = quiet(server.pids()) - before
                results[mode].append((cpu * 1000 / a.traces, a.traces / wall))
    finally:
        server.terminate()
        server.wait(30)
    base = min(c for c, _ in results[next(iter(MODES))])
    print(f"MLflow 3.17.2 on {a.mlflow_backend}, {a.traces} traces of 4 spans per mode and run, {a.concurrency} requests "
          f"in flight, {a.runs} run(s); CPU of the server's process tree (workers and database) per trace, best run\n")
    print("| Mode | MLflow CPU ms per trace | vs one trace per request | traces/s |")
    print("|---|---:|---:|---:|")
    for mode, runs in results.items():
        cpu = min(c for c, _ in runs)
        rate = max(r for _, r in runs)
        print(f"| {mode} | {cpu:.2f} | {cpu / base:.2f} | {rate:.0f} |")


if __name__ == "__main__":
    main()
