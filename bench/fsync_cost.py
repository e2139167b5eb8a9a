#!/usr/bin/env python3
"""What making one spool write durable costs on this disk, two ways (docs/benchmarks.md, "Spool writes in bursts").

    python3 bench/fsync_cost.py [--rounds 3] [--writes 100] [--dir target/fsync-cost]

new file: what the spool does per write (a 6 KB file under a temporary name, fsync, rename, fsync of the directory);
log: the same bytes written over a preallocated, already forced file and fdatasync'ed (no file-system metadata
changes, so no journal commit), one record and sixteen records at a time. Prints the p50 in ms per round.
"""
import argparse, os, statistics, time, uuid

DATA = b"x" * 6000


def new_file(d):
    t = time.perf_counter()
    tmp = f"{d}/.tmp-{uuid.uuid4()}"
    fd = os.open(tmp, os.O_CREAT | os.O_WRONLY | os.O_EXCL)
    os.write(fd, DATA)
    os.fsync(fd)
    os.close(fd)
    os.rename(tmp, f"{d}/{uuid.uuid4()}.json")
    dfd = os.open(d, os.O_RDONLY)
    os.fsync(dfd)
    os.close(dfd)
    return (time.perf_counter() - t) * 1000


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--writes", type=int, default=100)
    ap.add_argument("--dir", default=os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                                                  "target", "fsync-cost"))
    a = ap.parse_args()
    os.makedirs(a.dir, exist_ok=True)
    log = os.open(f"{a.dir}/log", os.O_CREAT | os.O_RDWR)
    os.write(log, b"\0" * (len(DATA) * 16 * a.writes * a.rounds * 2))
    os.fsync(log)
    offset = 0

    def append(n):
        nonlocal offset
        t = time.perf_counter()
        os.pwrite(log, DATA * n, offset)
        offset += len(DATA) * n
        os.fdatasync(log)
        return (time.perf_counter() - t) * 1000

    try:
        for r in range(a.rounds):
            nf = [new_file(a.dir) for _ in range(a.writes)]
            one = [append(1) for _ in range(a.writes)]
            sixteen = [append(16) for _ in range(a.writes // 2)]
            print(f"round {r + 1}: new file + directory fsync p50 {statistics.median(nf):.3f} ms; log fdatasync "
                  f"p50 {statistics.median(one):.3f} ms (1 record), {statistics.median(sixteen):.3f} ms (16 records)")
    finally:
        os.close(log)
        for f in os.listdir(a.dir):
            os.remove(f"{a.dir}/{f}")


if __name__ == "__main__":
    main()
