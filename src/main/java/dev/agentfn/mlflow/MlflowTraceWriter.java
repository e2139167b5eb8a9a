package dev.agentfn.mlflow;

import dev.agentfn.mlflow.entities.TraceIds;
import dev.agentfn.mlflow.MlflowApi.OtlpExportResult;
import dev.agentfn.mlflow.MlflowApi.StartTraceResult;
import dev.agentfn.mlflow.WriteOutcome.Path;
import dev.agentfn.mlflow.entities.SpanData;
import dev.agentfn.mlflow.entities.Trace;
import dev.agentfn.mlflow.entities.TraceInfo;
import com.fasterxml.jackson.databind.JsonNode;
import dev.agentfn.mlflow.json.JsonValues;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.LongSupplier;
import java.util.regex.Pattern;
import org.jboss.logging.Logger;

/**
 * Writes one complete trace to MLflow and reports the outcome; the returned future never
 * completes exceptionally.
 *
 * <ul>
 *   <li>Path A (OSS, SQL store): OTLP spans and StartTraceV3, both must succeed. The spans go through
 *       an {@link OtlpSpanBatcher}, so traces that finish while MLflow is busy share one OTLP request
 *       (group commit). StartTraceV3 stays one request per trace: OTLP cannot carry trace metadata
 *       beyond session and user (MLflow 3.17 {@code _log_spans_once}), so agentfn's metadata, the
 *       schema version, the run link and previews as MLflow's clients compute them need it. With few writes
 *       in flight both are sent at once, so the caller waits for the slower one only; the server
 *       merges whichever arrives second. From {@link #SEQUENTIAL_FROM} writes in flight StartTraceV3
 *       goes first and the spans follow its answer: when both race, the second one to reach MLflow's
 *       SQL store fails its INSERT of the trace row and takes a rollback-and-merge path, and under
 *       load that costs the tracking server more than the added latency (200-row evaluation: 570
 *       PostgreSQL rollbacks racing, 38 ordered; median wall time 1.26x against 0.99x the ideal,
 *       docs/benchmarks.md).</li>
 *   <li>Path B (OTLP answered 404/501, e.g. a file store): StartTraceV3 first, because the
 *       upload path comes from its artifact location, then {@code traces.json}.</li>
 *   <li>Databricks: StartTraceV3, then {@code traces.json} to a signed URL.</li>
 * </ul>
 * Writing the same trace again is safe: spans are upserted by (trace, span) id and StartTraceV3
 * carries the full token total, which the server then treats as authoritative.
 *
 * <p>One writer per target: it remembers that the target lacks OTLP ingest and goes straight to
 * path B for a while, then probes OTLP again (the server may have been migrated).
 */
public final class MlflowTraceWriter {
    private static final Logger LOG = Logger.getLogger(MlflowTraceWriter.class);
    static final Duration DEFAULT_REPROBE_AFTER = Duration.ofMinutes(10);
    /** Writes in flight (this one included) from which path A sends its two requests one after the other. */
    static final int SEQUENTIAL_FROM = 4;

    private final MlflowTraceClient client;
    private final OtlpSpanBatcher batcher;
    private final Duration reprobeAfter;
    private final LongSupplier nanoClock;
    private final int sequentialFrom;
    private final AtomicInteger inFlight = new AtomicInteger();
    /** 0 while OTLP is believed to work; else the nanoTime after which to try OTLP again. */
    private volatile long otlpUnsupportedUntil;

    public MlflowTraceWriter(MlflowTraceClient client) {
        this(client, OtlpBatchLimits.DEFAULT);
    }

    public MlflowTraceWriter(MlflowTraceClient client, OtlpBatchLimits batchLimits) {
        this(client, DEFAULT_REPROBE_AFTER, System::nanoTime, SEQUENTIAL_FROM, batchLimits);
    }

    MlflowTraceWriter(MlflowTraceClient client, Duration reprobeAfter, LongSupplier nanoClock) {
        this(client, reprobeAfter, nanoClock, SEQUENTIAL_FROM);
    }

    MlflowTraceWriter(MlflowTraceClient client, Duration reprobeAfter, LongSupplier nanoClock, int sequentialFrom) {
        this(client, reprobeAfter, nanoClock, sequentialFrom, OtlpBatchLimits.DEFAULT);
    }

    MlflowTraceWriter(MlflowTraceClient client, Duration reprobeAfter, LongSupplier nanoClock, int sequentialFrom,
            OtlpBatchLimits batchLimits) {
        this.client = client;
        this.batcher = new OtlpSpanBatcher(client, batchLimits);
        this.reprobeAfter = reprobeAfter;
        this.nanoClock = nanoClock;
        this.sequentialFrom = sequentialFrom;
    }

    public CompletableFuture<WriteOutcome> write(Trace trace) {
        boolean busy = inFlight.incrementAndGet() >= sequentialFrom;
        CompletableFuture<WriteOutcome> outcome = write(trace, busy);
        outcome.whenComplete((o, t) -> inFlight.decrementAndGet());
        return outcome;
    }

    private CompletableFuture<WriteOutcome> write(Trace trace, boolean sequential) {
        Path path = client.target().databricks() ? Path.DATABRICKS : otlpKnownUnsupported() ? Path.TRACES_JSON : Path.OTLP;
        CompletableFuture<WriteOutcome> result;
        try {
            validate(trace);
            if (trace.spansOnly()) {
                return writeSpansOnly(trace, path);
            }
            result = switch (path) {
                case OTLP -> writeOtlp(trace, sequential);
                case TRACES_JSON -> writeTracesJson(trace, Path.TRACES_JSON);
                case DATABRICKS -> writeTracesJson(trace, Path.DATABRICKS);
            };
        } catch (RuntimeException e) {
            return CompletableFuture.completedFuture(WriteOutcome.failed(path, "invalid trace: " + e.getMessage(), false));
        }
        return result.exceptionally(t -> failure(path, t)).thenCompose(o -> o.delivered() ? linkPrompts(trace, o)
                : CompletableFuture.completedFuture(o));
    }

    /**
     * A stored trace that used registered prompts is linked to their versions ({@code mlflow.linkedPrompts} tag),
     * here rather than by whoever ran it, so a trace redelivered from the spool is linked too. Linking is
     * idempotent: a failure MLflow may get over fails the write (retried whole, later); one it will not (a deleted
     * prompt version) leaves the trace stored and unlinked, logged.
     */
    private CompletableFuture<WriteOutcome> linkPrompts(Trace trace, WriteOutcome stored) {
        String linked = trace.info().tags().get(MlflowKeys.Tag.LINKED_PROMPTS);
        if (linked == null || client.target().databricks()) {
            return CompletableFuture.completedFuture(stored);
        }
        JsonNode versions;
        try {
            versions = JsonValues.parse(linked);
        } catch (RuntimeException e) {
            LOG.warnf("trace %s: its %s tag is not JSON; not linked", trace.info().traceId(), MlflowKeys.Tag.LINKED_PROMPTS);
            return CompletableFuture.completedFuture(stored);
        }
        return client.linkPrompts(trace.info().traceId(), versions).handle((ok, t) -> {
            if (t == null) {
                return stored;
            }
            MlflowClientException e = MlflowRest.asClientException(t, "link-prompts");
            if (e.retryable()) {
                return WriteOutcome.failed(stored.path(), e.getMessage(), true);
            }
            LOG.warnf("trace %s is stored but not linked to its prompt versions: %s", trace.info().traceId(),
                    e.getMessage());
            return stored;
        });
    }

    /** Traces whose spans wait for a free OTLP request slot (tests). */
    int spansWaiting() {
        return batcher.queued();
    }

    /** True while a recent OTLP attempt was answered "unsupported". */
    public boolean otlpKnownUnsupported() {
        long until = otlpUnsupportedUntil;
        return until != 0 && nanoClock.getAsLong() - until < 0;
    }

    /**
     * Spans that join a caller's trace: OTLP alone, which adds spans to a trace without replacing its record. The other
     * paths would rewrite the owner's record or span list, so there such spans are refused (as MLflow's own clients
     * drop a remote process's spans on a store without span ingest), with the reason logged where they are kept.
     */
    private CompletableFuture<WriteOutcome> writeSpansOnly(Trace trace, Path path) {
        String cannot = "spans joined to a caller's trace need MLflow's OTLP span ingest (/v1/traces)";
        if (path != Path.OTLP) {
            return CompletableFuture.completedFuture(WriteOutcome.failed(path, cannot + "; this target has none", false));
        }
        return batcher.submit(trace.info().experimentId(), null, trace.spans()).thenApply(r -> {
            if (r.outcome() == OtlpExportResult.Outcome.OK) {
                otlpUnsupportedUntil = 0;
                return WriteOutcome.delivered(Path.OTLP);
            }
            if (r.outcome() == OtlpExportResult.Outcome.UNSUPPORTED) {
                otlpUnsupportedUntil = nanoClock.getAsLong() + reprobeAfter.toNanos();
                return WriteOutcome.failed(Path.OTLP, cannot + "; the server answered " + r.status(), false);
            }
            return WriteOutcome.failed(Path.OTLP, r.message(), r.retryable());
        }).exceptionally(t -> failure(Path.OTLP, t));
    }

    private CompletableFuture<WriteOutcome> writeOtlp(Trace trace, boolean sequential) {
        TraceInfo info = TraceInfoCompleter.complete(trace);
        String runId = info.metadata().get(MlflowKeys.Metadata.SOURCE_RUN);
        CompletableFuture<Started> start = client.startTraceV3(info)
                .handle((ok, t) -> new Started(ok, t == null ? null : failure(Path.OTLP, t)));
        // In order, the spans still go whatever StartTraceV3 answered, as they would together: the
        // OTLP answer is what tells whether this server ingests spans at all.
        CompletableFuture<OtlpExportResult> spans = trace.spans().isEmpty()
                ? CompletableFuture.completedFuture(OtlpExportResult.ok())
                : sequential ? start.thenCompose(s -> batcher.submit(info.experimentId(), runId, trace.spans()))
                : batcher.submit(info.experimentId(), runId, trace.spans());
        return spans.thenCombine(start, Attempt::new).thenCompose(a -> {
            if (a.otlp().outcome() != OtlpExportResult.Outcome.UNSUPPORTED) {
                otlpUnsupportedUntil = 0;
                return CompletableFuture.completedFuture(a.outcome());
            }
            otlpUnsupportedUntil = nanoClock.getAsLong() + reprobeAfter.toNanos();
            if (a.start().failure() != null) {
                return CompletableFuture.completedFuture(a.start().failure().withPath(Path.TRACES_JSON));
            }
            // StartTraceV3 already went through: only the spans are missing. Not repeating it
            // matters, since a file store answers a second StartTraceV3 with a 500.
            return finish(Path.TRACES_JSON, upload(Path.TRACES_JSON, a.start().result().artifactLocation(), trace));
        });
    }

    private CompletableFuture<WriteOutcome> writeTracesJson(Trace trace, Path path) {
        TraceInfo info = TraceInfoCompleter.complete(trace);
        CompletableFuture<String> artifactLocation = client.startTraceV3(info)
                .thenApply(StartTraceResult::artifactLocation)
                .exceptionallyCompose(t -> alreadyStarted(info.traceId(), t));
        return finish(path, artifactLocation.thenCompose(location -> upload(path, location, trace)));
    }

    /**
     * A retry after a failed upload finds the trace already started, and not every store
     * upserts (the file store answers 500). If the server has the trace, upload to it anyway.
     */
    private CompletableFuture<String> alreadyStarted(String traceId, Throwable startFailure) {
        MlflowClientException e = MlflowRest.asClientException(startFailure, "StartTraceV3");
        if (e.status() < 400) {
            return CompletableFuture.failedFuture(e);
        }
        return client.storedTraceInfo(traceId).handle((found, t) -> {
            if (t != null || found.isEmpty()) {
                throw e;
            }
            return found.get().path("tags").path(MlflowKeys.Tag.ARTIFACT_LOCATION).asText(null);
        });
    }

    private CompletableFuture<Void> upload(Path path, String artifactLocation, Trace trace) {
        String traceId = trace.info().traceId();
        return path == Path.DATABRICKS
                ? client.uploadTracesDatabricks(traceId, trace.spans())
                : client.uploadTracesJson(artifactLocation, traceId, trace.spans());
    }

    private static CompletableFuture<WriteOutcome> finish(Path path, CompletableFuture<Void> done) {
        return done.handle((ok, t) -> t == null ? WriteOutcome.delivered(path) : failure(path, t));
    }

    private static void validate(Trace trace) {
        TraceInfo info = trace.info();
        if (!TraceIds.isMlflowId(info.traceId())) {
            throw new IllegalArgumentException("trace id must be tr- and 32 lowercase hex: " + info.traceId());
        }
        if (info.experimentId() == null || info.experimentId().isBlank()) {
            throw new IllegalArgumentException("trace " + info.traceId() + " has no experiment id");
        }
        for (SpanData span : trace.spans()) {
            if (!info.otelTraceId().equals(span.traceId())) {
                throw new IllegalArgumentException("span " + span.spanId() + " belongs to trace " + span.traceId()
                        + ", not " + info.traceId());
            }
        }
    }

    private static WriteOutcome failure(Path path, Throwable t) {
        MlflowClientException e = MlflowRest.asClientException(t, "write");
        return WriteOutcome.failed(path, e.getMessage(), e.retryable());
    }

    /** StartTraceV3's result, or how it failed. */
    private record Started(StartTraceResult result, WriteOutcome failure) {
    }

    /** Both halves of path A; a failure of either fails the write. */
    private record Attempt(OtlpExportResult otlp, Started start) {
        WriteOutcome outcome() {
            WriteOutcome startFailure = start.failure();
            if (otlp.outcome() == OtlpExportResult.Outcome.OK) {
                return startFailure == null ? WriteOutcome.delivered(Path.OTLP) : startFailure;
            }
            if (startFailure == null) {
                return WriteOutcome.failed(Path.OTLP, otlp.message(), otlp.retryable());
            }
            return WriteOutcome.failed(Path.OTLP, otlp.message() + "; " + startFailure.reason(),
                    otlp.retryable() && startFailure.retryable());
        }
    }
}
