package dev.agentfn.tracing.spool;

import dev.agentfn.mlflow.entities.Trace;
import java.io.IOException;
import java.util.List;
import java.util.function.Predicate;

/**
 * Durable store of traces that MLflow has not confirmed. Implementations: a local directory here;
 * an object-store spool can follow behind the same interface.
 */
public interface TraceSpool {

    /**
     * Stores the trace durably before returning; returns its handle. A trace spooled again (a gateway turn is written
     * after each call, each write holding what that call ended) is kept as another copy of it, placed among its
     * copies by {@code stamp} ({@link WriteStamps}, taken when the write was handed over for delivery).
     */
    String put(Trace trace, long stamp) throws IOException;

    /**
     * As {@link #put(Trace, long)}, for a copy whose export starts now and which {@link #remove} will most likely
     * delete again in a moment: stored as durably before returning, possibly where a write costs less than a file. If
     * its export fails, {@link #keep} it before the drainer may send it.
     */
    default String putAhead(Trace trace, long stamp) throws IOException {
        return put(trace, stamp);
    }

    /**
     * A copy {@link #putAhead put ahead} whose export did not go through stays for redelivery: returns the handle under
     * which the spool's listings show it (other handles are returned as they are).
     */
    default String keep(String handle) throws IOException {
        return handle;
    }

    /** At shutdown, after the last export: leaves everything it holds where the next process finds it. */
    default void close() {
    }

    /**
     * A write that is about to be {@link #put(Trace, long) put}: from now until its put ends (stored or refused) it
     * counts as waiting in the spool for {@link #confirmed} and {@link #remove}, so a later write of the trace that
     * MLflow confirms while this one's file is still being written is kept beside it.
     */
    void claim(Trace trace, long stamp);

    /** As {@link #put(Trace, long)}, for a write handed over now. */
    default String put(Trace trace) throws IOException {
        return put(trace, WriteStamps.next());
    }

    /**
     * MLflow confirmed this write of a trace. If a write of the trace from before it (a smaller stamp) waits in the
     * spool, it is stored beside it, so that their redelivery ends with its root and info (MLflow keeps what it is
     * sent last); otherwise nothing is stored.
     */
    void confirmed(Trace trace, long stamp) throws IOException;

    /**
     * Up to {@code max} traces, oldest first, each with every copy of it merged in the order they were written
     * ({@link Trace#rewrittenBy}). Unreadable entries are set aside, never returned.
     */
    default List<SpooledTrace> oldest(int max) {
        return oldest(max, handle -> false);
    }

    /**
     * As {@link #oldest(int)}, passing over (without reading them) the traces for which {@code skip} is true of the
     * trace id or of the handle of any one copy.
     */
    default List<SpooledTrace> oldest(int max, Predicate<String> skip) {
        return oldest(max, skip, traceId -> false);
    }

    /**
     * As {@link #oldest(int, Predicate)}, with the traces whose id {@code later} names after all the others (traces
     * that keep failing must not fill a listing and hide the ones behind them).
     */
    List<SpooledTrace> oldest(int max, Predicate<String> skip, Predicate<String> later);

    /**
     * Deletes the copies the handle names after MLflow confirmed them, never a copy written after them; unknown
     * handles are ignored. While a copy of the trace written before them waits, the newest of them stays, to be sent
     * after it.
     */
    void remove(String handle);

    /**
     * Sets aside a trace MLflow refused for good (e.g. 400, deleted experiment), so it no longer
     * blocks the traces behind it; it is kept for an operator, never deleted. Unknown handles are ignored.
     */
    void reject(String handle, String reason);

    int size();

    /**
     * False only when this process knows the spool is empty (its last look found nothing and it has
     * stored nothing since); a cheap check that lets the drainer skip a pass. Traces another process
     * adds to a shared store may go unseen until the next full pass.
     */
    default boolean mayHoldTraces() {
        return true;
    }
}
