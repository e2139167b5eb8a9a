package dev.agentfn.tracing.export;

import dev.agentfn.mlflow.entities.Trace;
import java.util.concurrent.CompletableFuture;

/**
 * Delivers finished traces. Implementations never throw and never complete the future exceptionally:
 * failures are {@link ExportResult}s, and the caller decides how long to wait.
 */
public interface TraceExporter {

    CompletableFuture<ExportResult> export(Trace trace);

    /**
     * Where traces go, as a label that names the tracking server and experiment and never holds a
     * credential. Spooled traces carry it, so a spool shared with another deployment never sends a trace
     * anywhere but where it was meant to go.
     */
    String destination();

    /**
     * Whether spans can be written into a trace this deployment does not own ({@link Trace#spansOnly()}), without
     * touching that trace's record.
     */
    default boolean joinsCallerTraces() {
        return false;
    }

    /** Whether traces go anywhere at all; {@code false} turns tracing off. */
    default boolean enabled() {
        return true;
    }
}
