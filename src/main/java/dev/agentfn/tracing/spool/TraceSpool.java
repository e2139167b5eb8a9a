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
     * Stores the trace durably before returning; returns its handle. A trace spooled again supersedes its earlier
     * copies: they are no longer returned, and their handles remove nothing.
     */
    String put(Trace trace) throws IOException;

    /** Up to {@code max} traces, oldest first. Unreadable entries are set aside, never returned. */
    default List<SpooledTrace> oldest(int max) {
        return oldest(max, handle -> false);
    }

    /** As {@link #oldest(int)}, passing over (without reading them) the traces whose handles {@code skip} names. */
    List<SpooledTrace> oldest(int max, Predicate<String> skip);

    /**
     * Deletes the copy the handle names after MLflow confirmed it, never a newer copy of the same trace; unknown
     * handles are ignored.
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
