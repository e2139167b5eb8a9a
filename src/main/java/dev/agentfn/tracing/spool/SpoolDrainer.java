package dev.agentfn.tracing.spool;

import dev.agentfn.LogText;
import dev.agentfn.tracing.export.ExportOrder;
import dev.agentfn.tracing.export.ExportResult;
import dev.agentfn.tracing.export.TraceExporter;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.jboss.logging.Logger;

/**
 * Redelivers spooled traces, oldest first, one pass at a time. Runs on a timer and after every
 * successful export (MLflow is evidently back). Traces go out in windows of {@code concurrency} exports
 * in flight, because a backlog left by an outage drains at the server's pace, not one round trip at a time.
 *
 * <p>A pass stops after two windows in a row in which nothing was delivered and something failed in a way
 * MLflow may recover from: the server is down or behind, and is not hammered. One such window alone does
 * not stop it, so a trace MLflow keeps timing out on (too large to store in time) never holds up the ones
 * behind it: order by age is not worth head-of-line blocking. A trace that failed goes to the back of later
 * passes (so an outage rotates through the spool instead of retrying the same few), and after {@code
 * maxAttempts} passes in which MLflow stored other traces but not this one it is set aside like a trace
 * MLflow refused for good (kept, logged, and redelivered if an operator moves it back). Failures in a pass
 * where nothing got through do not count: an outage never sets traces aside. The counts live in memory; a
 * new process starts them afresh.
 *
 * <p>A trace leaves the spool only once MLflow confirmed it; re-sending is safe because MLflow upserts
 * spans by id and StartTraceV3 merges.
 */
public final class SpoolDrainer {
    private static final Logger LOG = Logger.getLogger(SpoolDrainer.class);

    private final TraceSpool spool;
    private final TraceExporter exporter;
    private final ExportOrder order;
    private final int batch;
    private final int concurrency;
    private final int maxAttempts;
    private final Duration perTraceTimeout;
    private final Executor executor;
    private final AtomicBoolean running = new AtomicBoolean();
    /**
     * Failed passes of each trace that has failed, by trace id (a trace's handle changes as copies of it join).
     * Touched by the pass only.
     */
    private final Map<String, Failures> failures = new ConcurrentHashMap<>();
    /** Spooled traces whose first export is still in flight ({@link #holdBack}): passes leave them alone. */
    private final Set<String> heldBack = ConcurrentHashMap.newKeySet();

    /**
     * @param order shared with live delivery: a spooled trace is sent only while no export of it is on its way, so
     *     a redelivered earlier write never lands after a live later one
     */
    public SpoolDrainer(TraceSpool spool, TraceExporter exporter, ExportOrder order, int batch, int concurrency,
            int maxAttempts, Duration perTraceTimeout, Executor executor) {
        this.spool = spool;
        this.exporter = exporter;
        this.order = order;
        this.batch = batch;
        this.concurrency = Math.max(1, concurrency);
        this.maxAttempts = Math.max(1, maxAttempts);
        this.perTraceTimeout = perTraceTimeout;
        this.executor = executor;
    }

    /**
     * A trace spooled while its own export is still on its way: a pass would only send it a second time, so passes
     * leave it alone until {@link #letGo}. (A pass that listed it just before still may; MLflow merges the two.)
     */
    public void holdBack(String handle) {
        heldBack.add(handle);
    }

    /** The export of a trace {@link #holdBack held back} ended; if the trace is still spooled, passes send it again. */
    public void letGo(String handle) {
        heldBack.remove(handle);
    }

    /** The order of exports this drainer keeps with live delivery. */
    public ExportOrder order() {
        return order;
    }

    /** After an export: starts a pass in the background unless one is running or the spool is known to be empty. */
    public void nudge() {
        if (spool.mayHoldTraces()) {
            tick();
        }
    }

    /**
     * On the timer: starts a pass that looks at the spool whatever this process believes it holds, so a
     * file an operator moved back (or another instance of the deployment left on a shared volume) is seen.
     */
    public void tick() {
        if (exporter.enabled() && !running.get()) {
            executor.execute(this::drainOnce);
        }
    }

    /** One pass; returns the number of traces delivered. */
    public int drainOnce() {
        if (!running.compareAndSet(false, true)) {
            return 0;
        }
        Pass pass = new Pass();
        try {
            // Past the oldest batch too, so a whole batch of traces that keep failing cannot hide the ones behind it.
            List<SpooledTrace> listed = spool.oldest(batch + Math.min(failures.size(), batch),
                    handleOrTraceId -> heldBack.contains(handleOrTraceId) || order.busy(handleOrTraceId),
                    failures::containsKey);
            List<SpooledTrace> traces = failingLast(listed);
            traces = traces.size() > batch ? traces.subList(0, batch) : traces;
            for (int from = 0; from < traces.size() && pass.stoppedBecause == null; from += concurrency) {
                send(traces.subList(from, Math.min(traces.size(), from + concurrency)), pass);
            }
            settle(pass, listed.size() < batch + Math.min(failures.size(), batch) ? listed : null);
        } finally {
            running.set(false);
        }
        if (pass.stoppedBecause != null) {
            LOG.infof("Spool redelivery paused (%d waiting): %s", spool.size(), LogText.escape(pass.stoppedBecause));
        }
        if (pass.delivered > 0) {
            LOG.infof("Redelivered %d spooled traces to MLflow", pass.delivered);
        }
        return pass.delivered;
    }

    /** Traces that failed go after the rest, the more failures the later (stable: oldest first within each). */
    private List<SpooledTrace> failingLast(List<SpooledTrace> traces) {
        if (failures.isEmpty()) {
            return traces;
        }
        List<SpooledTrace> sorted = new ArrayList<>(traces);
        sorted.sort(Comparator.comparingInt(t -> failures.getOrDefault(idOf(t), Failures.NONE).passes()));
        return sorted;
    }

    /** Exports a window together; each result is settled in spool order once all are in. */
    private void send(List<SpooledTrace> window, Pass pass) {
        // a trace a live write of which went out since the listing is left to the next pass
        List<Optional<CompletableFuture<ExportResult>>> inFlight = window.stream()
                .map(t -> order.ifIdle(idOf(t), () -> exporter.export(t.trace())).map(f -> f.copy().completeOnTimeout(
                        ExportResult.failure(true, "redelivery timed out"), perTraceTimeout.toNanos(), TimeUnit.NANOSECONDS)))
                .toList();
        int deliveredBefore = pass.delivered;
        String retryable = null;
        for (int i = 0; i < window.size(); i++) {
            if (inFlight.get(i).isEmpty()) {
                continue;
            }
            ExportResult r = inFlight.get(i).get().join();
            String handle = window.get(i).handle();
            String id = idOf(window.get(i));
            if (r.delivered()) {
                spool.remove(handle);
                failures.remove(id);
                pass.delivered++;
            } else if (r.retryable()) {
                pass.retryable.put(id, new Retry(handle, r.detail())); // kept for a later pass
                retryable = r.detail();
            } else {
                spool.reject(handle, r.detail());
                failures.remove(id);
            }
        }
        boolean empty = retryable != null && pass.delivered == deliveredBefore;
        pass.emptyWindowsInARow = empty ? pass.emptyWindowsInARow + 1 : 0;
        if (pass.emptyWindowsInARow >= 2) {
            pass.stoppedBecause = retryable;
        }
    }

    /**
     * Records this pass's retryable failures (counted against the trace only if MLflow stored anything in
     * the pass) and sets aside the traces out of attempts.
     *
     * @param whole every spooled trace, when the pass saw them all (then the counts of traces gone are dropped)
     */
    private void settle(Pass pass, List<SpooledTrace> whole) {
        if (whole != null) {
            Set<String> present = new HashSet<>();
            whole.forEach(t -> present.add(idOf(t)));
            failures.keySet().retainAll(present);
        }
        boolean mlflowUp = pass.delivered > 0;
        pass.retryable.forEach((id, retry) -> {
            Failures f = failures.getOrDefault(id, Failures.NONE).add(mlflowUp);
            if (f.whileUp() >= maxAttempts) {
                failures.remove(id);
                spool.reject(retry.handle(), "not stored in " + f.whileUp() + " passes in which MLflow stored other "
                        + "traces (agentfn.tracing.spool.max-attempts); last: " + retry.detail());
            } else {
                failures.put(id, f);
            }
        });
    }

    /** A trace's failed passes: all of them (orders the next pass), and those in which MLflow stored others. */
    private record Failures(int passes, int whileUp) {
        static final Failures NONE = new Failures(0, 0);

        Failures add(boolean mlflowUp) {
            return new Failures(passes + 1, whileUp + (mlflowUp ? 1 : 0));
        }
    }

    private static String idOf(SpooledTrace t) {
        return t.trace().info().traceId();
    }

    /** A trace that failed in a pass in a way MLflow may get over: what to set aside, and why it failed last. */
    private record Retry(String handle, String detail) {
    }

    /** What one pass did. */
    private static final class Pass {
        int delivered;
        int emptyWindowsInARow;
        /** By trace id. */
        final Map<String, Retry> retryable = new LinkedHashMap<>();
        String stoppedBecause;
    }
}
