package dev.agentfn.tracing;

import java.util.Optional;

/** Starts traces under one recording policy. */
public final class Tracer {
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
     * Starts a trace whose root span has the given name and type. A valid incoming {@code traceparent}
     * lends its trace id, so a gateway's or caller's trace links up; the caller's span id is kept as an
     * attribute because MLflow needs a parentless root.
     */
    public ActiveTrace start(String rootName, String rootType, Optional<Ids.Parent> parent) {
        String traceId = parent.map(Ids.Parent::traceId).orElseGet(Ids::newTraceId);
        ActiveTrace trace = new ActiveTrace(traceId, rootName, rootType, clock, policy, recordStackTraces, recording);
        parent.ifPresent(p -> trace.root().attribute("agentfn.parent_span_id", p.spanId()));
        return trace;
    }

    public boolean recording() {
        return recording;
    }

    public AttributePolicy policy() {
        return policy;
    }
}
