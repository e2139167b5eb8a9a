package dev.agentfn.tracing.spool;

import dev.agentfn.tracing.export.ExportResult;
import dev.agentfn.tracing.export.TraceExporter;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.jboss.logging.Logger;

/**
 * Redelivers spooled traces, oldest first, one pass at a time. Runs on a timer and after every
 * successful export (MLflow is evidently back). A pass stops at the first retryable failure so a
 * down server is not hammered; a trace MLflow refuses for good is set aside so it cannot block the
 * ones behind it. A trace leaves the spool only once MLflow confirmed it; re-sending is safe because
 * MLflow upserts spans by id and StartTraceV3 merges. Traces go out in windows of {@code concurrency}
 * exports in flight, because a backlog left by an outage drains at the server's pace, not one round
 * trip at a time.
 */
public final class SpoolDrainer {
    private static final Logger LOG = Logger.getLogger(SpoolDrainer.class);

    private final TraceSpool spool;
    private final TraceExporter exporter;
    private final int batch;
    private final int concurrency;
    private final Duration perTraceTimeout;
    private final Executor executor;
    private final AtomicBoolean running = new AtomicBoolean();

    public SpoolDrainer(TraceSpool spool, TraceExporter exporter, int batch, int concurrency, Duration perTraceTimeout,
            Executor executor) {
        this.spool = spool;
        this.exporter = exporter;
        this.batch = batch;
        this.concurrency = Math.max(1, concurrency);
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
            List<SpooledTrace> traces = spool.oldest(batch);
            for (int from = 0; from < traces.size(); from += concurrency) {
                Window w = send(traces.subList(from, Math.min(traces.size(), from + concurrency)));
                delivered += w.delivered();
                if (w.pausedBecause() != null) {
                    LOG.infof("Spool redelivery paused (%d waiting): %s", spool.size(), w.pausedBecause());
                    break;
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

    /** Exports a window together; each result is settled in spool order once all are in. */
    private Window send(List<SpooledTrace> window) {
        List<CompletableFuture<ExportResult>> inFlight = window.stream()
                .map(t -> exporter.export(t.trace()).completeOnTimeout(
                        ExportResult.failure(true, "redelivery timed out"), perTraceTimeout.toNanos(), TimeUnit.NANOSECONDS))
                .toList();
        int delivered = 0;
        String paused = null;
        for (int i = 0; i < window.size(); i++) {
            ExportResult r = inFlight.get(i).join();
            if (r.delivered()) {
                spool.remove(window.get(i).handle());
                delivered++;
            } else if (r.retryable()) {
                paused = r.detail(); // kept for the next pass
            } else {
                spool.reject(window.get(i).handle(), r.detail());
            }
        }
        return new Window(delivered, paused);
    }

    private record Window(int delivered, String pausedBecause) {
    }
}
