package dev.agentfn.tracing.spool;

import java.util.concurrent.atomic.AtomicLong;

/**
 * Stamps that order the writes of a trace: microseconds since the epoch, made unique and increasing in this process.
 * A write takes its stamp when it is handed over for delivery, in the order it was written, and keeps it into the
 * spool, where the copies of a trace are merged by stamp; the moment a copy reaches the disk (after a timeout, a
 * failure, a late confirmation) says nothing of which write came first.
 */
public final class WriteStamps {
    private static final AtomicLong LAST = new AtomicLong();

    private WriteStamps() {
    }

    public static long next() {
        long now = System.currentTimeMillis() * 1000;
        return LAST.accumulateAndGet(now, (last, clock) -> Math.max(last + 1, clock));
    }
}
