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
import java.util.function.Supplier;
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
        Write w = new Write(trace);
        if (!takeExportPermit()) {
            return w.spool(busy).thenApply(TraceDelivery::statusOf);
        }
        CompletableFuture<ExportResult> export = startExport(w, null);
        return export.copy().completeOnTimeout(TIMED_OUT, timeout.toNanos(), TimeUnit.NANOSECONDS)
                .thenCompose(result -> {
                    if (result.delivered()) {
                        // the common case answers at once, on the thread that saw the confirmation
                        return CompletableFuture.completedFuture(ExportStatus.DELIVERED);
                    }
                    return w.spool(result).thenApply(TraceDelivery::statusOf);
                });
    }

    private static ExportStatus statusOf(String spooledHandle) {
        return spooledHandle != null ? ExportStatus.SPOOLED : ExportStatus.FAILED;
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
        Write w = new Write(trace);
        CompletableFuture<ExportStatus> answer = new CompletableFuture<>();
        CompletableFuture.runAsync(() -> {
            String handle = spoolAhead(w);
            if (handle == null) {
                deliver(trace).thenAccept(answer::complete);
                return;
            }
            answer.complete(ExportStatus.SPOOLED); // the caller goes on now; encoding the export is not its wait
            exportAfter(w, handle);
        }, spoolExecutor);
        return answer;
    }

    private void exportAfter(Write w, String handle) {
        if (!takeExportPermit()) {
            keepForDrainer(w, handle);
            busyNotice(w.trace.info().traceId(), busy);
            return;
        }
        startExport(w, handle);
    }

    /** The spooled copy's handle, held back from the drainer until its export ends; null when the spool refused it. */
    private String spoolAhead(Write w) {
        try {
            String handle = spool.putAhead(w.trace, w.stamp);
            drainer.holdBack(handle);
            return handle;
        } catch (IOException | RuntimeException e) {
            LOG.warnf("Trace %s could not be spooled ahead of its export (%s); waiting for MLflow instead",
                    w.trace.info().traceId(), e.getMessage());
            return null;
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
     * The permit is held until MLflow answers, however late: that is the load the bound is about. The future
     * completes with MLflow's answer; what follows from it for the spool is settled after ({@link #settle}).
     *
     * <p>The writes of one trace (a gateway turn, after each call) go out one after the other, in the order they
     * were handed over ({@link ExportOrder}): the later write starts when the earlier export and its settling ended
     * (confirmed or not), and its caller's export timeout counts the wait. Spans written alone into a caller's trace
     * are not ordered: each write holds different spans.
     *
     * @param aheadHandle the write's copy spooled ahead of the export ({@link #deliverDurably}), else null
     */
    private CompletableFuture<ExportResult> startExport(Write w, String aheadHandle) {
        CompletableFuture<ExportResult> confirmation = new CompletableFuture<>();
        Supplier<CompletableFuture<ExportResult>> export = () -> exportNow(w.trace)
                .whenComplete((r, e) -> confirmation.complete(r))
                .thenCompose(r -> settle(w, aheadHandle, r));
        CompletableFuture<ExportResult> settled = w.trace.spansOnly() ? export.get()
                : drainer.order().next(w.trace.info().traceId(), export);
        // MLflow took a write: the drainer may find it up again. Once the trace's place is free, so the pass finds
        // this trace free too (a copy of it may wait now)
        settled.thenAccept(r -> {
            if (r.delivered()) {
                drainer.nudge();
            }
        });
        if (inFlight != null) {
            confirmation.whenComplete((r, e) -> inFlight.release());
        }
        return confirmation;
    }

    /**
     * What a write's export means for the spool, done before the trace's next export may start. Confirmed: its copy
     * spooled ahead, or spooled when the export timeout passed, is removed (kept while an earlier write of the trace
     * waits there); with no copy, the write is kept beside an earlier write of its trace that waits in the spool
     * (MLflow refused it a moment ago), so their redelivery ends with it. Not confirmed: it is in the spool, or is
     * claimed there at once, so a later write confirmed meanwhile sees it waiting.
     */
    private CompletableFuture<ExportResult> settle(Write w, String aheadHandle, ExportResult r) {
        if (!r.delivered()) {
            if (aheadHandle != null) {
                busyNotice(w.trace.info().traceId(), r);
                // a forced file write: on a spool thread, never on the thread MLflow's answer completed on
                return CompletableFuture.supplyAsync(() -> {
                    keepForDrainer(w, aheadHandle);
                    return r;
                }, spoolExecutor);
            }
            w.spool(r);
            return CompletableFuture.completedFuture(r);
        }
        CompletableFuture<String> copy = aheadHandle != null ? CompletableFuture.completedFuture(aheadHandle) : w.copy();
        if (copy != null) {
            return copy.thenApplyAsync(handle -> {
                if (handle != null) {
                    spool.remove(handle);
                    drainer.letGo(handle);
                }
                return r;
            }, spoolExecutor);
        }
        if (w.trace.spansOnly() || !spool.mayHoldTraces()) {
            return CompletableFuture.completedFuture(r);
        }
        return CompletableFuture.supplyAsync(() -> keepBesideEarlierWrites(w, r), spoolExecutor);
    }

    /**
     * A copy spooled ahead whose export did not go through: kept where the drainer lists it, then let go. Should the
     * spool fail to move it there, it stays where it was put ahead (durable), and the next process takes it over.
     */
    private void keepForDrainer(Write w, String aheadHandle) {
        try {
            spool.keep(aheadHandle);
        } catch (IOException | RuntimeException e) {
            LOG.errorf("Trace %s stays where it was spooled ahead of its export (%s) and is sent again only after this "
                    + "process ends", w.trace.info().traceId(), e.getMessage());
        }
        drainer.letGo(aheadHandle);
    }

    private ExportResult keepBesideEarlierWrites(Write w, ExportResult confirmed) {
        try {
            spool.confirmed(w.trace, w.stamp);
        } catch (IOException | RuntimeException e) {
            LOG.warnf("Trace %s: MLflow confirmed a write of it while an earlier write waits in the spool, and the spool "
                    + "could not keep it beside that one (%s); their redelivery may show the trace as the earlier write "
                    + "left it", w.trace.info().traceId(), e.getMessage());
        }
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

    /**
     * Stores the write; returns its handle, or null when the spool refused it (the trace is lost, and said so). A
     * write MLflow was slow on is logged each; failures and the bound on exports, which come in bursts, once per
     * interval.
     */
    private String spool(Trace trace, long stamp, ExportResult why) {
        String id = trace.info().traceId();
        try {
            String handle = spool.put(trace, stamp);
            if (why == TIMED_OUT) {
                LOG.warnf("Trace %s spooled for redelivery: %s", id, LogText.escape(why.detail()));
            } else {
                busyNotice(id, why);
            }
            return handle;
        } catch (IOException | RuntimeException e) {
            LOG.errorf("Trace %s is LOST: export failed (%s) and the spool refused it (%s)", id, LogText.escape(why.detail()),
                    e.getMessage());
            return null;
        }
    }

    /**
     * One write of a trace on its way: the stamp that orders it among its trace's writes ({@link WriteStamps}, taken
     * when it is handed over), and its spooled copy once spooling began (at most one per write, whoever asks first:
     * the export timeout, the export's failure, the bound on exports in flight).
     */
    private final class Write {
        final Trace trace;
        final long stamp = WriteStamps.next();
        private CompletableFuture<String> copy; // guarded by this

        Write(Trace trace) {
            this.trace = trace;
        }

        /**
         * Spools this write unless it is already on its way there. The spool counts it as waiting from this call on
         * (before its file is written), so a later write of the trace that MLflow confirms meanwhile is kept beside it.
         */
        synchronized CompletableFuture<String> spool(ExportResult why) {
            if (copy == null) {
                spool.claim(trace, stamp);
                copy = CompletableFuture.supplyAsync(() -> TraceDelivery.this.spool(trace, stamp, why),
                        spoolExecutor);
            }
            return copy;
        }

        synchronized CompletableFuture<String> copy() {
            return copy;
        }
    }
}
