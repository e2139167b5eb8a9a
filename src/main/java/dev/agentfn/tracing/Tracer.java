package dev.agentfn.tracing;

import java.util.Optional;

/** Starts traces under one recording policy. */
public final class Tracer {
    /** The span id of a caller's {@code traceparent} (root attribute). */
    public static final String PARENT_SPAN_ID = "agentfn.parent_span_id";
    /** The trace id of a caller's {@code traceparent} (root attribute and trace metadata). */
    public static final String PARENT_TRACE_ID = "agentfn.parent_trace_id";
    private final SpanClock clock;
    private final AttributePolicy policy;
    private final boolean recordStackTraces;
    private final boolean recording;

    public Tracer(SpanClock clock, AttributePolicy policy, boolean recordStackTraces) {
        this(clock, policy, recordStackTraces, true);
    }

    /**
     * @param recording {@code false} when no trace will be exported (tracing off): traces and spans keep their
     *        ids, timing and status, but attributes, events and metadata are dropped on the way in, so an
     *        invocation neither builds nor holds what nobody will read (OpenTelemetry's non-recording span)
     */
    public Tracer(SpanClock clock, AttributePolicy policy, boolean recordStackTraces, boolean recording) {
        this.clock = clock;
        this.policy = policy;
        this.recordStackTraces = recordStackTraces;
        this.recording = recording;
    }

    /**
     * Starts a trace whose root span has the given name and type, always under a fresh trace id. A caller's
     * {@code traceparent} is the parent, as in OpenTelemetry, but MLflow keeps one record per trace id: taking the
     * caller's id would let two invocations (or any caller) merge into, or overwrite, a trace they do not own.
     * The caller's ids are recorded instead (root attributes, and metadata to search by).
     */
    public ActiveTrace start(String rootName, String rootType, Optional<Ids.Parent> parent) {
        ActiveTrace trace = new ActiveTrace(Ids.newTraceId(), rootName, rootType, clock, policy, recordStackTraces,
                recording);
        parent.ifPresent(p -> {
            trace.root().attribute(PARENT_SPAN_ID, p.spanId()).attribute(PARENT_TRACE_ID, p.traceId());
            trace.metadata(PARENT_TRACE_ID, p.traceId());
        });
        return trace;
    }

    /**
     * A trace whose ids and root start are known already: one piece of a trace that several requests (perhaps on
     * several processes) write, each under the same derived ids ({@link Ids#derived}).
     */
    public ActiveTrace resume(String otelTraceId, String rootSpanId, String rootName, String rootType,
            long rootStartNanos) {
        return new ActiveTrace(otelTraceId, rootSpanId, rootStartNanos, rootName, rootType, clock, policy,
                recordStackTraces, recording);
    }

    /** This tracer with content recording switched as a front door of its own asks (the gateway's capture switch). */
    public Tracer withContent(boolean recordContent) {
        return recordContent == policy.recordContent() ? this
                : new Tracer(clock, policy.withContent(recordContent), recordStackTraces, recording);
    }

    public long nowNanos() {
        return clock.nowEpochNanos();
    }

    public boolean recording() {
        return recording;
    }

    public AttributePolicy policy() {
        return policy;
    }
}
