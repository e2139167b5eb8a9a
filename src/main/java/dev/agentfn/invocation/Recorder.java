package dev.agentfn.invocation;

import dev.agentfn.tracing.TraceDelivery;
import dev.agentfn.tracing.Tracer;
import java.util.Optional;

/**
 * Records work that is not a conversation as a trace of its own, delivered like an invocation's: a judge's
 * call (as MLflow traces a scorer call) or an evaluation row whose remote invocation left no trace. Front doors
 * and evaluation reach tracing only through this stage, so they never build spans themselves.
 */
public final class Recorder {
    private final Tracer tracer;
    private final TraceDelivery delivery;

    public Recorder(Tracer tracer, TraceDelivery delivery) {
        this.tracer = tracer;
        this.delivery = delivery;
    }

    /** False when traces go nowhere (no MLflow): then there is nothing to record. */
    public boolean enabled() {
        return delivery.enabled();
    }

    /** A new trace whose root span is named {@code name} and typed {@code spanType} ({@code MlflowKeys.SpanType}). */
    public Recording start(String name, String spanType) {
        return new Recording(tracer.start(name, spanType, Optional.empty()), delivery);
    }
}
