"""What the benchmark scripts share: paths, ports, and starting the fake and a local MLflow server."""
import json, os, shutil, socket, subprocess, time, urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
APP = f"{ROOT}/target/quarkus-app"
CP = f"{APP}/app/*:{APP}/lib/main/*"


def free_port():
    s = socket.socket(); s.bind(("127.0.0.1", 0)); p = s.getsockname()[1]; s.close(); return p


def wait_up(url, seconds=240):
    end = time.time() + seconds
    while time.time() < end:
        try:
            urllib.request.urlopen(url, timeout=2); return
        except Exception:
            time.sleep(0.2)
    raise SystemExit(f"{url} did not come up")


def start_fake(port, *args):
    """The project's fake Messages API as its own process."""
    return subprocess.Popen(["java", "-cp", CP, "dev.agentfn.standin.FakeAnthropicServer", "--port", str(port), *args],
                            stdout=subprocess.DEVNULL)


def first_answer(url, body, deadline_s=120):
    """POSTs body to url until the first 200 (connection refused while the process starts); returns the JSON."""
    end = time.time() + deadline_s
    while time.time() < end:
        try:
            req = urllib.request.Request(url, data=body, headers={"content-type": "application/json"})
            with urllib.request.urlopen(req, timeout=30) as r:
                if r.status == 200:
                    return json.loads(r.read())
        except Exception:
            time.sleep(0.005)
    raise SystemExit(f"no answer from {url} within {deadline_s} s")


def start_mlflow(name, workers=1, env=None):
    """A throwaway MLflow server (SQLite, `workers` uvicorn workers, no job runner); returns (process, base URL).
    env: extra environment of the server (e.g. MLFLOW_SQLALCHEMYSTORE_POOLCLASS)."""
    venv = subprocess.run(["bash", f"{ROOT}/.ci/setup-mlflow.sh"], capture_output=True, text=True,
                          check=True).stdout.strip().splitlines()[-1]
    port = free_port()
    d = f"{ROOT}/target/{name}"
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    proc = subprocess.Popen([f"{venv}/bin/mlflow", "server", "--host", "127.0.0.1", "--port", str(port),
                             "--backend-store-uri", f"sqlite:///{d}/mlflow.db", "--artifacts-destination",
                             f"{d}/artifacts", "--workers", str(workers)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            env=dict(os.environ, MLFLOW_MODEL_CATALOG_URI="", MLFLOW_SERVER_ENABLE_JOB_EXECUTION="false",
                                     **(env or {})))
    url = f"http://127.0.0.1:{port}"
    wait_up(f"{url}/health")
    return proc, url


def stop_all(procs):
    for p in reversed(procs):
        p.terminate()
    for p in procs:
        try:
            p.wait(10)
        except Exception:
            p.kill()


def report(result, out=None):
    """Prints a benchmark's result as JSON and writes it to `out` when given."""
    print(json.dumps(result, indent=2))
    if out:
        os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
        with open(out, "w") as f:
            json.dump(result, f, indent=2)


def agentfn_env(fake_port, mlflow_url=None, experiment="bench"):
    """Environment of an agentfn process for a benchmark: the fake Messages API, a spool in target/,
    quiet logs, and tracing to mlflow_url (off without one)."""
    env = dict(os.environ, ANTHROPIC_BASE_URL=f"http://127.0.0.1:{fake_port}", ANTHROPIC_API_KEY="bench-key",
               AGENTFN_TRACING_SPOOL_DIRECTORY=f"{ROOT}/target/bench-spool", QUARKUS_LOG_LEVEL="WARN")
    env.pop("MLFLOW_TRACKING_URI", None)
    if mlflow_url:
        env.update(MLFLOW_TRACKING_URI=mlflow_url, MLFLOW_EXPERIMENT_NAME=experiment)
    return env
