package dev.agentfn.tracing.export;

import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * One export of a trace at a time in this process, each starting once the one before it ended. MLflow keeps the copy
 * of a span, and of a trace's info, that reaches it last, so a trace written more than once (a gateway turn, after
 * each call) must reach it in the order it was written, or an earlier write landing late would set a finished turn
 * back to IN_PROGRESS and take its root's answer away. Live writes queue behind each other ({@link #next}); a
 * redelivery from the spool goes only while no export of its trace is on its way ({@link #ifIdle}), so it never
 * overtakes, nor is overtaken by, a live write. An export holds its trace's place for at most {@code maxWait} from
 * its start: exports end long before (each of MLflow's requests has a timeout), and one that does not (an exporter
 * bug) must not hold its trace's later writes back for ever.
 */
public final class ExportOrder {
    /** What a place held past {@code maxWait} ends with; never seen by a caller. */
    private static final ExportResult HELD_TOO_LONG = ExportResult.failure(true, "held its trace's place too long");
    /** Per trace id, the place of the last export asked for, while it has not ended. */
    private final ConcurrentHashMap<String, CompletableFuture<ExportResult>> last = new ConcurrentHashMap<>();
    private final Executor executor;
    private final Duration maxWait;

    /**
     * @param executor where an export queued behind another starts (never a thread that blocks on exports)
     * @param maxWait the longest an export holds its trace's place
     */
    public ExportOrder(Executor executor, Duration maxWait) {
        this.executor = executor;
        this.maxWait = maxWait;
    }

    /**
     * Starts {@code export} once every export of the trace asked for before it has ended (at once when none is on
     * its way). The future completes when the export's own future does, and never exceptionally: an exporter that
     * throws (it must not) counts as a retryable failure.
     */
    public CompletableFuture<ExportResult> next(String traceId, Supplier<CompletableFuture<ExportResult>> export) {
        CompletableFuture<ExportResult> mine = new CompletableFuture<>();
        CompletableFuture<ExportResult> place = new CompletableFuture<>();
        CompletableFuture<ExportResult> before = last.put(traceId, place);
        place.whenComplete((r, e) -> last.remove(traceId, place));
        if (before == null) {
            start(export, mine, place);
        } else {
            before.whenCompleteAsync((r, e) -> start(export, mine, place), executor);
        }
        return mine;
    }

    /** Starts {@code export} now unless an export of the trace is on its way; then nothing runs and this is empty. */
    public Optional<CompletableFuture<ExportResult>> ifIdle(String traceId,
            Supplier<CompletableFuture<ExportResult>> export) {
        CompletableFuture<ExportResult> mine = new CompletableFuture<>();
        CompletableFuture<ExportResult> place = new CompletableFuture<>();
        if (last.putIfAbsent(traceId, place) != null) {
            return Optional.empty();
        }
        place.whenComplete((r, e) -> last.remove(traceId, place));
        start(export, mine, place);
        return Optional.of(mine);
    }

    /** Whether an export of the trace is on its way. */
    public boolean busy(String traceId) {
        return last.containsKey(traceId);
    }

    /**
     * Starts the export; its place ends when the export does, or {@code maxWait} from now. {@code into} completes
     * after the place is given up, so whoever it wakes finds the trace free.
     */
    private void start(Supplier<CompletableFuture<ExportResult>> export, CompletableFuture<ExportResult> into,
            CompletableFuture<ExportResult> place) {
        place.completeOnTimeout(HELD_TOO_LONG, maxWait.toNanos(), TimeUnit.NANOSECONDS);
        CompletableFuture<ExportResult> ended = new CompletableFuture<>();
        ended.whenComplete((r, e) -> {
            place.complete(r); // runs the place's removal before the caller hears of the end
            into.complete(r);
        });
        start(export, ended);
    }

    private static void start(Supplier<CompletableFuture<ExportResult>> export, CompletableFuture<ExportResult> into) {
        CompletableFuture<ExportResult> f;
        try {
            f = export.get();
        } catch (RuntimeException e) {
            f = CompletableFuture.completedFuture(ExportResult.failure(true, "the exporter failed: " + e));
        }
        f.whenComplete((r, e) -> into.complete(e == null && r != null ? r
                : ExportResult.failure(true, "the exporter failed: " + (e == null ? "no result" : e))));
    }
}
