package dev.agentfn.evaluation;

import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.atomic.AtomicInteger;

/** The live state of one evaluation: progress, results per row, and the outcome. Thread-safe. */
public final class EvaluationRun {
    /** PAUSED: the trigger's time budget ran out; the next trigger of the same evaluation continues the run. */
    public enum Status { RUNNING, PAUSED, FINISHED, FAILED }

    /** One scored row. @param error why the agent failed, or {@code null} */
    public record RowResult(int index, String traceId, String error, long latencyMs, double costUsd,
            List<Assessment> assessments) {
        public RowResult {
            assessments = List.copyOf(assessments);
        }
    }

    private final String id;
    private final String runId;
    private final String experimentId;
    private final String dataset;
    private final int totalRows;
    private final List<String> scorers;
    private final Instant startedAt = Instant.now();
    private final Map<Integer, RowResult> rows = new ConcurrentSkipListMap<>();
    private final Map<String, String> mlflowErrors = new ConcurrentHashMap<>();
    private final AtomicInteger failedRows = new AtomicInteger();
    private volatile Status status = Status.RUNNING;
    private volatile String failure;
    private volatile Instant endedAt;
    private volatile Map<String, Double> metrics = Map.of();
    private final java.util.Set<Integer> earlier = ConcurrentHashMap.newKeySet();
    private final java.util.concurrent.CompletableFuture<EvaluationRun> settled =
            new java.util.concurrent.CompletableFuture<>();

    public EvaluationRun(String id, String runId, String experimentId, String dataset, int totalRows,
            List<String> scorers) {
        this.id = id;
        this.runId = runId;
        this.experimentId = experimentId;
        this.dataset = dataset;
        this.totalRows = totalRows;
        this.scorers = List.copyOf(scorers);
    }

    /** A row an earlier trigger of this run finished (read back from MLflow). */
    void earlierRow(RowResult r) {
        earlier.add(r.index());
        rowDone(r);
    }

    /** Rows earlier triggers finished. */
    public int resumedRows() {
        return earlier.size();
    }

    boolean isDone(int index) {
        return rows.containsKey(index);
    }

    /** Trace ids of rows this trigger finished (earlier ones are linked to the run already). */
    List<String> newTraceIds() {
        return rows.values().stream().filter(r -> !earlier.contains(r.index()) && r.traceId() != null)
                .map(RowResult::traceId).toList();
    }

    /** Completes when this trigger is over: FINISHED, FAILED or PAUSED. */
    public java.util.concurrent.CompletableFuture<EvaluationRun> settled() {
        return settled;
    }

    void rowDone(RowResult r) {
        if (r.error() != null) {
            failedRows.incrementAndGet();
        }
        rows.put(r.index(), r);
    }

    /** An MLflow write that failed; any of these fails the run, so it never looks complete when it is not. */
    void mlflowError(String what, String message) {
        mlflowErrors.putIfAbsent(what, message);
    }

    /** Set before the outcome is decided, so a failed run still reports what was measured. */
    void metrics(Map<String, Double> finalMetrics) {
        metrics = Map.copyOf(new TreeMap<>(finalMetrics));
    }

    void finish() {
        endedAt = Instant.now();
        status = Status.FINISHED;
        settled.complete(this);
    }

    void pause() {
        endedAt = Instant.now();
        status = Status.PAUSED;
        settled.complete(this);
    }

    void fail(String reason) {
        failure = reason;
        endedAt = Instant.now();
        status = Status.FAILED;
        settled.complete(this);
    }

    public String id() {
        return id;
    }

    public String runId() {
        return runId;
    }

    public String experimentId() {
        return experimentId;
    }

    public String dataset() {
        return dataset;
    }

    public int totalRows() {
        return totalRows;
    }

    public int doneRows() {
        return rows.size();
    }

    public int failedRows() {
        return failedRows.get();
    }

    public List<String> scorers() {
        return scorers;
    }

    public Status status() {
        return status;
    }

    public String failure() {
        return failure;
    }

    public Instant startedAt() {
        return startedAt;
    }

    public Instant endedAt() {
        return endedAt;
    }

    public Map<String, Double> metrics() {
        return metrics;
    }

    public List<RowResult> rows() {
        return List.copyOf(rows.values());
    }

    Map<String, String> mlflowErrors() {
        return Map.copyOf(mlflowErrors);
    }
}
