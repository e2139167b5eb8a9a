"""Peer 2: the Python service a team would deploy for Claude Code conversations.

FastAPI (async) under uvicorn, the Claude Agent SDK's `ClaudeSDKClient` (one CLI process per
invocation, as the SDK runs it) and `mlflow.anthropic.autolog()`, which patches ClaudeSDKClient: when
`receive_response()` is drained it builds the trace and flushes MLflow's async logging, so the trace is
delivered before the answer. Run by bench/compare.py:

    uvicorn --workers 2 --app-dir bench/peers agent_sdk_service:app

Environment: ANTHROPIC_BASE_URL (the fake), ANTHROPIC_API_KEY, MLFLOW_TRACKING_URI,
MLFLOW_EXPERIMENT_NAME, CLAUDE_CLI_PATH (the pinned CLI; default: the SDK's bundled one),
PEER_TRACING=off for the untraced variant.

POST /v1/invocations {"prompt": "...", "max_turns": 10} -> {"output", "turns"}.
Built-in tools are off (tools=[]): the fake would otherwise script calls of the CLI's own tools.
"""
import os
import tempfile

import mlflow
from claude_agent_sdk import ClaudeAgentOptions, ClaudeSDKClient, ResultMessage
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

TRACING = os.environ.get("PEER_TRACING", "on") != "off"
if TRACING:
    mlflow.set_tracking_uri(os.environ["MLFLOW_TRACKING_URI"])
    mlflow.set_experiment(os.environ.get("MLFLOW_EXPERIMENT_NAME", "bench-peer-agent-sdk"))
    mlflow.anthropic.autolog()

app = FastAPI()
WORK = tempfile.mkdtemp(prefix="bench-agent-sdk-")


def options(max_turns: int) -> ClaudeAgentOptions:
    return ClaudeAgentOptions(
        tools=[], max_turns=max_turns, setting_sources=[], cwd=WORK,
        model=os.environ.get("ANTHROPIC_MODEL", "claude-sonnet-5-5"),
        cli_path=os.environ.get("CLAUDE_CLI_PATH") or None,
        env={"CLAUDE_CONFIG_DIR": os.path.join(WORK, ".claude"), "DISABLE_AUTOUPDATER": "1",
             "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1", "DISABLE_TELEMETRY": "1"})


@app.post("/v1/invocations")
async def invoke(request: Request):
    body = await request.json()
    output, turns = "", 0
    async with ClaudeSDKClient(options(int(body.get("max_turns", 10)))) as client:
        await client.query(body["prompt"])
        async for message in client.receive_response():  # drained: autolog builds and flushes the trace
            if isinstance(message, ResultMessage):
                output, turns = message.result or "", message.num_turns
    return JSONResponse({"output": output, "turns": turns})


@app.get("/health")
async def health():
    return {"status": "ok"}
