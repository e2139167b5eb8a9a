package dev.agentfn.conversation;

import java.time.Duration;
import java.util.function.LongSupplier;

/** A point on a monotonic clock by which an invocation must be done. */
public final class Deadline {
    private final LongSupplier nanoClock;
    private final long expiresAtNanos;

    private Deadline(LongSupplier nanoClock, long expiresAtNanos) {
        this.nanoClock = nanoClock;
        this.expiresAtNanos = expiresAtNanos;
    }

    public static Deadline after(Duration budget, LongSupplier nanoClock) {
        return new Deadline(nanoClock, nanoClock.getAsLong() + budget.toNanos());
    }

    public static Deadline after(Duration budget) {
        return after(budget, System::nanoTime);
    }

    public Duration remaining() {
        return Duration.ofNanos(Math.max(0, expiresAtNanos - nanoClock.getAsLong()));
    }

    public boolean expired() {
        return nanoClock.getAsLong() >= expiresAtNanos;
    }
}
