package dev.agentfn.tracing;

import dev.agentfn.mlflow.entities.TraceIds;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.agentfn.mlflow.MlflowKeys;
import dev.agentfn.mlflow.entities.SpanData;
import dev.agentfn.mlflow.entities.Trace;
import dev.agentfn.mlflow.entities.TraceInfo;
import dev.agentfn.mlflow.entities.TraceState;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedQueue;

/**
 * The trace of one invocation while it runs. Spans are started from here and collected when they
 * end; {@link #finish} ends the root and freezes everything into an immutable {@link Trace}.
 */
public final class ActiveTrace {
    private static final int PREVIEW_CHARS = 1000;
    private static final ObjectMapper JSON = new ObjectMapper();

    private final String otelTraceId;
    private final SpanClock clock;
    private final AttributePolicy policy;
    private final boolean recordStackTraces;
    private final boolean recording;
    private final ConcurrentLinkedQueue<SpanData> finished = new ConcurrentLinkedQueue<>();
    private final Map<String, String> metadata = new LinkedHashMap<>();
    private final Map<String, String> tags = new LinkedHashMap<>();
    private final LiveSpan root;
    private String requestPreview = "";
    private String responsePreview = "";

    ActiveTrace(String otelTraceId, String rootName, String rootType, SpanClock clock, AttributePolicy policy,
            boolean recordStackTraces, boolean recording) {
        this(otelTraceId, Ids.newSpanId(), clock.nowEpochNanos(), rootName, rootType, clock, policy, recordStackTraces,
                recording);
    }

    ActiveTrace(String otelTraceId, String rootSpanId, long rootStartNanos, String rootName, String rootType,
            SpanClock clock, AttributePolicy policy, boolean recordStackTraces, boolean recording) {
        this.otelTraceId = otelTraceId;
        this.recording = recording;
        this.clock = clock;
        this.policy = policy;
        this.recordStackTraces = recordStackTraces;
        this.root = new LiveSpan(this, rootSpanId, null, rootName, rootType, rootStartNanos);
        metadata.put(MlflowKeys.Metadata.SCHEMA_VERSION, "3");
        tags.put(MlflowKeys.Tag.TRACE_NAME, rootName);
    }

    /** MLflow's id of this trace ({@link TraceIds}). */
    public String traceId() {
        return TraceIds.mlflow(otelTraceId);
    }

    /** The W3C {@code traceparent} of the root span, for a child process that traces on its own (the CLI). */
    public String traceparent() {
        return Ids.traceparent(otelTraceId, root.spanId());
    }

    public String otelTraceId() {
        return otelTraceId;
    }

    /**
     * {@code false} when the trace will not be exported: values handed to it are dropped, so callers skip
     * building costly ones (request bodies as maps, usage JSON).
     */
    public boolean isRecording() {
        return recording;
    }

    public LiveSpan root() {
        return root;
    }

    public LiveSpan startSpan(String name, String type, LiveSpan parent) {
        return new LiveSpan(this, parent.spanId(), name, type, clock.nowEpochNanos());
    }

    /**
     * A span with a given id under a parent given by id, for traces written piece by piece by processes that
     * share no memory (the gateway): each derives the same ids, and MLflow replaces a re-sent span by its id.
     */
    public LiveSpan startSpanWithId(String spanId, String name, String type, String parentSpanId, long startNanos) {
        return new LiveSpan(this, spanId, parentSpanId, name, type, startNanos);
    }

    /** A span that started earlier than now, for work whose timing is known only afterwards. */
    public LiveSpan startSpanAt(String name, String type, LiveSpan parent, long startNanos) {
        return new LiveSpan(this, parent.spanId(), name, type, startNanos);
    }

    /**
     * A value cleaned once for use in many spans' attributes (they share it instead of each copying it);
     * {@code null} when no content is recorded, so callers need not keep it.
     */
    public AttributePolicy.Cleaned cleaned(Object value) {
        return recording && policy.recordContent() ? new AttributePolicy.Cleaned(policy.clean(value)) : null;
    }

    public long nowNanos() {
        return clock.nowEpochNanos();
    }

    public synchronized ActiveTrace metadata(String key, String value) {
        if (value != null && recording) {
            metadata.put(key, policy.redact(value));
        }
        return this;
    }

    public synchronized ActiveTrace tag(String key, String value) {
        if (value != null && recording) {
            tags.put(key, policy.redact(value));
        }
        return this;
    }

    /** Metadata whose value is JSON (token usage, cost). */
    public ActiveTrace jsonMetadata(String key, Object value) {
        if (!recording) {
            return this;
        }
        try {
            return metadata(key, JSON.writeValueAsString(value));
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    public synchronized ActiveTrace requestPreview(String request) {
        if (recording && policy.recordContent()) {
            requestPreview = preview(request);
        }
        return this;
    }

    public synchronized ActiveTrace responsePreview(String response) {
        if (recording && policy.recordContent()) {
            responsePreview = preview(response);
        }
        return this;
    }

    /** Ends the root span (and nothing else: children were ended by their owners) and freezes the trace. */
    public Trace finish() {
        root.end();
        List<SpanData> spans = List.copyOf(finished);
        SpanData rootData = spans.stream().filter(SpanData::isRoot).findFirst().orElseThrow();
        TraceState state = rootData.status().code() == dev.agentfn.mlflow.entities.SpanStatus.Code.ERROR
                ? TraceState.ERROR : TraceState.OK;
        long startMs = rootData.startTimeUnixNano() / 1_000_000L;
        long durationMs = (rootData.endTimeUnixNano() - rootData.startTimeUnixNano()) / 1_000_000L;
        synchronized (this) {
            TraceInfo info = new TraceInfo(traceId(), null, null, startMs, durationMs, state, requestPreview,
                    responsePreview, metadata, tags);
            return new Trace(info, spans);
        }
    }

    SpanClock clock() {
        return clock;
    }

    AttributePolicy policy() {
        return policy;
    }

    boolean recordStackTraces() {
        return recordStackTraces;
    }

    void finished(SpanData span) {
        finished.add(span);
    }

    private String preview(String s) {
        if (s == null) {
            return "";
        }
        String clean = policy.redact(s);
        return clean.length() <= PREVIEW_CHARS ? clean : clean.substring(0, PREVIEW_CHARS);
    }
}
