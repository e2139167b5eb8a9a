package dev.agentfn.tracing;

import com.fasterxml.jackson.databind.JsonNode;
import dev.agentfn.mlflow.MlflowKeys;
import dev.agentfn.mlflow.entities.SpanData;
import dev.agentfn.mlflow.entities.SpanEvent;
import dev.agentfn.mlflow.entities.SpanStatus;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A span being recorded. Values go through the trace's {@link AttributePolicy} on the way in.
 * Thread-safe: tool calls of one turn finish on different threads.
 */
public final class LiveSpan {
    private final ActiveTrace trace;
    private final String spanId;
    private final String parentSpanId;
    private final String name;
    private final long startNanos;
    private final Map<String, Object> attributes = new LinkedHashMap<>();
    private final List<SpanEvent> events = new ArrayList<>();
    private SpanStatus status = SpanStatus.UNSET;
    private boolean ended;

    LiveSpan(ActiveTrace trace, String parentSpanId, String name, String type, long startNanos) {
        this(trace, Ids.newSpanId(), parentSpanId, name, type, startNanos);
    }

    LiveSpan(ActiveTrace trace, String spanId, String parentSpanId, String name, String type, long startNanos) {
        this.trace = trace;
        this.spanId = spanId;
        this.parentSpanId = parentSpanId;
        this.name = name;
        this.startNanos = startNanos;
        attributes.put(MlflowKeys.Span.TYPE, type);
    }

    public String spanId() {
        return spanId;
    }

    public String name() {
        return name;
    }

    public long startNanos() {
        return startNanos;
    }

    /** {@code false} when the trace will not be exported; see {@link ActiveTrace#isRecording()}. */
    public boolean isRecording() {
        return trace.isRecording();
    }

    public synchronized LiveSpan attribute(String key, Object value) {
        if (value != null && !ended && trace.isRecording()) {
            attributes.put(key, trace.policy().clean(value));
        }
        return this;
    }

    /** Prompt or answer content: dropped when the deployment records metadata only. */
    public LiveSpan contentAttribute(String key, Object value) {
        return trace.policy().recordContent() ? attribute(key, value) : this;
    }

    /**
     * Prompt or answer content given as a JSON tree: recorded as maps and lists, cleaned in the same walk that
     * converts it ({@link AttributePolicy#cleanTree}); dropped when the deployment records metadata only.
     */
    public LiveSpan contentTree(String key, JsonNode value) {
        if (!trace.policy().recordContent() || !trace.isRecording()) {
            return this;
        }
        Object clean = trace.policy().cleanTree(value);
        return clean == null ? this : attribute(key, new AttributePolicy.Cleaned(clean));
    }

    public LiveSpan inputs(Object value) {
        return contentAttribute(MlflowKeys.Span.INPUTS, value);
    }

    public LiveSpan outputs(Object value) {
        return contentAttribute(MlflowKeys.Span.OUTPUTS, value);
    }

    public synchronized LiveSpan event(String eventName, Map<String, Object> eventAttributes) {
        if (!ended && trace.isRecording()) {
            @SuppressWarnings("unchecked")
            Map<String, Object> clean = (Map<String, Object>) trace.policy().clean(eventAttributes);
            events.add(new SpanEvent(eventName, trace.clock().nowEpochNanos(), clean));
        }
        return this;
    }

    /** MLflow's exception shape: an {@code exception} event and an ERROR status "Type: message". */
    public LiveSpan recordError(String type, String message, Throwable cause) {
        if (!trace.isRecording()) {
            return status(SpanStatus.error(type));
        }
        Map<String, Object> attrs = new LinkedHashMap<>();
        attrs.put("exception.type", type);
        attrs.put("exception.message", message == null ? "" : message);
        if (cause != null && trace.recordStackTraces()) {
            StringWriter sw = new StringWriter();
            cause.printStackTrace(new PrintWriter(sw));
            attrs.put("exception.stacktrace", sw.toString());
        }
        event("exception", attrs);
        raiseLogLevel(MlflowKeys.LogLevel.ERROR);
        return status(SpanStatus.error(type + ": " + (message == null ? "" : trace.policy().redact(message))));
    }

    /** Sets the span's severity for MLflow's span filter; never lowers one already set (an error stays an error). */
    public synchronized LiveSpan raiseLogLevel(int level) {
        if (!ended && trace.isRecording() && logLevel() < level) {
            attributes.put(MlflowKeys.Span.LOG_LEVEL, level);
        }
        return this;
    }

    private int logLevel() {
        return attributes.get(MlflowKeys.Span.LOG_LEVEL) instanceof Integer i ? i : 0;
    }

    /** MLflow's default severity ({@code default_log_level_for_span_type}): INFO for what users look at, else DEBUG. */
    private static int defaultLogLevel(Object type) {
        return switch (String.valueOf(type)) {
            case "LLM", "CHAT_MODEL", "TOOL", "RETRIEVER", "AGENT", "EMBEDDING" -> MlflowKeys.LogLevel.INFO;
            default -> MlflowKeys.LogLevel.DEBUG;
        };
    }

    public synchronized LiveSpan status(SpanStatus newStatus) {
        if (!ended) {
            status = newStatus;
        }
        return this;
    }

    public synchronized boolean isError() {
        return status.code() == SpanStatus.Code.ERROR;
    }

    public void end() {
        endAt(trace.clock().nowEpochNanos());
    }

    /** Ends the span at a time already past, for work whose timing is known only afterwards. */
    public void endAt(long endNanos) {
        SpanData data;
        synchronized (this) {
            if (ended) {
                return;
            }
            if (trace.isRecording() && logLevel() == 0) {
                attributes.put(MlflowKeys.Span.LOG_LEVEL, defaultLogLevel(attributes.get(MlflowKeys.Span.TYPE)));
            }
            ended = true;
            SpanStatus finalStatus = status.code() == SpanStatus.Code.UNSET ? SpanStatus.OK : status;
            data = new SpanData(trace.otelTraceId(), spanId, parentSpanId, name, startNanos,
                    Math.max(startNanos, endNanos), finalStatus, attributes, events);
        }
        trace.finished(data);
    }
}
