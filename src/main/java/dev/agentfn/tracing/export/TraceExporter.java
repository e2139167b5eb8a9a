package dev.agentfn.tracing.export;

import dev.agentfn.mlflow.entities.Trace;
import java.util.concurrent.CompletableFuture;

/**
 * Delivers finished traces. Implementations never throw and never complete the future exceptionally:
 * failures are {@link ExportResult}s, and the caller decides how long to wait.
 */
public interface TraceExporter {

    CompletableFuture<ExportResult> export(Trace trace);

    /** Whether traces go anywhere at all; {@code false} turns tracing off. */
    default boolean enabled() {
        return true;
    }
}
