#!/usr/bin/env python3
"""Lines up the slowest answers of a gateway run with what agentfn's JVM did just before each one ended.

Usage:
  python3 bench/gateway.py ... "--jvm-args=... -Xlog:gc:file=/tmp/gc-%p.log:timemillis"
  python3 bench/tail_lineup.py target/bench-gateway/gateway.json [--gc '/tmp/gc-{pid}.log'] [--window-ms 30]

For each traced side and workload it takes the answers whose time (TTLB, the model's draw taken off) is in the
side's slowest 1 %, and counts how many of them had a GC pause of that side's JVM overlapping the last
--window-ms before their last byte; the same count over all of the side's answers is the base rate. A tail made of
GC pauses shows a share far above the base rate; one that is not shows about the base rate.
"""
import argparse
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


def hits(end, window, ps):
    return [p for p in ps if p[0] < end and p[1] > end - window]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("json")
    ap.add_argument("--gc", default="/tmp/gc-{pid}.log", help="a side's GC log, {pid} replaced by its process id")
    ap.add_argument("--window-ms", type=float, default=30)
    a = ap.parse_args()
    data = json.load(open(a.json))
    pids = data["meta"].get("agentfn_pids", {})
    by_point = {}
    for r in data["raw"]:
        if "end_unix_ms" not in r:
            raise SystemExit("no end_unix_ms in the raw rows: a run of bench/gateway.py older than this script")
        key = (r["side"], r["workload"], r["mode"], r["concurrency"])
        by_point.setdefault(key, []).extend(zip(r["ttlb_ms"], r["end_unix_ms"]))
    for (side, w, mode, c), reqs in sorted(by_point.items()):
        if side not in pids:
            continue
        ps = pauses(a.gc.format(pid=pids[side]))
        direct = [t for t, _ in by_point.get(("direct", w, mode, c), [])]
        base = statistics.median(direct) if direct else 0
        reqs.sort()
        slow = reqs[-max(1, len(reqs) // 100):]
        slow_hit = [(t, e, hits(e, a.window_ms, ps)) for t, e in slow]
        all_hit = sum(1 for _, e in reqs if hits(e, a.window_ms, ps))
        print(f"{side} {w} {mode} c={c}: {len(ps)} GC pauses in the log; slowest {len(slow)}: "
              f"{sum(1 for *_, h in slow_hit if h)} with a pause in their last {a.window_ms:g} ms; all {len(reqs)}: "
              f"{all_hit} ({100 * all_hit / max(len(reqs), 1):.1f} %)")
        for t, e, h in slow_hit:
            what = ", ".join(f"{k} {d:.1f} ms ending {e - end:.0f} ms before" for _, end, k, d in h) or "no pause"
            print(f"  +{t - base:6.1f} ms over the direct median: {what}")


if __name__ == "__main__":
    main()
