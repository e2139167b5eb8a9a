"""Peer 1: the Python service a team would deploy instead of agentfn for the Messages API tool loop.

FastAPI under uvicorn (`def` endpoint: FastAPI runs it in its thread pool, 40 threads per worker), the
official `anthropic` SDK (one client per worker), `mlflow.anthropic.autolog()` for the model calls,
`@mlflow.trace` around the whole invocation so one trace holds the loop. The trace is in MLflow
before the answer leaves (what agentfn guarantees), in one of two ways (PEER_DELIVERY):

- `sync` (default): MLFLOW_ENABLE_ASYNC_TRACE_LOGGING=false, so MLflow exports the trace in the
  request's thread when the root span ends (StartTraceV3, then the spans as an artifact upload).
- `flush`: MLflow's default async logging, then `mlflow.flush_trace_async_logging()` before answering.
  In MLflow 3.17.2 each flush stops and restarts the export consumer thread, whose queue poll waits up
  to 1 s, and flushes are serialized by a lock: about 1 s per answer, ~1 answer/s per worker under load.
  Measured with `--peer-delivery flush`; not the default because no team would keep it.

Run by bench/compare.py:  uvicorn --workers 2 --app-dir bench/peers messages_service:app
Environment: ANTHROPIC_BASE_URL (the fake), ANTHROPIC_API_KEY, MLFLOW_TRACKING_URI,
MLFLOW_EXPERIMENT_NAME, BENCH_TOOL_URL (the HTTP tool both sides call), PEER_TRACING=off for the
same service without tracing (scenario 2 takes the difference), PEER_DELIVERY=sync|flush.

POST /v1/invocations {"prompt": "...", "tools": ["weather"] (optional), "max_turns": 10}
  -> {"output", "turns", "trace_id"}; header x-trace-id.
"""
import os

TRACING = os.environ.get("PEER_TRACING", "on") != "off"
DELIVERY = os.environ.get("PEER_DELIVERY", "sync")
if DELIVERY == "sync":
    os.environ["MLFLOW_ENABLE_ASYNC_TRACE_LOGGING"] = "false"  # read when MLflow builds its exporter

import anthropic  # noqa: E402
import httpx  # noqa: E402
import mlflow  # noqa: E402
from fastapi import FastAPI, Request  # noqa: E402
from fastapi.responses import JSONResponse  # noqa: E402

MODEL = os.environ.get("ANTHROPIC_MODEL", "claude-sonnet-5-5")
TOOL_URL = os.environ.get("BENCH_TOOL_URL", "")
# The same declaration agentfn sends for its configured HTTP tool "weather".
WEATHER = {"name": "weather", "description": "Current weather for a city",
           "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}

if TRACING:
    mlflow.set_tracking_uri(os.environ["MLFLOW_TRACKING_URI"])
    mlflow.set_experiment(os.environ.get("MLFLOW_EXPERIMENT_NAME", "bench-peer"))
    mlflow.anthropic.autolog()

app = FastAPI()
client = anthropic.Anthropic(max_retries=2)
tools_http = httpx.Client(timeout=10)


def traced(span_type):
    return mlflow.trace(span_type=span_type) if TRACING else (lambda f: f)


@traced("TOOL")
def weather(city: str) -> str:
    r = tools_http.post(TOOL_URL, json={"city": city})
    r.raise_for_status()
    return r.text


@traced("AGENT")
def agent(prompt: str, use_tools: bool, max_turns: int) -> dict:
    trace_id = (mlflow.get_active_trace_id() or "") if TRACING else ""
    messages = [{"role": "user", "content": prompt}]
    extra = {"tools": [WEATHER]} if use_tools else {}
    for turn in range(1, max_turns + 1):
        reply = client.messages.create(model=MODEL, max_tokens=4096, messages=messages, **extra)
        if reply.stop_reason != "tool_use":
            text = "".join(b.text for b in reply.content if b.type == "text")
            return {"output": text, "turns": turn, "trace_id": trace_id}
        messages.append({"role": "assistant", "content": [b.model_dump(exclude_none=True) for b in reply.content]})
        results = [{"type": "tool_result", "tool_use_id": b.id, "content": weather(**b.input)}
                   for b in reply.content if b.type == "tool_use"]
        messages.append({"role": "user", "content": results})
    return {"output": "", "turns": max_turns, "stop_reason": "max_turns", "trace_id": trace_id}


@app.post("/v1/invocations")
def invoke(body: dict):
    result = agent(body["prompt"], bool(body.get("tools")), int(body.get("max_turns", 10)))
    if TRACING and DELIVERY == "flush":
        mlflow.flush_trace_async_logging()
    return JSONResponse(result, headers={"x-trace-id": result["trace_id"]})


@app.get("/health")
def health():
    return {"status": "ok"}
