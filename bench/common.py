"""What the benchmark scripts share: paths, ports, and starting the fake, a throwaway PostgreSQL cluster and a
local MLflow server (on SQLite or on that PostgreSQL)."""
import atexit, fcntl, glob, json, os, pwd, shutil, socket, subprocess, tempfile, threading, time, urllib.error, urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
APP = f"{ROOT}/target/quarkus-app"
CP = f"{APP}/app/*:{APP}/lib/main/*"


def free_port():
    s = socket.socket(); s.bind(("127.0.0.1", 0)); p = s.getsockname()[1]; s.close(); return p


def peers_venv():
    """The Python peers' virtualenv (bench/peers/setup.sh installs it once, cached), as a path."""
    return subprocess.run(["bash", f"{ROOT}/bench/peers/setup.sh"], capture_output=True, text=True,
                          check=True).stdout.strip().splitlines()[-1]


def wait_up(url, seconds=240):
    end = time.time() + seconds
    while time.time() < end:
        try:
            urllib.request.urlopen(url, timeout=2); return
        except Exception:
            time.sleep(0.2)
    raise SystemExit(f"{url} did not come up")


def start_fake(port, *args):
    """The project's fake Messages API as its own process. It keeps the last 100 requests only (its heap then
    holds no history that its collector would copy); a later --record-limit in args wins. Benchmarks count model
    calls with /_fake/config's received_requests, which the limit does not cap."""
    return subprocess.Popen(["java", "-cp", CP, "dev.agentfn.standin.FakeAnthropicServer", "--port", str(port),
                             "--record-limit", "100", *args], stdout=subprocess.DEVNULL)


def tree_pids(root):
    """root and all its descendants, from /proc."""
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


def tree_cpu_split(roots, exe=None):
    """(own, spawned) CPU seconds (user + system) used so far by the process trees under roots, reaped processes
    included (a parent's cutime/cstime holds what its waited-for children used). spawned: processes running
    exe and everything under them, alive or reaped; own: the rest. Without exe every reaped child counts as own."""
    exe = os.path.realpath(exe) if exe else None
    children = {}
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                with open(f"/proc/{d}/stat") as f:
                    children.setdefault(int(f.read().rsplit(")", 1)[1].split()[1]), []).append(int(d))
            except (OSError, IndexError, ValueError):
                pass
    own = spawned = 0
    todo = [(r, False) for r in roots]
    while todo:
        pid, under = todo.pop()
        try:
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            is_exe = under or (exe is not None and os.path.realpath(f"/proc/{pid}/exe") == exe)
        except (OSError, IndexError, ValueError):
            continue
        self_t, reaped = int(fields[11]) + int(fields[12]), int(fields[13]) + int(fields[14])
        if is_exe:
            spawned += self_t + reaped
        else:
            own += self_t
            if exe is None:
                own += reaped
            else:
                spawned += reaped
        todo.extend((c, is_exe) for c in children.get(pid, []))
    tick = os.sysconf("SC_CLK_TCK")
    return own / tick, spawned / tick


def tree_cpu_s(roots):
    """User + system CPU seconds used so far by the process trees under roots (vanished processes count 0)."""
    total = 0
    for root in roots:
        for pid in tree_pids(root):
            try:
                with open(f"/proc/{pid}/stat") as f:
                    fields = f.read().rsplit(")", 1)[1].split()
                total += int(fields[11]) + int(fields[12])
            except (OSError, IndexError, ValueError):
                pass
    return total / os.sysconf("SC_CLK_TCK")


def first_answer(url, body, deadline_s=120, http_errors_final=False):
    """POSTs body to url until the first 200 (connection refused while the process starts); returns the JSON.
    http_errors_final: an HTTP error answer (the process is up but refuses) raises HTTPError at once."""
    end = time.time() + deadline_s
    while time.time() < end:
        try:
            req = urllib.request.Request(url, data=body, headers={"content-type": "application/json"})
            with urllib.request.urlopen(req, timeout=60) as r:
                if r.status == 200:
                    return json.loads(r.read())
        except urllib.error.HTTPError:
            if http_errors_final:
                raise
            time.sleep(0.005)
        except Exception:
            time.sleep(0.005)
    raise SystemExit(f"no answer from {url} within {deadline_s} s")


# ---- MLflow's back-end store ------------------------------------------------------------------

MLFLOW_BACKENDS = ("sqlite", "postgres")
PSYCOPG2 = "psycopg2-binary==2.9.13"


def default_mlflow_workers(backend):
    """4 uvicorn workers on PostgreSQL (a production set-up); 1 on SQLite (one writer: more workers only
    contend for its lock, as the tests run it)."""
    return 4 if backend == "postgres" else 1


def mlflow_venv():
    return subprocess.run(["bash", f"{ROOT}/.ci/setup-mlflow.sh"], capture_output=True, text=True,
                          check=True).stdout.strip().splitlines()[-1]


def ensure_psycopg2(venv):
    """MLflow's PostgreSQL driver in the MLflow venv: installed once, under the venv's install lock
    (the one .ci/setup-mlflow.sh takes), so concurrent runs wait for one pip."""
    probe = [f"{venv}/bin/python", "-c", "import psycopg2"]
    if subprocess.run(probe, capture_output=True).returncode == 0:
        return
    with open(f"{venv}.install.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if subprocess.run(probe, capture_output=True).returncode != 0:
            subprocess.run([f"{venv}/bin/pip", "install", "--quiet", PSYCOPG2], check=True)


def postgres_bin():
    """The directory of initdb/pg_ctl/postgres (Debian's PostgreSQL 15: apt-get install postgresql-15)."""
    found = shutil.which("pg_ctl")
    if found:
        return os.path.dirname(os.path.realpath(found))
    dirs = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))
    if dirs:
        return os.path.dirname(dirs[-1])
    raise SystemExit("PostgreSQL not found (initdb/pg_ctl): apt-get install postgresql-15, "
                     "or use --mlflow-backend sqlite")


class Postgres:
    """A throwaway PostgreSQL cluster (initdb + pg_ctl) in a temporary directory on a free loopback port,
    trust authentication for the superuser `mlflow`, database `mlflow`. PostgreSQL refuses to run as
    root, so as root it runs as the unprivileged `postgres` user (or `nobody`). stop() (also at exit)
    stops it and deletes the directory. Quacks like a Popen for common.stop_all."""

    def __init__(self, max_connections=300):
        self.bin = postgres_bin()
        self.port = free_port()
        self.dir = tempfile.mkdtemp(prefix="agentfn-pg.")
        self.as_user = []
        if os.geteuid() == 0:
            user = "postgres"
            try:
                pwd.getpwnam(user)
            except KeyError:
                user = "nobody"
            shutil.chown(self.dir, user)
            self.as_user = ["runuser", "-u", user, "--"]
        data = f"{self.dir}/data"
        subprocess.run([*self.as_user, f"{self.bin}/initdb", "-D", data, "-U", "mlflow", "--auth=trust", "-E", "UTF8"],
                       check=True, stdout=subprocess.DEVNULL)
        subprocess.run([*self.as_user, f"{self.bin}/pg_ctl", "-D", data, "-l", f"{self.dir}/pg.log", "-w", "-o",
                        f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c max_connections={max_connections}"
                        " -c fsync=on", "start"], check=True, stdout=subprocess.DEVNULL)
        atexit.register(self.stop)
        subprocess.run([f"{self.bin}/createdb", "-h", "127.0.0.1", "-p", str(self.port), "-U", "mlflow", "mlflow"],
                       check=True)
        self.uri = f"postgresql+psycopg2://mlflow@127.0.0.1:{self.port}/mlflow"
        self.major = subprocess.run([f"{self.bin}/pg_ctl", "--version"], capture_output=True,
                                    text=True).stdout.split()[-1].split(".")[0]
        with open(f"{data}/postmaster.pid") as f:
            self.pid = int(f.readline())

    def psql(self, *args, **kw):
        return subprocess.run([f"{self.bin}/psql", "-q", "-X", "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1", "-p",
                               str(self.port), "-U", "mlflow", "-d", "mlflow", *args], **kw)

    def schema_cache(self, venv):
        """Where MLflow's migrated schema for this MLflow and PostgreSQL version is kept: loading it (about a
        second) spares the server its ~100 Alembic migrations on an empty database (30-60 s on 2 cores)."""
        cache = os.environ.get("AGENTFN_CACHE", os.path.expanduser("~/.cache/agentfn"))
        return f"{cache}/{os.path.basename(venv)}-postgres{self.major}-schema.sql"

    def load_schema(self, venv):
        """Loads the cached schema into the empty database; False when there is none (or it did not load:
        the database is then made empty again and MLflow migrates it)."""
        path = self.schema_cache(venv)
        if not os.path.exists(path):
            return False
        if self.psql("-f", path, capture_output=True).returncode == 0:
            return True
        os.remove(path)
        self.psql("-d", "postgres", "-c", "DROP DATABASE mlflow", capture_output=True)
        subprocess.run([f"{self.bin}/createdb", "-h", "127.0.0.1", "-p", str(self.port), "-U", "mlflow", "mlflow"],
                       check=True)
        return False

    def save_schema(self, venv):
        """Keeps the schema MLflow just migrated (before anything else is written) for the next start."""
        path = self.schema_cache(venv)
        tmp = f"{path}.tmp-{os.getpid()}"
        with open(tmp, "w") as f:
            ok = subprocess.run([f"{self.bin}/pg_dump", "--no-owner", "--no-privileges", "-h", "127.0.0.1", "-p",
                                 str(self.port), "-U", "mlflow", "mlflow"], stdout=f).returncode == 0
        if ok:
            os.replace(tmp, path)  # atomic: a concurrent run reads the old file or the new one, never half
        elif os.path.exists(tmp):
            os.remove(tmp)

    def stop(self):
        if self.dir and os.path.isdir(self.dir):
            subprocess.run([*self.as_user, f"{self.bin}/pg_ctl", "-D", f"{self.dir}/data", "-m", "fast", "-w", "stop"],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            shutil.rmtree(self.dir, ignore_errors=True)
        self.dir = None

    terminate = kill = stop

    def wait(self, timeout=None):
        return 0


class MlflowServer:
    """An `mlflow server` process and, on PostgreSQL, its cluster; stopping it stops both."""

    def __init__(self, proc, url, backend, pg=None):
        self.proc, self.url, self.backend, self.pg, self.pid = proc, url, backend, pg, proc.pid

    def pids(self):
        """The server's master and workers and, on PostgreSQL, the postmaster and its backends."""
        return [self.pid] + ([self.pg.pid] if self.pg else [])

    def terminate(self):
        self.proc.terminate()

    def kill(self):
        self.proc.kill()
        if self.pg:
            self.pg.stop()

    def wait(self, timeout=None):
        try:
            return self.proc.wait(timeout)
        finally:
            if self.pg:
                self.pg.stop()


def start_mlflow(name, workers=None, env=None, backend="sqlite"):
    """A throwaway MLflow server (`workers` uvicorn workers, default per back-end, no job runner) on SQLite
    (target/<name>/mlflow.db) or on a throwaway PostgreSQL cluster (backend="postgres"); returns
    (server, base URL), the server an MlflowServer (stopping it stops the cluster too).
    env: extra environment of the server (e.g. MLFLOW_SQLALCHEMYSTORE_POOLCLASS)."""
    if backend not in MLFLOW_BACKENDS:
        raise SystemExit(f"unknown MLflow back-end {backend!r}: {' or '.join(MLFLOW_BACKENDS)}")
    workers = workers or default_mlflow_workers(backend)
    venv = mlflow_venv()
    port = free_port()
    d = f"{ROOT}/target/{name}"
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    pg, store, migrated = None, f"sqlite:///{d}/mlflow.db", True
    if backend == "postgres":
        ensure_psycopg2(venv)
        pg = Postgres()
        store = pg.uri
        migrated = pg.load_schema(venv)
    proc = subprocess.Popen([f"{venv}/bin/mlflow", "server", "--host", "127.0.0.1", "--port", str(port),
                             "--backend-store-uri", store, "--artifacts-destination",
                             f"{d}/artifacts", "--workers", str(workers)], stdout=subprocess.DEVNULL,
                            stderr=open(f"{d}/server.log", "w"),
                            env=dict(os.environ, MLFLOW_MODEL_CATALOG_URI="", MLFLOW_SERVER_ENABLE_JOB_EXECUTION="false",
                                     **(env or {})))
    url = f"http://127.0.0.1:{port}"
    server = MlflowServer(proc, url, backend, pg)
    try:
        wait_up(f"{url}/health")
        if not migrated:
            pg.save_schema(venv)
    except BaseException:
        server.kill()
        raise
    return server, url


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


def tree_rss_mb(root):
    total = 0
    for pid in tree_pids(root):
        try:
            with open(f"/proc/{pid}/status") as f:
                total += next(int(line.split()[1]) for line in f if line.startswith("VmRSS"))
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
