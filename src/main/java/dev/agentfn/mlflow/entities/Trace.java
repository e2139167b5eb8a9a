package dev.agentfn.mlflow.entities;

import java.util.ArrayList;
import java.util.List;

/**
 * A complete trace: its info and every finished span, root included.
 *
 * @param spansOnly the spans join a trace someone else owns (a caller sent a W3C {@code traceparent} pointing into
 *     its own trace): only the spans are written, never the trace's record, so nothing of the owner's is
 *     overwritten. MLflow's own distributed tracing writes a remote process's spans the same way.
 */
public record Trace(TraceInfo info, List<SpanData> spans, boolean spansOnly) {
    public Trace {
        spans = List.copyOf(spans);
    }

    public Trace(TraceInfo info, List<SpanData> spans) {
        this(info, spans, false);
    }

    /** This trace's spans as children of a caller's span in the caller's trace (same trace id), to be written alone. */
    public Trace joinedUnder(String parentSpanId) {
        List<SpanData> moved = new ArrayList<>(spans.size());
        for (SpanData s : spans) {
            moved.add(s.isRoot() ? new SpanData(s.traceId(), s.spanId(), parentSpanId, s.name(), s.startTimeUnixNano(),
                    s.endTimeUnixNano(), s.status(), s.attributes(), s.events()) : s);
        }
        return new Trace(info, moved, true);
    }

    public Trace withInfo(TraceInfo newInfo) {
        return new Trace(newInfo, spans, spansOnly);
    }
}
