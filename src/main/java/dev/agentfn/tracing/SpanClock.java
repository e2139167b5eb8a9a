package dev.agentfn.tracing;

/**
 * Epoch-nanosecond timestamps with nanosecond resolution: wall clock read once, then advanced by
 * the monotonic clock, so span timings inside one process never go backwards or overlap by jitter.
 */
public interface SpanClock {

    long nowEpochNanos();

    SpanClock SYSTEM = new SpanClock() {
        private final long baseEpochNanos = System.currentTimeMillis() * 1_000_000L;
        private final long baseNanoTime = System.nanoTime();

        @Override
        public long nowEpochNanos() {
            return baseEpochNanos + (System.nanoTime() - baseNanoTime);
        }
    };
}
