package dev.agentfn.tracing;

import java.util.Optional;

/** Starts traces under one recording policy. */
public final class Tracer {
    private final SpanClock clock;
    private final AttributePolicy policy;
    private final boolean recordStackTraces;

    public Tracer(SpanClock clock, AttributePolicy policy, boolean recordStackTraces) {
        this.clock = clock;
        this.policy = policy;
        this.recordStackTraces = recordStackTraces;
    }

    /**
     * Starts a trace whose root span has the given name and type. A valid incoming {@code traceparent}
     * lends its trace id, so a gateway's or caller's trace links up; the caller's span id is kept as an
     * attribute because MLflow needs a parentless root.
     */
    public ActiveTrace start(String rootName, String rootType, Optional<Ids.Parent> parent) {
        String traceId = parent.map(Ids.Parent::traceId).orElseGet(Ids::newTraceId);
        ActiveTrace trace = new ActiveTrace(traceId, rootName, rootType, clock, policy, recordStackTraces);
        parent.ifPresent(p -> trace.root().attribute("agentfn.parent_span_id", p.spanId()));
        return trace;
    }

    public AttributePolicy policy() {
        return policy;
    }
}
