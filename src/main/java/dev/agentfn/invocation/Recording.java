package dev.agentfn.invocation;

import dev.agentfn.tracing.ActiveTrace;
import dev.agentfn.tracing.LiveSpan;
import dev.agentfn.tracing.TraceDelivery;
import java.util.concurrent.CompletableFuture;

/**
 * One trace being recorded by a {@link Recorder}: its root span is this object, its child spans are
 * {@link Step}s. {@link #deliver()} ends it; values pass through the same attribute policy (size caps, redaction)
 * as an invocation's.
 */
public final class Recording {
    private final ActiveTrace trace;
    private final TraceDelivery delivery;

    Recording(ActiveTrace trace, TraceDelivery delivery) {
        this.trace = trace;
        this.delivery = delivery;
    }

    /** MLflow's {@code tr-} trace id. */
    public String traceId() {
        return trace.traceId();
    }

    public String rootSpanId() {
        return trace.root().spanId();
    }

    public Recording inputs(Object value) {
        trace.root().inputs(value);
        return this;
    }

    public Recording outputs(Object value) {
        trace.root().outputs(value);
        return this;
    }

    /** Marks the root span failed, with an exception event of that type and message. */
    public Recording error(String type, String message) {
        trace.root().recordError(type, message, null);
        return this;
    }

    public Recording attribute(String key, Object value) {
        trace.root().attribute(key, value);
        return this;
    }

    public Recording metadata(String key, String value) {
        trace.metadata(key, value);
        return this;
    }

    public Recording tag(String key, String value) {
        trace.tag(key, value);
        return this;
    }

    public Recording requestPreview(String text) {
        trace.requestPreview(text);
        return this;
    }

    public Recording responsePreview(String text) {
        trace.responsePreview(text);
        return this;
    }

    /** A child span of the root, started now. */
    public Step step(String name, String spanType) {
        return new Step(trace.startSpan(name, spanType, trace.root()));
    }

    /** Ends the trace and delivers it; completes when MLflow confirmed it or it was spooled, never exceptionally. */
    public CompletableFuture<Void> deliver() {
        return delivery.deliver(trace.finish()).handle((status, t) -> null);
    }

    /** A child span: a model call, a request. */
    public static final class Step {
        private final LiveSpan span;

        private Step(LiveSpan span) {
            this.span = span;
        }

        public Step attribute(String key, Object value) {
            span.attribute(key, value);
            return this;
        }

        public Step inputs(Object value) {
            span.inputs(value);
            return this;
        }

        public Step outputs(Object value) {
            span.outputs(value);
            return this;
        }

        public Step error(String type, String message) {
            span.recordError(type, message, null);
            return this;
        }

        public void end() {
            span.end();
        }
    }
}
