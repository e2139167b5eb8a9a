#!/usr/bin/env python3
"""Lines up the slowest answers of a gateway run with what agentfn's JVM did just before each one ended.

Usage:
  python3 bench/gateway.py ... "--jvm-args=... -Xlog:gc:file=/tmp/gc-%p.log:timemillis"
  python3 bench/tail_lineup.py target/bench-gateway/gateway.json [--gc '/tmp/gc-{pid}.log'] [--window-ms 30]
      [--safepoints '/tmp/sp-{pid}.log' (-Xlog:safepoint:file=/tmp/sp-%p.log:timemillis)]
      [--jit '/tmp/jit-{pid}.log' (-Xlog:jit+compilation=debug:file=/tmp/jit-%p.log:timemillis)]

For each traced side and workload it takes the answers whose time (TTLB, the model's draw taken off) is in the
side's slowest 1 %, and counts how many of them had a GC pause of that side's JVM overlapping the last
--window-ms before their last byte; the same count over all of the side's answers is the base rate. A tail made of
GC pauses shows a share far above the base rate; one that is not shows about the base rate. It also lists, per
point, the idle-turn sweeps the side logged during the measured window (`closing N idle turn(s)`): closing turns is
work of a JVM and of MLflow that the point's own requests did not cause (every side's sweeps: the sides share a
CPU and MLflow).
"""
import argparse
import datetime
import json
import os
import re
import statistics

PAUSE = re.compile(r"^\[(\d+)ms\].*\bPause (\w+).*?(\d+(?:\.\d+)?)ms\s*$")


def pauses(path):
    """(start_ms, end_ms, kind, duration_ms) of every GC pause in a -Xlog:gc file decorated with timemillis."""
    out = []
    if not os.path.exists(path):
        return out
    with open(path) as f:
        for line in f:
            m = PAUSE.match(line.strip())
            if m:
                end, dur = int(m.group(1)), float(m.group(3))
                out.append((end - dur, end, m.group(2), dur))
    return out


SWEEP = re.compile(r"^(\d\d):(\d\d):(\d\d)\.(\d{3}) .*closing (\d+) idle turn")


SAFEPOINT = re.compile(r"^\[(\d+)ms\] Safepoint \"(\w+)\".*Total: (\d+) ns")
JIT = re.compile(r"^\[(\d+)ms\]\s+\d+\s")


def safepoints(path, min_ms=0.5):
    """Non-GC safepoints of at least min_ms as (start_ms, end_ms, kind, duration_ms) (GC pauses are in the GC log)."""
    out = []
    if not path or not os.path.exists(path):
        return out
    with open(path) as f:
        for line in f:
            m = SAFEPOINT.match(line)
            if m and not m.group(2).startswith(("ParallelGC", "G1", "GenCollect", "CollectFor")):
                end, dur = int(m.group(1)), int(m.group(3)) / 1e6
                if dur >= min_ms:
                    out.append((end - dur, end, "safepoint " + m.group(2), dur))
    return out


def compilations(path):
    """Wall-clock ms of every JIT compilation logged."""
    if not path or not os.path.exists(path):
        return []
    with open(path) as f:
        return [int(m.group(1)) for m in map(JIT.match, f) if m]


def sweeps(path, near_unix_s):
    """(unix_ms, turns) of every idle-turn sweep in a side's log (times of day, UTC, on the run's day)."""
    out = []
    if not os.path.exists(path):
        return out
    day = datetime.datetime.fromtimestamp(near_unix_s, datetime.timezone.utc).replace(hour=0, minute=0, second=0,
                                                                                      microsecond=0)
    with open(path) as f:
        for line in f:
            m = SWEEP.match(line)
            if m:
                h, mi, sec, ms, n = (int(g) for g in m.groups())
                t = day + datetime.timedelta(hours=h, minutes=mi, seconds=sec, milliseconds=ms)
                if t.timestamp() < near_unix_s - 12 * 3600:  # the run crossed midnight
                    t += datetime.timedelta(days=1)
                out.append((t.timestamp() * 1000, n))
    return out


def hits(end, window, ps):
    return [p for p in ps if p[0] < end and p[1] > end - window]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("json")
    ap.add_argument("--gc", default="/tmp/gc-{pid}.log", help="a side's GC log, {pid} replaced by its process id")
    ap.add_argument("--window-ms", type=float, default=30)
    ap.add_argument("--safepoints", default=None, help="a side's safepoint log, {pid} replaced")
    ap.add_argument("--jit", default=None, help="a side's JIT compilation log, {pid} replaced")
    ap.add_argument("--logs", default=None, help="the sides' logs ({side}.log); default: beside the JSON file")
    a = ap.parse_args()
    data = json.load(open(a.json))
    pids = data["meta"].get("agentfn_pids", {})
    logs = a.logs or os.path.dirname(os.path.abspath(a.json))
    by_point, windows = {}, {}
    for r in data["raw"]:
        if "end_unix_ms" not in r:
            raise SystemExit("no end_unix_ms in the raw rows: a run of bench/gateway.py older than this script")
        key = (r["side"], r["workload"], r["mode"], r["concurrency"])
        by_point.setdefault(key, []).extend(zip(r["ttlb_ms"], r["end_unix_ms"]))
        windows.setdefault(key, []).append(r["window_unix_s"])
    for (side, w, mode, c), reqs in sorted(by_point.items()):
        if side not in pids:
            continue
        pid = pids[side]
        ps = pauses(a.gc.format(pid=pid)) + safepoints(a.safepoints and a.safepoints.format(pid=pid))
        jit = compilations(a.jit and a.jit.format(pid=pid))
        direct = [t for t, _ in by_point.get(("direct", w, mode, c), [])]
        base = statistics.median(direct) if direct else 0
        reqs.sort()
        slow = reqs[-max(1, len(reqs) // 100):]
        slow_hit = [(t, e, hits(e, a.window_ms, ps)) for t, e in slow]
        all_hit = sum(1 for _, e in reqs if hits(e, a.window_ms, ps))
        print(f"{side} {w} {mode} c={c}: {len(ps)} pauses in the logs; slowest {len(slow)}: "
              f"{sum(1 for *_, h in slow_hit if h)} with a pause in their last {a.window_ms:g} ms; all {len(reqs)}: "
              f"{all_hit} ({100 * all_hit / max(len(reqs), 1):.1f} %)")
        # every agentfn side's sweeps: the sides share one CPU (--pin) and one MLflow
        for other in sorted(pids):
            swept = sweeps(f"{logs}/{other}.log", windows[(side, w, mode, c)][0][0])
            during = [(t, n) for t, n in swept for lo, hi in windows[(side, w, mode, c)] if lo * 1000 <= t <= hi * 1000]
            print(f"  idle-turn sweeps of {other} during its measured windows: {len(during)}, "
                  f"{sum(n for _, n in during)} turns")
        if jit:
            n = sum(1 for t in jit for lo, hi in windows[(side, w, mode, c)] if lo * 1000 <= t <= hi * 1000)
            print(f"  JIT compilations during its measured windows: {n}")
        for t, e, h in slow_hit:
            what = ", ".join(f"{k} {d:.1f} ms ending {e - end:.0f} ms before" for _, end, k, d in h) or "no pause"
            compiled = sum(1 for j in jit if e - a.window_ms <= j <= e)
            print(f"  +{t - base:6.1f} ms over the direct median: {what}"
                  + (f"; {compiled} JIT compilations logged in that window" if jit else ""))


if __name__ == "__main__":
    main()
