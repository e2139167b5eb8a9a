package dev.agentfn.tracing;

import dev.agentfn.LogText;
import dev.agentfn.mlflow.entities.Trace;
import dev.agentfn.tracing.export.ExportOrder;
import dev.agentfn.tracing.export.ExportResult;
import dev.agentfn.tracing.export.ExportStatus;
import dev.agentfn.tracing.export.TraceExporter;
import dev.agentfn.tracing.spool.SpoolDrainer;
import dev.agentfn.tracing.spool.TraceSpool;
import dev.agentfn.tracing.spool.WriteStamps;
import java.io.IOException;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.jboss.logging.Logger;

/**
 * Gets each finished trace to MLflow before the answer leaves: export with a bounded wait; what is
 * not confirmed in time goes to the durable spool (and leaves it again if the late export succeeds).
 * Never fails: the answer always gets an {@link ExportStatus}.
 *
 * <p>Exports waiting for MLflow are bounded. Past the bound the server is evidently behind (it is
 * still working on that many traces), so a further trace goes straight to the spool instead of adding
 * to the server's queue and waiting out the export timeout; the drainer sends it once MLflow keeps up.
 */
public final class TraceDelivery {
    private static final Logger LOG = Logger.getLogger(TraceDelivery.class);
    private static final long BUSY_NOTICE_INTERVAL_NANOS = TimeUnit.SECONDS.toNanos(10);
    private static final ExportResult TIMED_OUT = ExportResult.failure(true, "no confirmation within the export timeout");

    private final TraceExporter exporter;
    private final TraceSpool spool;
    private final SpoolDrainer drainer;
    private final Duration timeout;
    private final Executor spoolExecutor;
    private final int maxInFlight;
    private final Semaphore inFlight;
    /** Why a trace is spooled without an export: the bound on exports in flight is reached. */
    private final ExportResult busy;
    private final AtomicLong busySpooled = new AtomicLong();
    private final AtomicLong lastBusyNotice = new AtomicLong(System.nanoTime() - BUSY_NOTICE_INTERVAL_NANOS);

    /** @param maxInFlight exports waiting for MLflow at once; 0 for no bound */
    public TraceDelivery(TraceExporter exporter, TraceSpool spool, SpoolDrainer drainer, Duration timeout,
            Executor spoolExecutor, int maxInFlight) {
        this.exporter = exporter;
        this.spool = spool;
        this.drainer = drainer;
        this.timeout = timeout;
        this.spoolExecutor = spoolExecutor;
        this.maxInFlight = maxInFlight;
        this.inFlight = maxInFlight > 0 ? new Semaphore(maxInFlight) : null;
        this.busy = ExportResult.failure(true, maxInFlight + " exports already waiting for MLflow "
                + "(agentfn.tracing.max-exports-in-flight)");
    }

    public boolean enabled() {
        return exporter.enabled();
    }

    /** Whether a trace may be {@link Trace#joinedUnder joined} to a caller's trace here. */
    public boolean joinsCallerTraces() {
        return exporter.enabled() && exporter.joinsCallerTraces();
    }

    public CompletableFuture<ExportStatus> deliver(Trace trace) {
        if (!exporter.enabled()) {
            return CompletableFuture.completedFuture(ExportStatus.DISABLED);
        }
        long stamp = WriteStamps.next(); // the write's place among its trace's writes, whenever it reaches the spool
        if (!takeExportPermit()) {
            return CompletableFuture.supplyAsync(() -> spool(trace, stamp, busy, null), spoolExecutor);
        }
        CompletableFuture<ExportResult> export = startExport(trace, stamp, false);
        return export.copy().completeOnTimeout(TIMED_OUT, timeout.toNanos(), TimeUnit.NANOSECONDS)
                .thenCompose(result -> {
                    if (result.delivered()) {
                        // the common case answers at once, on the thread that saw the confirmation
                        drainer.nudge();
                        return CompletableFuture.completedFuture(ExportStatus.DELIVERED);
                    }
                    return CompletableFuture.supplyAsync(() -> spool(trace, stamp, result, export), spoolExecutor);
                });
    }

    /**
     * Delivers without waiting for MLflow: the future completes once the trace is durably in the spool (one fsync,
     * far shorter than MLflow's write), and its export starts right after, off the caller's path. MLflow's
     * confirmation then removes the spooled copy; until the export ends the drainer leaves that copy alone (sending it
     * too would only write the trace twice). Past the bound on exports in flight the copy is simply left to the
     * drainer. Should the spool refuse the trace, the caller waits for the export as in {@link #deliver}.
     *
     * <p>What this gives up against {@link #deliver}: a trace that MLflow had not confirmed when the caller went on
     * is, for a while, only on this instance's disk. It is for a caller whose instance keeps running, and keeps its
     * spool, after answering.
     */
    public CompletableFuture<ExportStatus> deliverDurably(Trace trace) {
        if (!exporter.enabled()) {
            return CompletableFuture.completedFuture(ExportStatus.DISABLED);
        }
        long stamp = WriteStamps.next();
        CompletableFuture<ExportStatus> answer = new CompletableFuture<>();
        CompletableFuture.runAsync(() -> {
            String handle = spoolAhead(trace, stamp);
            if (handle == null) {
                deliver(trace).thenAccept(answer::complete);
                return;
            }
            answer.complete(ExportStatus.SPOOLED); // the caller goes on now; encoding the export is not its wait
            exportAfter(trace, stamp, handle);
        }, spoolExecutor);
        return answer;
    }

    private void exportAfter(Trace trace, long stamp, String handle) {
        if (!takeExportPermit()) {
            drainer.letGo(handle);
            busyNotice(trace.info().traceId(), busy);
            return;
        }
        startExport(trace, stamp, true).thenAcceptAsync(r -> settleCopy(trace, r, handle), spoolExecutor);
    }

    /** The spooled copy's handle, held back from the drainer until its export ends; null when the spool refused it. */
    private String spoolAhead(Trace trace, long stamp) {
        try {
            String handle = spool.put(trace, stamp);
            drainer.holdBack(handle);
            return handle;
        } catch (IOException | RuntimeException e) {
            LOG.warnf("Trace %s could not be spooled ahead of its export (%s); waiting for MLflow instead",
                    trace.info().traceId(), e.getMessage());
            return null;
        }
    }

    /** The export of a spooled trace ended: a confirmed trace leaves the spool, any other waits for the drainer. */
    private void settleCopy(Trace trace, ExportResult r, String handle) {
        if (r.delivered()) {
            spool.remove(handle);
        } else {
            busyNotice(trace.info().traceId(), r);
        }
        drainer.letGo(handle);
        if (r.delivered()) {
            drainer.nudge();
        }
    }

    /**
     * At shutdown: waits up to {@code max} for the exports still in flight, so a trace that was spooled ahead of
     * its export (or is about to be spooled after a slow one) is confirmed and leaves the spool before the instance
     * goes, rather than staying on a disk that may go with it. Exports started meanwhile go to the spool. Returns
     * whether none was left in flight; without a bound on exports in flight there is nothing to count, and it
     * returns at once.
     */
    public boolean awaitExports(Duration max) {
        if (inFlight == null) {
            return true;
        }
        try {
            if (inFlight.tryAcquire(maxInFlight, max.toNanos(), TimeUnit.NANOSECONDS)) {
                inFlight.release(maxInFlight);
                return true;
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        LOG.warnf("%d trace exports still in flight at shutdown; their traces stay in the spool",
                maxInFlight - inFlight.availablePermits());
        return false;
    }

    /** False when {@code maxInFlight} exports are already waiting for MLflow; else an export may start. */
    private boolean takeExportPermit() {
        return inFlight == null || inFlight.tryAcquire();
    }

    /**
     * The permit is held until MLflow answers, however late: that is the load the bound is about.
     *
     * <p>The writes of one trace (a gateway turn, after each call) go out one after the other, in the order they
     * were handed over ({@link ExportOrder}): the later write starts when the earlier export ended (confirmed or
     * not), and its caller's export timeout counts the wait. A write MLflow confirmed while an earlier write of its
     * trace waits in the spool is kept beside it before the trace's next export may start. Spans written alone into
     * a caller's trace are not ordered: each write holds different spans.
     *
     * @param spooledAhead the write is in the spool already ({@link #deliverDurably})
     */
    private CompletableFuture<ExportResult> startExport(Trace trace, long stamp, boolean spooledAhead) {
        CompletableFuture<ExportResult> export;
        if (trace.spansOnly()) {
            export = exportNow(trace);
        } else {
            CompletableFuture<ExportResult> confirmation = new CompletableFuture<>();
            drainer.order().next(trace.info().traceId(), () -> exportNow(trace)
                    .whenComplete((r, e) -> confirmation.complete(r))
                    .thenCompose(r -> r.delivered() && !spooledAhead && spool.mayHoldTraces()
                            ? CompletableFuture.supplyAsync(() -> keepBesideEarlierWrites(trace, stamp, r), spoolExecutor)
                            : CompletableFuture.completedFuture(r)));
            export = confirmation;
        }
        if (inFlight != null) {
            export.whenComplete((r, e) -> inFlight.release());
        }
        return export;
    }

    /**
     * A write MLflow confirmed: should an earlier write of its trace wait in the spool (MLflow refused it a moment
     * ago), it is kept beside it, so their redelivery ends with it rather than setting the trace back to what the
     * earlier one says.
     */
    private ExportResult keepBesideEarlierWrites(Trace trace, long stamp, ExportResult confirmed) {
        try {
            spool.confirmed(trace, stamp);
        } catch (IOException | RuntimeException e) {
            LOG.warnf("Trace %s: MLflow confirmed a write of it while an earlier write waits in the spool, and the spool "
                    + "could not keep it beside that one (%s); their redelivery may show the trace as the earlier write "
                    + "left it", trace.info().traceId(), e.getMessage());
        }
        drainer.nudge();
        return confirmed;
    }

    /**
     * An exporter that throws or fails its future (it must do neither) counts as a retryable failure, so the trace is
     * spooled, not lost.
     */
    private CompletableFuture<ExportResult> exportNow(Trace trace) {
        CompletableFuture<ExportResult> f;
        try {
            f = exporter.export(trace);
        } catch (RuntimeException e) {
            return CompletableFuture.completedFuture(ExportResult.failure(true, "the exporter failed: " + e));
        }
        return f.handle((r, e) -> e == null && r != null ? r
                : ExportResult.failure(true, "the exporter failed: " + (e == null ? "no result" : e)));
    }

    /** Under overload every trace would log the same line: say it once per interval, with a count. */
    private void busyNotice(String traceId, ExportResult why) {
        long n = busySpooled.incrementAndGet();
        long now = System.nanoTime();
        long last = lastBusyNotice.get();
        if (now - last >= BUSY_NOTICE_INTERVAL_NANOS && lastBusyNotice.compareAndSet(last, now)) {
            LOG.warnf("%d traces spooled for redelivery so far because %s (latest %s)", n, LogText.escape(why.detail()), traceId);
        } else {
            LOG.debugf("Trace %s spooled for redelivery: %s", traceId, LogText.escape(why.detail()));
        }
    }

    /** @param export the export still in flight, or null when none was started */
    private ExportStatus spool(Trace trace, long stamp, ExportResult why, CompletableFuture<ExportResult> export) {
        String id = trace.info().traceId();
        try {
            String handle = spool.put(trace, stamp);
            if (export == null) {
                busyNotice(id, why);
            } else {
                LOG.warnf("Trace %s spooled for redelivery: %s", id, LogText.escape(why.detail()));
            }
            if (why == TIMED_OUT) {
                // the export may still land; then the spooled copy is redundant
                export.thenAcceptAsync(late -> {
                    if (late.delivered()) {
                        spool.remove(handle);
                    }
                }, spoolExecutor);
            }
            return ExportStatus.SPOOLED;
        } catch (IOException | RuntimeException e) {
            LOG.errorf("Trace %s is LOST: export failed (%s) and the spool refused it (%s)", id, LogText.escape(why.detail()),
                    e.getMessage());
            return ExportStatus.FAILED;
        }
    }
}
