package dev.agentfn.tracing;

import dev.agentfn.mlflow.entities.Trace;
import dev.agentfn.tracing.export.ExportResult;
import dev.agentfn.tracing.export.ExportStatus;
import dev.agentfn.tracing.export.TraceExporter;
import dev.agentfn.tracing.spool.SpoolDrainer;
import dev.agentfn.tracing.spool.TraceSpool;
import java.io.IOException;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import org.jboss.logging.Logger;

/**
 * Gets each finished trace to MLflow before the answer leaves: export with a bounded wait; what is
 * not confirmed in time goes to the durable spool (and leaves it again if the late export succeeds).
 * Never fails: the answer always gets an {@link ExportStatus}.
 */
public final class TraceDelivery {
    private static final Logger LOG = Logger.getLogger(TraceDelivery.class);
    private static final ExportResult TIMED_OUT = ExportResult.failure(true, "no confirmation within the export timeout");

    private final TraceExporter exporter;
    private final TraceSpool spool;
    private final SpoolDrainer drainer;
    private final Duration timeout;
    private final Executor spoolExecutor;

    public TraceDelivery(TraceExporter exporter, TraceSpool spool, SpoolDrainer drainer, Duration timeout,
            Executor spoolExecutor) {
        this.exporter = exporter;
        this.spool = spool;
        this.drainer = drainer;
        this.timeout = timeout;
        this.spoolExecutor = spoolExecutor;
    }

    public boolean enabled() {
        return exporter.enabled();
    }

    public CompletableFuture<ExportStatus> deliver(Trace trace) {
        if (!exporter.enabled()) {
            return CompletableFuture.completedFuture(ExportStatus.DISABLED);
        }
        CompletableFuture<ExportResult> export = exporter.export(trace);
        return export.copy().completeOnTimeout(TIMED_OUT, timeout.toNanos(), TimeUnit.NANOSECONDS)
                .thenCompose(result -> {
                    if (result.delivered()) {
                        // the common case answers at once, on the thread that saw the confirmation
                        drainer.nudge();
                        return CompletableFuture.completedFuture(ExportStatus.DELIVERED);
                    }
                    return CompletableFuture.supplyAsync(() -> spool(trace, result, export), spoolExecutor);
                });
    }

    private ExportStatus spool(Trace trace, ExportResult why, CompletableFuture<ExportResult> inFlight) {
        String id = trace.info().traceId();
        try {
            String handle = spool.put(trace);
            LOG.warnf("Trace %s spooled for redelivery: %s", id, why.detail());
            if (why == TIMED_OUT) {
                // the export may still land; then the spooled copy is redundant
                inFlight.thenAcceptAsync(late -> {
                    if (late.delivered()) {
                        spool.remove(handle);
                    }
                }, spoolExecutor);
            }
            return ExportStatus.SPOOLED;
        } catch (IOException | RuntimeException e) {
            LOG.errorf("Trace %s is LOST: export failed (%s) and the spool refused it (%s)", id, why.detail(),
                    e.getMessage());
            return ExportStatus.FAILED;
        }
    }
}
