package dev.agentfn.tracing.export;

import dev.agentfn.mlflow.entities.Trace;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * Test double in the manner of OpenTelemetry's in-memory exporter: records every trace it is asked
 * to export and answers with scripted results (delivered when nothing is scripted).
 */
public final class InMemoryTraceExporter implements TraceExporter {
    private final List<Trace> attempts = new ArrayList<>();
    private final Deque<ExportResult> script = new ArrayDeque<>();

    /** The next exports answer these results, in order. */
    public synchronized InMemoryTraceExporter thenAnswer(ExportResult... results) {
        script.addAll(List.of(results));
        return this;
    }

    @Override
    public synchronized CompletableFuture<ExportResult> export(Trace trace) {
        attempts.add(trace);
        ExportResult r = script.isEmpty() ? ExportResult.success("in memory") : script.poll();
        return CompletableFuture.completedFuture(r);
    }

    @Override
    public String destination() {
        return "in-memory";
    }

    /** Every trace it was asked to export, in order. */
    public synchronized List<Trace> exported() {
        return List.copyOf(attempts);
    }

    /** Trace ids of every export attempt, in order. */
    public synchronized List<String> attemptedTraceIds() {
        return attempts.stream().map(t -> t.info().traceId()).toList();
    }
}
