package dev.agentfn.tracing.spool;

import dev.agentfn.tracing.export.ExportResult;
import dev.agentfn.tracing.export.TraceExporter;
import java.time.Duration;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.jboss.logging.Logger;

/**
 * Redelivers spooled traces, oldest first, one pass at a time. Runs on a timer and after every
 * successful export (MLflow is evidently back). A pass stops at the first retryable failure so a
 * down server is not hammered; a trace MLflow refuses for good is set aside so it cannot block the
 * ones behind it. A trace leaves the spool only once MLflow confirmed it; re-sending is safe because
 * MLflow upserts spans by id and StartTraceV3 merges.
 */
public final class SpoolDrainer {
    private static final Logger LOG = Logger.getLogger(SpoolDrainer.class);

    private final TraceSpool spool;
    private final TraceExporter exporter;
    private final int batch;
    private final Duration perTraceTimeout;
    private final Executor executor;
    private final AtomicBoolean running = new AtomicBoolean();

    public SpoolDrainer(TraceSpool spool, TraceExporter exporter, int batch, Duration perTraceTimeout, Executor executor) {
        this.spool = spool;
        this.exporter = exporter;
        this.batch = batch;
        this.perTraceTimeout = perTraceTimeout;
        this.executor = executor;
    }

    /** Starts a pass in the background unless one is running or the spool is known to be empty. */
    public void nudge() {
        if (exporter.enabled() && !running.get() && spool.mayHoldTraces()) {
            executor.execute(this::drainOnce);
        }
    }

    /** One pass; returns the number of traces delivered. */
    public int drainOnce() {
        if (!running.compareAndSet(false, true)) {
            return 0;
        }
        int delivered = 0;
        try {
            for (SpooledTrace t : spool.oldest(batch)) {
                ExportResult r = exporter.export(t.trace()).completeOnTimeout(
                        ExportResult.failure(true, "redelivery timed out"), perTraceTimeout.toNanos(),
                        TimeUnit.NANOSECONDS).join();
                if (r.delivered()) {
                    spool.remove(t.handle());
                    delivered++;
                } else if (r.retryable()) {
                    LOG.infof("Spool redelivery paused (%d waiting): %s", spool.size(), r.detail());
                    break;
                } else {
                    spool.reject(t.handle(), r.detail());
                }
            }
        } finally {
            running.set(false);
        }
        if (delivered > 0) {
            LOG.infof("Redelivered %d spooled traces to MLflow", delivered);
        }
        return delivered;
    }
}
