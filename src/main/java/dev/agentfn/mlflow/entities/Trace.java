package dev.agentfn.mlflow.entities;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

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

    /**
     * This trace as MLflow stores it once {@code later}, a later write of it, was sent after it: spans upserted by id
     * (the later copy of a span wins), the later info, metadata upserted key by key, the stored previews kept where
     * the later write has none, and the later write's tags (MLflow 3.17's StartTraceV3 on an existing trace). A
     * gateway turn is written after each call, each write holding the spans that call ended plus the root, so the
     * writes a spool holds of it are sent as one.
     */
    public Trace rewrittenBy(Trace later) {
        Map<String, SpanData> byId = new LinkedHashMap<>();
        spans.forEach(s -> byId.put(s.spanId(), s));
        later.spans.forEach(s -> byId.put(s.spanId(), s));
        TraceInfo l = later.info;
        Map<String, String> metadata = new LinkedHashMap<>(info.metadata());
        metadata.putAll(l.metadata());
        TraceInfo merged = new TraceInfo(l.traceId(), l.experimentId(), l.clientRequestId(), l.requestTimeMillis(),
                l.executionDurationMillis(), l.state(), orKept(l.requestPreview(), info.requestPreview()),
                orKept(l.responsePreview(), info.responsePreview()), metadata, l.tags());
        return new Trace(merged, new ArrayList<>(byId.values()), later.spansOnly);
    }

    private static String orKept(String sent, String stored) {
        return sent == null || sent.isEmpty() ? stored : sent;
    }

    public Trace withInfo(TraceInfo newInfo) {
        return new Trace(newInfo, spans, spansOnly);
    }
}
