"""Runs Python snippets for MlflowPython in one long-lived interpreter, so `import mlflow` is paid once per test JVM.

Protocol: one JSON object per line on stdin, {"uri": tracking URI, "code": snippet}; one JSON object per line
back, {"rc": exit code, "out": the snippet's stdout, "err": its stderr and traceback}. The reply goes to a
duplicate of the original stdout; file descriptor 1 itself is pointed at stderr, so a library that writes to it
directly cannot corrupt the protocol. Each snippet runs as __main__ in fresh globals, with MLFLOW_TRACKING_URI
set and MLflow's fluent state (tracking URI, active experiment) reset, as a new interpreter would have it.
"""
import contextlib
import io
import json
import os
import sys
import traceback

reply = os.fdopen(os.dup(1), "w", encoding="utf-8")
os.dup2(2, 1)
sys.stdout = io.TextIOWrapper(os.fdopen(1, "wb", closefd=False), encoding="utf-8")

import mlflow  # noqa: E402  (after the descriptors are set up: importing it is the cost this server saves)
import mlflow.tracking.fluent as fluent  # noqa: E402


def reset(uri):
    os.environ["MLFLOW_TRACKING_URI"] = uri
    mlflow.set_tracking_uri(uri)
    fluent._active_experiment_id = None
    with contextlib.suppress(Exception):
        while mlflow.active_run() is not None:
            mlflow.end_run()


def run(uri, code):
    reset(uri)
    out, err = io.StringIO(), io.StringIO()
    rc = 0
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            exec(compile(code, "<snippet>", "exec"), {"__name__": "__main__"})
        except SystemExit as e:
            rc = e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
            if not isinstance(e.code, (int, type(None))):
                print(e.code, file=sys.stderr)
        except BaseException:  # noqa: BLE001  (the snippet's failure is the answer, not the server's)
            traceback.print_exc()
            rc = 1
    return {"rc": rc, "out": out.getvalue(), "err": err.getvalue()}


for line in sys.stdin:
    request = json.loads(line)
    reply.write(json.dumps(run(request["uri"], request["code"])) + "\n")
    reply.flush()
