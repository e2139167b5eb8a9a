#!/usr/bin/env python3
"""Spool writes in bursts, two builds side by side (issue #19: the turn-ending answer with turn-end-wait=spool waits
for its spool write, and the answers of turns that end together each wait for theirs).

    python3 bench/spool_burst.py [--base REV] [--head REV] [--rounds 6] [--bursts 100] [--writers 16] [--pause-ms 50]

Builds REV --base (default 1c89ac6: one file per write, each forced by its writer) and --head (default e60bb38: the
group commit of session 15, since reverted) in git worktrees under target/spool-burst/ (test classes included; with
--head . this working tree), then runs bench/SpoolBurst.java against each build in turn, ROUNDS times, interleaved,
on the same disk (target/spool-burst/spool-*). Needs ./mvnw package -DskipTests once (for the libraries). Each run: BURSTS bursts
of WRITERS threads that put one trace each at the same moment (SpoolTraces.turnWrites: a small finished turn), every
write then confirmed (removed), PAUSE_MS between bursts. Prints, per build, the p50/p90/p99 of one put and of a burst
(until its last put returned), in ms, pooled over the rounds.
"""
import argparse, json, os, subprocess, sys, glob, shutil, statistics

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = f"{ROOT}/target/spool-burst"


def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100 * (len(xs) - 1))))]


def build(tree):
    subprocess.run([f"{ROOT}/mvnw", "-B", "-q", "-o", "test-compile", "-Dquarkus.build.skip=true"], cwd=tree,
                   check=True, stdout=subprocess.DEVNULL)


def classpath(tree):
    libs = f"{ROOT}/target/quarkus-app/lib/main"
    if not os.path.isdir(libs):
        sys.exit("run ./mvnw package -DskipTests first (the libraries come from target/quarkus-app/lib/main)")
    return ":".join([f"{tree}/target/classes", f"{tree}/target/test-classes", f"{libs}/*",
                     f"{ROOT}/target/quarkus-app/lib/boot/*"])


def worktree(name, rev):
    tree = f"{OUT}/{name}"
    if not os.path.isdir(tree):
        subprocess.run(["git", "worktree", "prune"], cwd=ROOT, check=True)  # one `mvn clean` removed
        subprocess.run(["git", "worktree", "add", "-q", "--detach", tree, rev], cwd=ROOT, check=True)
    else:
        subprocess.run(["git", "checkout", "-q", "--detach", rev], cwd=tree, check=True)
    return tree


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--base", default="1c89ac6")
    ap.add_argument("--head", default="e60bb38")
    ap.add_argument("--rounds", type=int, default=6)
    ap.add_argument("--bursts", type=int, default=100)
    ap.add_argument("--writers", type=int, default=16)
    ap.add_argument("--pause-ms", type=int, default=50)
    a = ap.parse_args()
    os.makedirs(OUT, exist_ok=True)
    base = worktree("base", a.base)
    head = ROOT if a.head == "." else worktree("head", a.head)
    for tree, name in ((base, "base"), (head, "head")):
        build(tree)
        subprocess.run(["javac", "-d", f"{OUT}/bench-{name}", "-cp", classpath(tree), f"{ROOT}/bench/SpoolBurst.java"],
                       check=True)
    sides = {f"base ({a.base})": (base, f"{OUT}/bench-base"),
             f"head ({'this tree' if a.head == '.' else a.head})": (head, f"{OUT}/bench-head")}
    pooled = {s: {"puts": [], "bursts": []} for s in sides}
    for r in range(a.rounds):
        for side, (tree, bench) in sides.items():
            spool = f"{OUT}/spool-{r}-{'base' if tree == base else 'head'}"
            shutil.rmtree(spool, ignore_errors=True)
            out = subprocess.run(["java", "-cp", f"{bench}:{classpath(tree)}", "SpoolBurst", spool, str(a.bursts),
                                  str(a.writers), str(a.pause_ms)], check=True, capture_output=True, text=True).stdout
            d = json.loads(out.strip().splitlines()[-1])
            pooled[side]["puts"] += d["puts_us"][a.writers * 5:]   # the first bursts warm the JIT
            pooled[side]["bursts"] += d["bursts_us"][5:]
            shutil.rmtree(spool, ignore_errors=True)
            print(f"round {r + 1} {side}: burst p50 {statistics.median(d['bursts_us']) / 1000:.2f} ms", flush=True)
    print(f"\n{a.rounds} rounds x {a.bursts} bursts of {a.writers} writers, {a.pause_ms} ms apart (first 5 of each run "
          "not counted)\n")
    print("| Build | put p50 | put p90 | put p99 | burst p50 | burst p90 | burst p99 |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for side, d in pooled.items():
        p, b = d["puts"], d["bursts"]
        print(f"| {side} | " + " | ".join(f"{pct(p, q) / 1000:.2f}" for q in (50, 90, 99)) + " | " +
              " | ".join(f"{pct(b, q) / 1000:.2f}" for q in (50, 90, 99)) + " |")


if __name__ == "__main__":
    main()
