#!/usr/bin/env python3
"""Where a turn-ending answer's wait goes with turn-end-wait=spool (docs/benchmarks.md, "Where a spooled turn end
waits"). Reads what the timing probe of bench/turn_end_probe.patch wrote (one line per turn-ending write: the MLflow
trace id, then System.nanoTime at: end() called, the trace worker starts building, trace built, a spool thread
starts, spool put returned, the caller's future completed) and prints the percentiles of each step over the last N
writes (the measured point; the warm-up came first).

    git apply bench/turn_end_probe.patch && ./mvnw -B -q package -DskipTests
    python3 bench/gateway.py --pin alone --latency-ms 1000 --levels 16 --samples 320 --runs 1 --modes sse \\
        --workloads turn --sides direct,agentfn-spool --warmup 1000 \\
        "--jvm-args=-XX:+UseParallelGC -Xmn96m -XX:MaxRAMPercentage=75 -XX:MaxRAM=1g -Dprobe.out=/tmp/probe.csv"
    python3 bench/turn_end_probe.py /tmp/probe.csv 320
    git apply -R bench/turn_end_probe.patch
"""
import sys

STEPS = ["queue for the trace worker", "build the trace", "queue for a spool thread", "spool put (encode, fsync)",
         "hand-over to the answer"]


def pct(a, p):
    a = sorted(a)
    return a[min(len(a) - 1, int(p / 100 * (len(a) - 1)))]


def main():
    path = sys.argv[1] if len(sys.argv) > 1 else "/tmp/probe.csv"
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 320
    rows = [list(map(int, line.strip().split(",")[1:])) for line in open(path)]
    rows = sorted((r for r in rows if all(r[:6])), key=lambda r: r[0])[-n:]
    print(f"{len(rows)} turn-ending writes, ms\n\n| Step | p50 | p90 | p99 |\n|---|---:|---:|---:|")
    for i, name in enumerate(STEPS):
        d = [(r[i + 1] - r[i]) / 1e6 for r in rows]
        print(f"| {name} | {pct(d, 50):.2f} | {pct(d, 90):.2f} | {pct(d, 99):.2f} |")
    total = [(r[5] - r[0]) / 1e6 for r in rows]
    print(f"| all (end() to the answer's go-ahead) | {pct(total, 50):.2f} | {pct(total, 90):.2f} | {pct(total, 99):.2f} |")


if __name__ == "__main__":
    main()
