#!/usr/bin/env python3
"""Runs `bin/demo --exit` as a new user would and checks what it leaves behind.

Passes when the demo exits 0, its answer came from agentfn, the trace was read back from MLflow, and afterwards
no process it started is alive and neither of its ports is listening. Also checks that a demo stopped half-way
(SIGINT while it waits in its long-running mode) cleans up the same way.

Every process the demo starts is found even after it detached into a session of its own: this script makes
itself the child subreaper (prctl PR_SET_CHILD_SUBREAPER), so orphaned descendants are re-parented to it rather
than to init, and any of them still alive afterwards is listed as a leak.
"""
import ctypes
import os
import signal
import socket
import subprocess
import sys
import time

PR_SET_CHILD_SUBREAPER = 36
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def listening(port):
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", port)) == 0


def descendants():
    """Live processes whose ancestry leads to this one (orphans of the demo are re-parented here)."""
    parents = {}
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            state, ppid = fields[0], int(fields[1])
        except (OSError, IndexError, ValueError):
            continue
        if state != "Z":
            parents[int(pid)] = ppid
    me, found = os.getpid(), []
    for pid in parents:
        p, seen = pid, set()
        while p in parents and p not in seen:
            seen.add(p)
            p = parents[p]
            if p == me:
                found.append(pid)
                break
    return found


def cmdline(pid):
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read().replace(b"\0", b" ").decode(errors="replace").strip()
    except OSError:
        return "?"


def reap():
    while True:
        try:
            if os.waitpid(-1, os.WNOHANG) == (0, 0):
                return
        except ChildProcessError:
            return


def leftovers(ports):
    """Waits briefly for the demo's processes to go, then names what is still there."""
    deadline = time.monotonic() + 15
    while True:
        reap()
        alive = descendants()
        busy = [p for p in ports if listening(p)]
        if not alive and not busy or time.monotonic() > deadline:
            return [f"process {p}: {cmdline(p)}" for p in alive] + [f"port {p} still listening" for p in busy]
        time.sleep(0.2)


def answered(output):
    return [f"its output lacks {e!r}" for e in ('"output":', '"stand_in": true', "the trace, read back from MLflow",
                                                 "state:            OK", "LOCAL STAND-IN answered") if e not in output]


def interruptible():
    """In the demo's process: SIGINT and SIGQUIT as a terminal gives them. A shell started in the background without
    job control (`cmd &` in a script, as CI runners may start this check) ignores both, every process it starts
    inherits that, and bash cannot trap a signal ignored when it started: the demo would never see the Ctrl-C."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    signal.signal(signal.SIGQUIT, signal.SIG_DFL)


def run_exit_mode(env, ports):
    out = subprocess.run(["bin/demo", "--exit"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=900)
    problems = [] if out.returncode == 0 else [f"bin/demo --exit exited {out.returncode}"]
    return problems + answered(out.stdout) + leftovers(ports), out.stdout + out.stderr


def run_interrupted(env, ports):
    """The long-running mode, stopped with Ctrl-C (SIGINT to its process group) once it waits."""
    p = subprocess.Popen(["bin/demo"], cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                         start_new_session=True, preexec_fn=interruptible)
    lines = []
    for line in p.stdout:
        lines.append(line)
        if "press Ctrl-C" in line:
            os.killpg(p.pid, signal.SIGINT)
            break
    rest, _ = p.communicate(timeout=60)
    lines.append(rest)
    problems = [] if any("press Ctrl-C" in l for l in lines) else ["the demo never reached its waiting state"]
    return problems + answered("".join(lines)) + leftovers(ports), "".join(lines)


def run_failing_half_way(env, ports):
    """agentfn cannot start (its port is taken) after MLflow is up: the demo fails and still stops MLflow."""
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", ports[1]))
        taken.listen()
        out = subprocess.run(["bin/demo", "--exit"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=900)
        problems = [] if out.returncode != 0 else ["bin/demo exited 0 although agentfn could not start"]
        if "agentfn did not start" not in out.stderr:
            problems.append("it did not say that agentfn did not start")
        problems += leftovers(ports[:1])
    return problems, out.stdout + out.stderr


def main():
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
        sys.exit("prctl(PR_SET_CHILD_SUBREAPER) failed: errno %d" % ctypes.get_errno())
    failed = False
    modes = (("bin/demo --exit: answered, trace read back", run_exit_mode),
             ("bin/demo, then Ctrl-C: answered, trace read back", run_interrupted),
             ("bin/demo with agentfn's port taken: failed, said why", run_failing_half_way))
    for name, mode in modes:
        ports = [free_port(), free_port()]
        env = dict(os.environ, MLFLOW_PORT=str(ports[0]), PORT=str(ports[1]))
        env.pop("ANTHROPIC_API_KEY", None)
        env.pop("ANTHROPIC_AUTH_TOKEN", None)
        problems, output = mode(env, ports)
        if problems:
            failed = True
            print(f"FAIL: {name}:\n  " + "\n  ".join(problems) + "\n--- its output ---\n" + output[-4000:])
        else:
            print(f"ok: {name}; no process or listener left behind (ports {ports})")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
